"""``make run``: the API and one worker on embedded defaults, a sample application created
from ``samples/``, and the URLs printed. For a first look on a bare machine, not production
(there, run ``loandocs serve`` and any number of ``loandocs worker`` processes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

SAMPLE_FILES = (
    "idcards/combo_scan_001.jpg",
    "financial/income_pdf_001.pdf",
    "financial/statement_pdf_001.pdf",
)


def _post_json(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _upload(url: str, path: Path, token: str) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                                          "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _wait_healthy(base: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the API did not come up at {base}")


def create_sample_application(base: str, samples: Path) -> dict:
    app = _post_json(
        base + "/v1/applications",
        {
            "applicant_name": "样例申请人",
            "loan_type": "personal_consumer",
            "amount": 50000,
            "term_months": 12,
            "purpose": "装修",
            "consent": {"agreed": True, "version": "2026-11"},
        },
    )
    for rel in SAMPLE_FILES:
        path = samples / rel
        if path.is_file():
            _upload(f"{base}/v1/applications/{app['id']}/documents", path, app["applicant_token"])
    return app


def demo_reviewer_token() -> str:
    """A reviewer token for the demo, made directly in the database as `loandocs token create` would."""
    from loandocs.services import get_services
    from loandocs.store import access

    with get_services().sessions() as session:
        token, _ = access.create_token(session, role="reviewer", name="demo-reviewer", created_by="make run")
        session.commit()
    return token


def _announce(base: str, samples: Path) -> None:
    try:
        _wait_healthy(base)
        app = create_sample_application(base, samples)
        reviewer = demo_reviewer_token()
    except Exception as exc:  # the service still runs; say why there is no sample
        print(f"could not create the sample application: {exc}", file=sys.stderr, flush=True)
        return
    print(f"\nloandocs is running (data in {os.environ.get('LOANDOCS_DATA_DIR', './data')})")
    print(f"  OpenAPI            {base}/openapi.json")
    print(f"  sample application {base}/v1/applications/{app['id']}")
    print(f"    as its applicant: Authorization: Bearer {app['applicant_token']}")
    print(f"  reviewer token     {reviewer}")
    print(f"    e.g. curl -H 'Authorization: Bearer {reviewer}' {base}/v1/applications")
    print(f"  reviewer pages     {base}/review   (sign in with the reviewer token)")
    print(f"  applicant page     {base}/apply")
    print(f"  status lookup      {base}/v1/status/{app['application_no']}")
    print("The worker reads the sample documents now; reload the application to see them. Ctrl-C stops.\n", flush=True)


def run(host: str = "127.0.0.1", port: int = 8000, samples: str = "samples") -> int:
    from loandocs.cli.serve import serve

    # The worker is its own process (as in production); it finds the embedded Redis that
    # the API starts because both are given the same data dir.
    # A terminal, not a log collector: readable lines unless the operator asked for JSON.
    os.environ.setdefault("LOANDOCS_LOG_FORMAT", "text")
    worker = subprocess.Popen([sys.executable, "-m", "loandocs.cli", "worker"], env=dict(os.environ))
    threading.Thread(target=_announce, args=(f"http://{host}:{port}", Path(samples)), daemon=True).start()
    try:
        return serve(host, port)  # uvicorn wants the main thread for its signal handlers
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
