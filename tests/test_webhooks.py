"""Signed webhooks against a real HTTP receiver on loopback that verifies every signature with
the ``standardwebhooks`` verifier and processes each event id once: events from status changes
(the outbox), retries with backoff against a receiver that fails, times out or is down for a
while, the dead-letter list and redelivery, lost jobs found by the sweep, the admin route.
Real Redis (db 4, ``LOANDOCS_TEST_WEBHOOKS_REDIS_URL``) and rq (jobs run by in-process burst
workers, rq's own scheduler moving the delayed retries), SQLite; short backoff."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from rq.scheduler import RQScheduler
from standardwebhooks import Webhook

from loandocs.api import create_app
from loandocs.cli.main import main as cli
from loandocs.config import Settings
from loandocs.services import Services, set_services
from loandocs.store import repository as repo
from loandocs.store import webhooks as store
from loandocs.worker.queue import WEBHOOK_QUEUE
from loandocs.worker.runner import run_worker
from loandocs.worker.webhooks import deliver, sweep_deliveries

from .helpers import flushed_redis, staff_token, wait_until

REDIS_URL = os.environ.get("LOANDOCS_TEST_WEBHOOKS_REDIS_URL", "redis://127.0.0.1:6379/4")
NAME = "钱多多"


class Receiver:
    """A loopback HTTP server in the lender's place. ``plan`` says what each arriving request
    gets, in order (``ok``, ``500``, ``slow``: answers after the sender's timeout, having
    processed it); once the plan is used up every request gets ``ok``. It verifies each
    signature and processes each ``webhook-id`` once, as the spec tells receivers to."""

    def __init__(self, secret: str, plan: list[str] | None = None, port: int = 0):
        self.verifier = Webhook(secret)
        self.plan = list(plan or [])
        self.received: list[dict] = []  # every request: id, verified, what it got
        self.processed: dict[str, dict] = {}  # webhook-id -> payload, once each
        self.lock = threading.Lock()
        self._start(port)

    def _start(self, port: int) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = receiver.verifier.verify(body, headers)
                    verified = True
                except Exception:  # noqa: BLE001 - recorded and asserted on
                    payload, verified = None, False
                with receiver.lock:
                    what = receiver.plan.pop(0) if receiver.plan else "ok"
                    receiver.received.append({"id": headers.get("webhook-id"), "verified": verified, "got": what,
                                              "body": body, "headers": headers, "at": time.monotonic()})
                    if verified and what != "500":
                        receiver.processed.setdefault(headers["webhook-id"], payload)
                if what == "slow":
                    time.sleep(1.5)  # past the sender's 0.5 s timeout
                self.send_response(500 if what == "500" or not verified else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def restart(self) -> None:
        self._start(self.port)


@pytest.fixture
def svc(tmp_path):
    with flushed_redis(REDIS_URL):
        services = Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL, webhook_backoff_s=0.2,
                                     webhook_max_attempts=4, webhook_timeout_s=0.5))
        set_services(services)
        try:
            yield services
        finally:
            set_services(None)
            services.engine.dispose()


def work(svc) -> None:
    """One round of what the workers do: rq's scheduler moves due retries to the queue, then a
    burst worker runs everything queued."""
    scheduler = RQScheduler([WEBHOOK_QUEUE], connection=svc.redis)
    scheduler.acquire_locks()
    try:
        scheduler.enqueue_scheduled_jobs()
    finally:
        scheduler.release_locks()
    run_worker(svc, burst=True, queues=[WEBHOOK_QUEUE], warm=False)


def work_until(svc, condition, timeout_s: float, what: str):
    def step():
        work(svc)
        return condition()
    return wait_until(step, timeout_s, what, interval_s=0.1)


def subscribe(svc, url: str, types=store.EVENT_TYPES) -> str:
    with svc.sessions.begin() as s:
        _, secret = store.add_subscription(s, url, types, secret=SECRET)
    return secret


SECRET = store.new_secret()


def new_application(svc) -> repo.ApplicationRecord:
    with svc.sessions.begin() as s:
        app = repo.create_application(s, applicant_name=NAME, loan_type="personal_consumer", amount="1000",
                                      term_months=6, application_date=dt.date(2026, 11, 29))
        repo.record_consent(s, app.id, text_version="v1", channel="api")
    return app


def deliveries(svc, status=None):
    with svc.sessions() as s:
        return {d.id: (d, store.attempts_of(s, d.id)) for d in store.list_deliveries(s, status=status)}


def test_events_are_signed_carry_ids_and_codes_only_and_each_is_delivered_once(svc):
    receiver = Receiver(SECRET)
    try:
        subscribe(svc, receiver.url)
        app = new_application(svc)
        with svc.sessions.begin() as s:
            doc = repo.add_document(s, app.id, filename=f"{NAME}.jpg", content_type="image/jpeg", size=1,
                                    sha256="0" * 64, storage_key="0" * 64)
            bad = repo.add_document(s, app.id, filename="b.jpg", content_type="image/jpeg", size=1,
                                    sha256="1" * 64, storage_key="1" * 64)
        with svc.sessions.begin() as s:
            repo.set_document_status(s, doc.id, "processing")
            repo.set_document_status(s, doc.id, "extracted", doc_type="id_card_front")
            repo.set_document_status(s, bad.id, "failed", error_code="corrupt_file", error_message="bad")
            repo.change_status(s, app.id, "accepted", "system:worker", "documents received")
            repo.change_status(s, app.id, "needs_supplement", "system:worker", "document_expired")
            repo.set_supplement_requirements(s, app.id, [{"code": "document_expired", "message_zh": f"{NAME} 2020"},
                                                         {"code": "statement_stale"}])
        with svc.sessions.begin() as s:  # a change rolled back emits nothing
            repo.change_status(s, app.id, "accepted", "x", "new upload")
            s.rollback()
        with svc.sessions.begin() as s:
            repo.change_status(s, app.id, "accepted", "applicant", "new upload")
            repo.change_status(s, app.id, "collected", "system:worker", "completeness 100")
            repo.change_status(s, app.id, "under_review", "王审核", "claimed")
            repo.change_status(s, app.id, "rejected", "王审核", f"{NAME}的收入证明不可信")
        want = 2 + 6 + 1  # two documents, six status changes, one decision
        work_until(svc, lambda: len(receiver.processed) == want, 30, f"{want} events processed")
        assert all(r["verified"] for r in receiver.received) and len(receiver.received) == want

        events = [p for p in receiver.processed.values()]
        by_type: dict[str, list] = {}
        for e in events:
            by_type.setdefault(e["type"], []).append(e["data"])
        assert {d["document_id"]: (d["status"], d["doc_type"]) for d in by_type["document.extracted"]} == \
            {doc.id: ("extracted", "id_card_front")}
        assert by_type["document.failed"] == [{"application_id": app.id, "application_no": app.application_no,
                                               "document_id": bad.id, "status": "failed", "doc_type": None,
                                               "error_code": "corrupt_file"}]
        moves = sorted((d["old_status"], d["new_status"], tuple(d["reason_codes"])) for d in by_type["application.status_changed"])
        assert moves == sorted([("submitted", "accepted", ()), ("accepted", "needs_supplement", ("document_expired", "statement_stale")),
                                ("needs_supplement", "accepted", ()), ("accepted", "collected", ()),
                                ("collected", "under_review", ()), ("under_review", "rejected", ())])
        assert by_type["application.decided"] == [{"application_id": app.id, "application_no": app.application_no,
                                                   "old_status": "under_review", "new_status": "rejected",
                                                   "reason_codes": [], "decision": "rejected"}]
        for r in receiver.received:  # no personal data: not the name, not the reviewer's words
            assert NAME.encode() not in r["body"] and "王审核".encode() not in r["body"]
            assert set(r["headers"]) >= {"webhook-id", "webhook-timestamp", "webhook-signature"}
            assert r["headers"]["webhook-signature"].startswith("v1,")
            assert abs(int(r["headers"]["webhook-timestamp"]) - time.time()) < 60
        # Each delivery: delivered, one attempt with its status and time.
        got = deliveries(svc)
        assert {d.status for d, _ in got.values()} == {"delivered"} and len(got) == want
        assert all([(n, code) for n, _, code, _ in log] == [(1, 204)] for _, log in got.values())
        # A duplicate job (a sweep, a retried enqueue) for a delivered one sends nothing.
        assert {deliver(i) for i in got} == {"skipped"} and len(receiver.received) == want
    finally:
        receiver.stop()


def test_a_failing_receiver_gets_retries_with_growing_backoff(svc):
    receiver = Receiver(SECRET, plan=["500", "500"])
    try:
        subscribe(svc, receiver.url, [store.STATUS_CHANGED])
        app = new_application(svc)
        with svc.sessions.begin() as s:
            repo.change_status(s, app.id, "accepted", "system:worker", "documents received")
        work_until(svc, lambda: len(receiver.processed) == 1, 30, "the event after two 500s")
        assert [r["got"] for r in receiver.received] == ["500", "500", "ok"]
        assert len({r["id"] for r in receiver.received}) == 1  # the same webhook-id every time
        ((d, log),) = deliveries(svc).values()
        assert d.status == "delivered" and [(n, code) for n, _, code, _ in log] == [(1, 500), (2, 500), (3, 204)]
        gaps = [b["at"] - a["at"] for a, b in zip(receiver.received, receiver.received[1:])]
        assert gaps[0] >= 0.2 and gaps[1] >= 0.4  # backoff 0.2 s, then 0.4 s
    finally:
        receiver.stop()


def test_a_timeout_is_retried_and_the_receiver_processes_the_event_once(svc):
    receiver = Receiver(SECRET, plan=["slow"])
    try:
        subscribe(svc, receiver.url, [store.STATUS_CHANGED])
        app = new_application(svc)
        with svc.sessions.begin() as s:
            repo.change_status(s, app.id, "accepted", "system:worker", "documents received")
        work_until(svc, lambda: len(receiver.received) == 2 and deliveries(svc, "delivered"), 30, "a retry after the timeout")
        assert len(receiver.processed) == 1 and len({r["id"] for r in receiver.received}) == 1
        ((d, log),) = deliveries(svc).values()
        assert [(n, code, (err or "")[:7]) for n, _, code, err in log] == [(1, None, "timeout"), (2, 204, "")]
    finally:
        receiver.stop()


def test_a_receiver_down_for_a_while_loses_nothing(svc):
    receiver = Receiver(SECRET)
    try:
        subscribe(svc, receiver.url, [store.STATUS_CHANGED])
        receiver.stop()  # down
        app = new_application(svc)
        with svc.sessions.begin() as s:
            repo.change_status(s, app.id, "accepted", "system:worker", "documents received")
            repo.change_status(s, app.id, "collected", "system:worker", "completeness 100")
        work_until(svc, lambda: all(len(log) >= 2 for _, log in deliveries(svc).values()), 30, "two refused attempts each")
        assert receiver.received == []
        receiver.restart()  # back, same address
        work_until(svc, lambda: len(receiver.processed) == 2, 30, "both events after the receiver came back")
        assert {p["data"]["new_status"] for p in receiver.processed.values()} == {"accepted", "collected"}
        for d, log in deliveries(svc).values():
            assert d.status == "delivered" and log[0][2] is None and "ConnectError" in log[0][3] and log[-1][2] == 204
    finally:
        receiver.stop()


def test_dead_letter_list_and_redelivery_by_command(svc, capsys):
    receiver = Receiver(SECRET, plan=["500"] * 4)
    try:
        subscribe(svc, receiver.url, [store.STATUS_CHANGED])
        app = new_application(svc)
        with svc.sessions.begin() as s:
            repo.change_status(s, app.id, "accepted", "system:worker", "documents received")
        work_until(svc, lambda: deliveries(svc, "dead"), 30, "the delivery to go dead after 4 attempts")
        assert len(receiver.received) == 4 and receiver.processed == {}
        assert cli(["webhooks", "deliveries", "--status", "dead", "--json"]) == 0
        (row,) = json.loads(capsys.readouterr().out)
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("dead", 4, 500)
        assert [a["status_code"] for a in row["attempt_log"]] == [500] * 4

        assert cli(["webhooks", "redeliver", "--dead"]) == 0  # enqueued as the command commits
        work_until(svc, lambda: len(receiver.processed) == 1, 30, "the redelivered event")
        ((d, log),) = deliveries(svc).values()
        assert d.status == "delivered" and [code for _, _, code, _ in log] == [500] * 4 + [204]
        assert receiver.received[-1]["id"] == receiver.received[0]["id"]  # same event id
    finally:
        receiver.stop()


def test_deliveries_whose_jobs_were_lost_are_found_by_the_sweep(svc):
    receiver = Receiver(SECRET)
    try:
        subscribe(svc, receiver.url, [store.STATUS_CHANGED])
        app = new_application(svc)
        with svc.sessions.begin() as s:
            repo.change_status(s, app.id, "accepted", "system:worker", "documents received")
        svc.redis.flushdb()  # Redis lost the job (or was down when the commit enqueued it)
        work(svc)
        assert receiver.received == [] and deliveries(svc, "pending")
        assert sweep_deliveries(svc, grace_s=0) == 1
        work_until(svc, lambda: len(receiver.processed) == 1, 30, "the swept delivery")
    finally:
        receiver.stop()


def test_admin_route_manages_subscriptions(svc):
    admin = {"Authorization": f"Bearer {staff_token(svc, 'admin')}"}
    reviewer = {"Authorization": f"Bearer {staff_token(svc, 'reviewer')}"}
    with TestClient(create_app(svc)) as client:
        url = "/v1/webhooks/subscriptions"
        assert client.post(url, json={"url": "http://127.0.0.1:9/x"}, headers=reviewer).status_code == 403
        r = client.post(url, json={"url": "http://127.0.0.1:9/x", "event_types": ["application.decided"]}, headers=admin)
        assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
        sub = r.json()
        bad = client.post(url, json={"url": "ftp://x/y"}, headers=admin)
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_webhook_url")
        listed = client.get(url, headers=admin).json()
        assert [(x["id"], x["event_types"], x["active"], x["secret"]) for x in listed] == \
            [(sub["id"], ["application.decided"], True, None)]
        assert client.delete(f"{url}/{sub['id']}", headers=admin).status_code == 204
        assert client.get(url, headers=admin).json()[0]["active"] is False
        assert client.delete(f"{url}/nope", headers=admin).json()["error"]["code"] == "not_found"
        assert client.get("/v1/webhooks/deliveries?status=dead", headers=admin).json() == {"items": []}
