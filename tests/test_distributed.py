"""Hosts with no shared disk: the API and two workers as separate processes, each with its own
empty data folder, sharing only PostgreSQL (a throwaway schema), Redis (db 1,
``LOANDOCS_TEST_DISTRIBUTED_REDIS_URL``), the S3 server (SeaweedFS, the session fixture) and the
encryption key (``LOANDOCS_ENCRYPTION_KEY``). An application goes from upload to ``collected``,
the API serves the page images the workers stored, a subscriber is told by a signed webhook,
and no process wrote a file into its data folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from loandocs.config import Settings
from loandocs.samplegen.bundle import application_bundle
from loandocs.services import Services
from loandocs.store import crypto
from loandocs.store import webhooks as store

from .helpers import flushed_redis, pg_schema, staff_token, wait_until
from .s3server import free_ports
from .test_webhooks import Receiver

pytestmark = [pytest.mark.distributed, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOANDOCS_TEST_DISTRIBUTED_REDIS_URL", "redis://127.0.0.1:6379/1")


def test_api_and_two_workers_without_a_shared_disk(s3_server, tmp_path):
    prefix = s3_server.new_prefix()
    key = crypto.encode_key(crypto.new_key())
    with ExitStack() as stack:
        stack.enter_context(flushed_redis(REDIS_URL))
        db_url = stack.enter_context(pg_schema("dist"))
        common = {"LOANDOCS_DATABASE_URL": db_url, "LOANDOCS_REDIS_URL": REDIS_URL, "LOANDOCS_ENCRYPTION_KEY": key,
                  "LOANDOCS_OCR__THREADS": "1", "LOANDOCS_WEBHOOK_BACKOFF_S": "0.5", **s3_server.env(prefix)}
        # Migrate once before three processes start (they would race to create the tables), and
        # subscribe the lender's receiver; this process's data folder is not one of the hosts'.
        setup = Services(Settings(data_dir=tmp_path / "setup", database_url=db_url, redis_url=REDIS_URL,
                                  encryption_key=key, **s3_server.settings(prefix)))
        secret = store.new_secret()
        receiver = Receiver(secret)
        stack.callback(receiver.stop)
        with setup.sessions.begin() as s:
            store.add_subscription(s, receiver.url, [store.STATUS_CHANGED], secret=secret)
        reviewer = staff_token(setup, "reviewer")
        setup.engine.dispose()

        hosts = {name: tmp_path / name for name in ("api", "worker1", "worker2")}
        procs = {}
        (port,) = free_ports(1)
        for name, data in hosts.items():
            data.mkdir()
            env = dict(os.environ, **common, LOANDOCS_DATA_DIR=str(data))
            args = ["serve", "--host", "127.0.0.1", "--port", str(port)] if name == "api" else ["worker"]
            log = open(tmp_path / f"{name}.log", "w")
            stack.callback(log.close)
            procs[name] = subprocess.Popen([sys.executable, "-m", "loandocs.cli", *args], cwd=tmp_path, env=env,
                                           stdout=subprocess.DEVNULL, stderr=log)
        stack.callback(_stop, procs)

        base = f"http://127.0.0.1:{port}"
        client = stack.enter_context(httpx.Client(base_url=base, timeout=30))
        wait_until(lambda: _answers(client), 60, "the API to answer")
        r = client.post("/v1/applications", json={
            "applicant_name": "测试", "loan_type": "personal_consumer", "amount": 80000, "term_months": 24,
            "purpose": "装修", "application_date": "2026-11-29", "consent": {"agreed": True, "version": "2026-11"}})
        assert r.status_code == 201, r.text
        app = r.json()
        applicant = {"Authorization": f"Bearer {app['applicant_token']}"}
        for path in application_bundle(tmp_path / "bundle", seed=3):
            up = client.post(f"/v1/applications/{app['id']}/documents", headers=applicant,
                             files={"file": (path.name, path.read_bytes())})
            assert up.status_code == 202, up.text

        def finished():
            got = client.get(f"/v1/applications/{app['id']}", headers=applicant).json()
            return got if all(d["status"] in ("extracted", "failed") for d in got["documents"]) else None

        got = wait_until(finished, 600, "the two workers to read the four files", interval_s=1.0)
        assert got["status"] == "collected", (got["supplement"], _logs(tmp_path))
        assert {d["status"] for d in got["documents"]} == {"extracted"} and got["completeness"] == 100

        # The reviewer sees each page image, read by the API from the object store.
        staff = {"Authorization": f"Bearer {reviewer}"}
        for d in got["documents"]:
            page = client.get(f"/v1/documents/{d['id']}/pages/0/1.jpg", headers=staff)
            assert page.status_code == 200 and page.headers["content-type"] == "image/jpeg"
            assert page.content[:3] == b"\xff\xd8\xff"
        objects = s3_server.objects(prefix)
        assert len(objects) >= 8  # four uploads and at least one page image each, all encrypted
        assert all(raw.startswith(crypto.MAGIC) for raw in objects.values())

        # The lender heard of the application's moves, signed, from a worker.
        wait_until(lambda: "collected" in {p["data"]["new_status"] for p in receiver.processed.values()}, 60,
                   "the webhook for collected")
        assert all(r["verified"] for r in receiver.received)

        # No host wrote anything into its data folder: documents, page images, keys, SQLite and
        # Redis all live in the shared services.
        for name, data in hosts.items():
            assert [str(p.relative_to(data)) for p in data.rglob("*")] == [], name


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/readyz").status_code == 200
    except httpx.HTTPError:
        return False


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(tmp_path.glob("*.log")))


def _stop(procs: dict[str, subprocess.Popen]) -> None:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 60
    for p in procs.values():
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
