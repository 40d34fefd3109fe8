"""Queue and worker against a real Redis (db 13, flushed around each test) and SQLite in
tmp_path; the first scenario also runs on PostgreSQL. Redis is expected at
``LOANDOCS_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/13``)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from loandocs.config import Settings
from loandocs.services import Services, set_services
from loandocs.store import repository as repo
from loandocs.worker import enqueue_document
from loandocs.worker.runner import run_worker, sweep

from .helpers import flushed_redis, pg_schema, wait_until

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOANDOCS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
COMBO = ROOT / "samples/idcards/combo_scan_001.jpg"  # front and back on one page
INCOME = ROOT / "samples/financial/income_pdf_001.pdf"
STATEMENT = ROOT / "samples/financial/statement_pdf_001.pdf"
APP_DATE = dt.date(2026, 11, 29)


@pytest.fixture
def redis_db():
    with flushed_redis(REDIS_URL) as r:
        yield r


@pytest.fixture(params=["sqlite"])
def services(request, tmp_path, redis_db):
    with ExitStack() as stack:
        database_url = stack.enter_context(pg_schema()) if request.param == "postgresql" else None
        svc = Services(Settings(data_dir=tmp_path, redis_url=REDIS_URL, database_url=database_url))
        yield svc
        set_services(None)
        svc.engine.dispose()


def _application(svc, files: list[tuple[str, bytes]]) -> tuple[str, list[str]]:
    with svc.sessions.begin() as s:
        app = repo.create_application(s, applicant_name="张伟", loan_type="personal_consumer", amount="100000",
                                      term_months=24, purpose="装修", application_date=APP_DATE)
        repo.record_consent(s, app.id, text_version="v1", channel="test")
        ids = []
        for name, data in files:
            key = svc.files.put(data)
            doc = repo.add_document(s, app.id, filename=name, content_type=None, size=len(data),
                                    sha256=key, storage_key=key)
            ids.append(doc.id)
    return app.id, ids


def _enqueue(svc, ids):
    # As the API does: the row is committed first, then enqueued, then marked queued.
    for doc_id in ids:
        enqueue_document(svc.redis, doc_id)
        with svc.sessions.begin() as s:
            repo.set_document_status(s, doc_id, "queued")


def _docs(svc, app_id):
    with svc.sessions() as s:
        return {d.id: d for d in repo.list_documents(s, app_id)}


def _standard_files():
    return [(COMBO.name, COMBO.read_bytes()), (INCOME.name, INCOME.read_bytes()),
            (STATEMENT.name, STATEMENT.read_bytes())]


@pytest.mark.slow  # real OCR of a whole application, on both databases
@pytest.mark.parametrize("services", ["sqlite", "postgresql"], indirect=True)
def test_burst_worker_extracts_and_moves_application(services):
    svc = services
    files = _standard_files() + [("income_copy.pdf", INCOME.read_bytes())]  # a duplicate upload
    app_id, ids = _application(svc, files)
    _enqueue(svc, ids)
    run_worker(svc, burst=True)

    docs = _docs(svc, app_id)
    assert {d.status for d in docs.values()} == {"extracted"}, {d.filename: (d.status, d.error_code) for d in docs.values()}
    assert all(d.attempts == 1 for d in docs.values())
    with svc.sessions() as s:
        assert repo.latest_extraction(s, ids[0]).result[0]["doc_type"] in ("id_card_front", "id_card_back")
        assert len(repo.latest_extraction(s, ids[0]).result) == 2  # front and back of the combo scan
        app = repo.get_application(s, app_id)
        history = repo.status_history(s, app_id)
    # The samples belong to different synthetic people, so the names disagree.
    assert app.status == "needs_supplement"
    assert [h.to_status for h in history] == ["submitted", "accepted", "needs_supplement"]
    assert all(h.actor == "system:worker" for h in history[1:])
    codes = history[-1].reason.split(",")
    assert "name_mismatch" in codes, codes
    # What the applicant's status lookup shows.
    assert "name_mismatch" in {item["code"] for item in app.supplement_requirements}


def test_corrupt_file_fails_others_proceed(services):
    svc = services
    app_id, ids = _application(svc, [("broken.pdf", b"%PDF-1.7\nthis is not a pdf at all"),
                                      (INCOME.name, INCOME.read_bytes())])
    _enqueue(svc, ids)
    run_worker(svc, burst=True)
    docs = _docs(svc, app_id)
    assert docs[ids[0]].status == "failed"
    assert docs[ids[0]].error_code == "corrupt_file"
    assert docs[ids[1]].status == "extracted"
    with svc.sessions() as s:
        assert repo.get_application(s, app_id).status == "needs_supplement"  # ID card, statement missing
    # The failed job is a finished job: no rq failure, nothing left to retry.
    from rq import Queue
    assert Queue("loandocs-default", connection=svc.redis).failed_job_registry.count == 0


def test_sweep_after_redis_lost(services, redis_db):
    svc = services
    app_id, ids = _application(svc, [(INCOME.name, INCOME.read_bytes()), (STATEMENT.name, STATEMENT.read_bytes())])
    _enqueue(svc, ids)
    redis_db.flushdb()  # Redis lost with the jobs in it
    assert sweep(svc, older_than_s=3600) == 0  # not old enough yet
    assert sweep(svc, older_than_s=0) == 2
    assert sweep(svc, older_than_s=0) == 0  # their new jobs are queued: no double enqueue
    run_worker(svc, burst=True)
    assert {d.status for d in _docs(svc, app_id).values()} == {"extracted"}
    with svc.sessions() as s:
        assert repo.get_application(s, app_id).status in ("collected", "needs_supplement")


@pytest.mark.slow  # a real worker process, started and killed
def test_worker_killed_mid_job(services, tmp_path):
    svc = services
    image = COMBO.read_bytes()
    # Three copies of the image (the slow one) so the worker is certainly caught mid-job.
    app_id, ids = _application(svc, [("a.jpg", image), ("b.jpg", image), ("c.jpg", image),
                                     (INCOME.name, INCOME.read_bytes())])
    _enqueue(svc, ids)
    env = dict(os.environ, LOANDOCS_DATA_DIR=str(tmp_path), LOANDOCS_REDIS_URL=REDIS_URL,
               LOANDOCS_DATABASE_URL=svc.database_url, LOANDOCS_OCR__THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "loandocs.cli", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def taken() -> bool:
        assert proc.poll() is None, "worker exited early"
        return any(d.status == "processing" for d in _docs(svc, app_id).values())

    try:
        # A worker starting on a busy machine (imports, OCR engine) can take a minute or more.
        wait_until(taken, 300, "a document to reach processing", interval_s=0.02)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert any(d.status == "processing" for d in _docs(svc, app_id).values())

    assert sweep(svc, older_than_s=0) >= 1
    run_worker(svc, burst=True)
    docs = _docs(svc, app_id)
    assert {d.status for d in docs.values()} <= {"extracted", "failed"}, {d.filename: d.status for d in docs.values()}
    with svc.sessions() as s:
        assert repo.get_application(s, app_id).status in ("collected", "needs_supplement")


def test_engine_error_is_retried_then_recorded(services, monkeypatch):
    from types import SimpleNamespace

    from rq.job import Job, JobStatus

    from loandocs.errors import OcrEngineError
    from loandocs.worker import job_id_for, jobs

    svc = services
    app_id, ids = _application(svc, [(INCOME.name, INCOME.read_bytes())])
    _enqueue(svc, ids)

    def broken(options):
        raise OcrEngineError("models missing", code="ocr_models_missing")

    monkeypatch.setattr(jobs, "_engine", broken)
    run_worker(svc, burst=True, warm=False)
    # Operator trouble raises: rq 3 schedules a retry and the document keeps its status.
    assert Job.fetch(job_id_for(ids[0]), connection=svc.redis).get_status() == JobStatus.SCHEDULED
    assert _docs(svc, app_id)[ids[0]].status == "processing"
    # Retries exhausted: the callback records the stable code.
    jobs.on_failure(SimpleNamespace(should_retry=False, args=[ids[0]]), svc.redis,
                    OcrEngineError, OcrEngineError("x", code="ocr_models_missing"), None)
    doc = _docs(svc, app_id)[ids[0]]
    assert (doc.status, doc.error_code) == ("failed", "ocr_models_missing")
    jobs.on_failure(SimpleNamespace(should_retry=False, args=[ids[0]]), svc.redis, RuntimeError, RuntimeError("boom"), None)
    assert _docs(svc, app_id)[ids[0]].error_code == "ocr_models_missing"  # finished documents are left alone
