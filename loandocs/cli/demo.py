"""``make run``: the API and one worker on embedded defaults, plus two demo applications.

At start the sample generator writes one invented person's four materials (ID front, ID back,
income certificate, 6-month bank statement), dated relative to today so they never go stale,
into ``<data dir>/demo/complete``, and a second person's set whose ID card has expired into
``<data dir>/demo/expired``. Each set is uploaded as its own application: the first ends
``collected`` (the happy path), the second ``needs_supplement`` (待补充) with
``document_expired``. The README's curl session uploads ``demo/complete`` again by hand.

For a first look on a bare machine, not production (there, run ``loandocs serve`` and any
number of ``loandocs worker`` processes).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

# Seeds of application_bundle whose people are known to pass every check (3), and to fail only
# the ID card's validity when drawn "expired" (5): tests/test_e2e_service.py asserts both.
COMPLETE_SEED = 3
EXPIRED_SEED = 5
CST = dt.timezone(dt.timedelta(hours=8))  # application dates are China dates (store/repository)
DONE = {"collected", "needs_supplement"}
WAIT_FOR_WORKER_S = 600  # a busy 2-core machine reads eight documents in well under this


def _request(url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 60) -> dict:
    req = urllib.request.Request(url, data=body, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def _post_json(url: str, body: dict) -> dict:
    return _request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})


def _upload(url: str, path: Path, token: str) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return _request(url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}",
                                "Authorization": f"Bearer {token}"})


def _wait_healthy(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the API did not come up at {base}")


def demo_documents(data_dir: Path, today: dt.date | None = None) -> dict[str, list[Path]]:
    """Write the two demo sets under ``data_dir/demo`` for an application made ``today``."""
    from loandocs.samplegen.bundle import application_bundle

    today = today or dt.datetime.now(CST).date()
    root = data_dir / "demo"
    return {
        "complete": application_bundle(root / "complete", seed=COMPLETE_SEED, reference=today),
        "expired": application_bundle(root / "expired", seed=EXPIRED_SEED, validity="expired", reference=today),
    }


def create_application(base: str, files: list[Path], applicant_name: str) -> dict:
    app = _post_json(base + "/v1/applications", {
        "applicant_name": applicant_name,
        "loan_type": "personal_consumer",
        "amount": 50000,  # yuan
        "term_months": 12,
        "purpose": "装修",
        "consent": {"agreed": True, "version": "2026-11", "channel": "api"},
    })
    for path in files:
        _upload(f"{base}/v1/applications/{app['id']}/documents", path, app["applicant_token"])
    return app


def demo_reviewer_token(data_dir: Path) -> str:
    """A reviewer token for the demo, made directly in the database as `loandocs token create`
    would, and kept in ``data_dir/demo/reviewer.token`` (mode 0600) for the README's curl lines."""
    from loandocs.services import get_services
    from loandocs.store import access

    with get_services().sessions() as session:
        token, _ = access.create_token(session, role="reviewer", name=f"demo-reviewer-{uuid.uuid4().hex[:6]}",
                                       created_by="make run")
        session.commit()
    path = data_dir / "demo" / "reviewer.token"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def _wait_done(base: str, apps: dict[str, dict], token: str) -> dict[str, dict]:
    """Poll each application (as the reviewer) until the worker has read all its files."""
    deadline = time.monotonic() + WAIT_FOR_WORKER_S
    got: dict[str, dict] = {}
    while time.monotonic() < deadline and len(got) < len(apps):
        for key, app in apps.items():
            if key in got:
                continue
            view = _request(f"{base}/v1/applications/{app['id']}", headers={"Authorization": f"Bearer {token}"})
            if view["status"] in DONE and all(d["status"] in ("extracted", "failed") for d in view["documents"]):
                got[key] = view
        time.sleep(2)
    return got


def _announce(base: str, data_dir: Path, sets: dict[str, list[Path]], names: dict[str, str]) -> None:
    try:
        _wait_healthy(base)
        apps = {key: create_application(base, files, names[key]) for key, files in sets.items()}
        reviewer = demo_reviewer_token(data_dir)
    except Exception as exc:  # the service still runs; say why there is no demo application
        print(f"could not create the demo applications: {exc}", file=sys.stderr, flush=True)
        return
    complete = apps["complete"]
    print(f"\nloandocs is running at {base} (data in {data_dir})", flush=True)
    print(f"  OpenAPI             {base}/openapi.json")
    print(f"  reviewer token      {reviewer}   (also in {data_dir / 'demo' / 'reviewer.token'})")
    print(f"  reviewer pages      {base}/review   (sign in with the reviewer token)")
    print(f"  applicant page      {base}/apply")
    for key, app in apps.items():
        print(f"  demo application ({key}) {app['application_no']}: {base}/v1/applications/{app['id']}")
        print(f"    applicant token   {app['applicant_token']}")
    print(f"  status lookup       {base}/v1/status/{complete['application_no']}")
    print("The worker is reading the demo documents; the outcome follows. Ctrl-C stops.\n", flush=True)
    try:
        done = _wait_done(base, apps, reviewer)
    except Exception as exc:  # noqa: BLE001 - the service still runs
        print(f"could not follow the demo applications: {exc}", file=sys.stderr, flush=True)
        return
    for key, app in apps.items():
        view = done.get(key)
        if view is None:
            print(f"demo application ({key}) {app['application_no']}: still being read", flush=True)
            continue
        line = f"demo application ({key}) {app['application_no']}: {view['status']}, completeness {view['completeness']}"
        reasons = [f"\n    待补充 {s['code']}: {s['message_zh']} / {s['message_en']}" for s in view["supplement"]]
        print(line + "".join(reasons), flush=True)


def run(host: str = "127.0.0.1", port: int = 8000, samples: str | None = None) -> int:  # noqa: ARG001
    """``samples`` is no longer used: the demo's documents are generated at start."""
    from loandocs.cli.serve import serve
    from loandocs.config import get_settings
    from loandocs.samplegen.bundle import application_bundle  # noqa: F401 - fail now without reportlab

    # A terminal, not a log collector: readable lines unless the operator asked for JSON
    # (LOANDOCS_LOG_FORMAT=json make run). `loandocs serve` and `worker` default to JSON.
    os.environ.setdefault("LOANDOCS_LOG_FORMAT", "text")
    data_dir = get_settings().data_dir.resolve()
    print(f"writing the demo documents under {data_dir / 'demo'} ...", flush=True)
    sets = demo_documents(data_dir)
    names = {key: _holder_name(files[0].parent) for key, files in sets.items()}
    # The worker is its own process (as in production); it finds the embedded Redis that
    # the API starts because both are given the same data dir.
    worker = subprocess.Popen([sys.executable, "-m", "loandocs.cli", "worker"], env=dict(os.environ))
    threading.Thread(target=_announce, args=(f"http://{host}:{port}", data_dir, sets, names), daemon=True).start()
    try:
        return serve(host, port)  # uvicorn wants the main thread for its signal handlers
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _holder_name(folder: Path) -> str:
    person = folder / "person.json"
    return json.loads(person.read_text(encoding="utf-8"))["name"] if person.is_file() else "示例申请人"
