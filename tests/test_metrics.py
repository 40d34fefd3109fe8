"""``/metrics`` from Redis and the database, request ids, JSON logs with masking. Real Redis
(db 15, flushed around each test), SQLite, the real worker running jobs in-process."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rq import Queue, Worker
from rq.job import Job

from loandocs.api import create_app
from loandocs.config import Settings
from loandocs.logs import JsonFormatter, job_id_var, request_id_var, setup_logging
from loandocs.services import Services
from loandocs.worker.queue import DEFAULT_QUEUE, REPROCESS_QUEUE, job_id_for
from loandocs.worker.runner import run_worker

from .helpers import metric_samples as _samples
from .helpers import metric_value as _get
from .helpers import one_page_statement_pdf, services_on, staff_token

REDIS_URL = os.environ.get("LOANDOCS_TEST_OPS_REDIS_URL", "redis://127.0.0.1:6379/15")
NO_SEAL = Path(__file__).resolve().parent.parent / "samples/financial/income_pdf_004_no_seal.pdf"


@pytest.fixture
def svc(tmp_path):
    with services_on(tmp_path, REDIS_URL) as services:
        yield services


def _statement(seed: int) -> bytes:
    return one_page_statement_pdf(seed, "钱多多")


def _upload(client, app_token_holder: dict, data: bytes, name: str, request_id: str | None = None):
    headers = {"Authorization": f"Bearer {app_token_holder['applicant_token']}"}
    if request_id:
        headers["X-Request-ID"] = request_id
    r = client.post(f"/v1/applications/{app_token_holder['id']}/documents", files={"file": (name, data)},
                    headers=headers)
    assert r.status_code == 202, r.text
    return r


def _stored_without_checks(svc, app_id: str, data: bytes, name: str) -> None:
    """A file the upload route would refuse (it checks PDFs), stored and enqueued as the API
    does for files it accepts: how a file the worker cannot read reaches the worker."""
    from loandocs.store import repository as repo
    from loandocs.worker.queue import enqueue_document

    with svc.sessions.begin() as s:
        key = svc.files.put(data)
        doc = repo.add_document(s, app_id, filename=name, content_type=None, size=len(data), sha256=key,
                                storage_key=key)
    enqueue_document(svc.redis, doc.id)
    with svc.sessions.begin() as s:
        repo.set_document_status(s, doc.id, "queued")


def test_metrics_after_real_jobs(svc):
    admin = {"Authorization": f"Bearer {staff_token(svc, 'admin')}"}
    with TestClient(create_app(svc)) as client:
        app = client.post("/v1/applications", json={
            "applicant_name": "钱多多", "loan_type": "personal_consumer", "amount": 10000, "term_months": 12,
            "purpose": "装修", "application_date": "2026-11-29", "consent": {"agreed": True, "version": "v1"}}).json()
        for i in range(3):
            _upload(client, app, _statement(i), f"s{i}.pdf")
        _upload(client, app, NO_SEAL.read_bytes(), NO_SEAL.name)
        _stored_without_checks(svc, app["id"], b"%PDF-1.7\nnot a pdf at all", "broken.pdf")
        run_worker(svc, burst=True)
        # Two more uploads wait in the queue; one document waits for re-processing.
        for i in range(2):
            _upload(client, app, _statement(10 + i), f"w{i}.pdf")
        Queue(REPROCESS_QUEUE, connection=svc.redis).enqueue("loandocs.worker.jobs.process_document", "nope")
        idle = Worker([DEFAULT_QUEUE], connection=svc.redis, name="metrics-test-worker")
        idle.register_birth()
        try:
            r = client.get("/metrics", headers=admin)
        finally:
            idle.register_death()
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
        m = _samples(r.text)

        assert client.get("/metrics").status_code == 401
        reviewer = {"Authorization": f"Bearer {staff_token(svc, 'reviewer', name='r1')}"}
        assert client.get("/metrics", headers=reviewer).status_code == 403

    q = "loandocs-default"
    assert _get(m, "loandocs_jobs_total", queue=q, outcome="extracted") == 4
    assert _get(m, "loandocs_jobs_total", queue=q, outcome="failed") == 1
    assert _get(m, "loandocs_job_failures_total", code="corrupt_file") == 1
    assert _get(m, "loandocs_documents_processed_total", doc_type="bank_statement") == 3
    assert _get(m, "loandocs_documents_processed_total", doc_type="income_certificate") == 1
    assert _get(m, "loandocs_checks_failed_total", code="seal_missing", severity="supplement") == 1
    # Five jobs: each timed as a whole; the pipeline stages of the four that got that far.
    assert _get(m, "loandocs_job_duration_seconds_count", queue=q) == 5
    assert _get(m, "loandocs_stage_duration_seconds_count", stage="assess") == 5
    for stage in ("load", "preprocess", "ocr", "layout", "classify", "parse", "validate"):
        assert _get(m, "loandocs_stage_duration_seconds_count", stage=stage) == 4, stage
        assert _get(m, "loandocs_stage_duration_seconds_bucket", stage=stage, le="+Inf") == 4
    for stage in ("load", "parse", "assess"):  # text-layer PDFs: no OCR or preprocessing time
        assert _get(m, "loandocs_stage_duration_seconds_sum", stage=stage) > 0
    # Buckets are cumulative and end at the count.
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in m.items()
                     if k[0] == "loandocs_stage_duration_seconds_bucket" and dict(k[1])["stage"] == "load")
    assert [v for _, v in buckets] == sorted(v for _, v in buckets) and buckets[-1][1] == 4
    assert _get(m, "loandocs_queue_jobs", queue=q, state="queued") == 2
    assert _get(m, "loandocs_queue_jobs", queue=REPROCESS_QUEUE, state="queued") == 1
    assert _get(m, "loandocs_queue_jobs", queue=q, state="failed") == 0
    assert sum(v for k, v in m.items() if k[0] == "loandocs_workers") == 1
    assert _get(m, "loandocs_documents", status="extracted", doc_type="bank_statement") == 3
    assert _get(m, "loandocs_documents", status="extracted", doc_type="income_certificate") == 1
    assert _get(m, "loandocs_documents", status="failed", doc_type="none") == 1
    assert _get(m, "loandocs_documents", status="queued", doc_type="none") == 2
    assert _get(m, "loandocs_applications", status="accepted") == 1
    assert all(_get(m, "loandocs_metrics_source_up", source=s) == 1
               for s in ("redis_queues", "redis_workers", "redis_counters", "database"))


def test_metrics_come_from_redis_not_from_the_process(svc):
    """A second API process (fresh Services, as on another machine) shows what the worker
    recorded; with Redis unreachable it still answers, from the database, and says so."""
    with TestClient(create_app(svc)) as client:
        app = client.post("/v1/applications", json={
            "applicant_name": "钱多多", "loan_type": "personal_consumer", "amount": 10000, "term_months": 12,
            "purpose": "装修", "consent": {"agreed": True, "version": "v1"}}).json()
        _upload(client, app, _statement(1), "s.pdf")
    run_worker(svc, burst=True)
    token = staff_token(svc, "admin")
    other = Services(Settings(data_dir=svc.settings.data_dir, redis_url=REDIS_URL))
    with TestClient(create_app(other)) as client:
        m = _samples(client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text)
    assert _get(m, "loandocs_jobs_total", queue=DEFAULT_QUEUE, outcome="extracted") == 1
    other.engine.dispose()

    down = Services(Settings(data_dir=svc.settings.data_dir, redis_url="redis://127.0.0.1:1/0"))
    with TestClient(create_app(down)) as client:
        r = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    m = _samples(r.text)
    assert _get(m, "loandocs_metrics_source_up", source="redis_counters") == 0
    assert _get(m, "loandocs_metrics_source_up", source="database") == 1
    assert _get(m, "loandocs_documents", status="extracted", doc_type="bank_statement") == 1
    down.engine.dispose()


def test_request_id_is_echoed_and_follows_the_upload_into_the_job(svc):
    with TestClient(create_app(svc)) as client:
        r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert r.headers["x-request-id"] == "abc-123"
        generated = client.get("/healthz").headers["x-request-id"]
        assert len(generated) == 32 and generated != client.get("/healthz").headers["x-request-id"]
        # Not a sane token (too long, odd characters): replaced, never copied into the logs.
        assert client.get("/healthz", headers={"X-Request-ID": "x" * 65}).headers["x-request-id"] != "x" * 65
        assert client.get("/healthz", headers={"X-Request-ID": "a b"}).headers["x-request-id"] != "a b"
        app = client.post("/v1/applications", json={
            "applicant_name": "钱多多", "loan_type": "personal_consumer", "amount": 10000, "term_months": 12,
            "purpose": "装修", "consent": {"agreed": True, "version": "v1"}}).json()
        doc_id = _upload(client, app, _statement(1), "s.pdf", request_id="upload-42").json()["document_id"]
    assert Job.fetch(job_id_for(doc_id), connection=svc.redis).meta["request_id"] == "upload-42"

    # The worker's log lines for that job carry both ids.
    stream = io.StringIO()
    handler = setup_logging("json", "INFO", stream=stream)
    try:
        run_worker(svc, burst=True)
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ours = [x for x in lines if x.get("document_id") == doc_id]
    assert ours and ours[0]["msg"] == f"document {doc_id} extracted"
    assert ours[0]["request_id"] == "upload-42" and ours[0]["job_id"] == job_id_for(doc_id)
    assert any(x["logger"] == "rq.worker" and x.get("job_id") == job_id_for(doc_id) for x in lines)


def test_json_log_lines_mask_identifiers():
    record = logging.LogRecord("loandocs.test", logging.WARNING, __file__, 1,
                               "applicant %s paid from %s", ("110101199003070318", "6222 0212 3456 7890 123"), None)
    record.account_number = "6222021234567890123"
    record.attempt = 2
    try:
        raise ValueError("bad id 11010119900307031X")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    tokens = (request_id_var.set("req-1"), job_id_var.set("doc-9"))
    try:
        from loandocs.logs import ContextFilter

        ContextFilter().filter(record)
    finally:
        job_id_var.reset(tokens[1])
        request_id_var.reset(tokens[0])
    line = JsonFormatter().format(record)
    out = json.loads(line)
    assert out["msg"] == "applicant 110101********0318 paid from 6222***********0123"
    assert out["account_number"] == "6222***********0123"
    assert out["attempt"] == 2
    assert "11010119900307031X" not in out["exc"] and "110101********031X" in out["exc"]
    assert (out["level"], out["logger"], out["request_id"], out["job_id"]) == ("WARNING", "loandocs.test", "req-1", "doc-9")
    for raw in ("110101199003070318", "6222021234567890123", "6222 0212 3456 7890 123"):
        assert raw not in line
