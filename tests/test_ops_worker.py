"""Worker processes: warm shutdown on SIGTERM, the pool supervisor, recycling after M jobs,
a poison document that exhausts its retries, the sweeper's attempt limit. Real processes, real
jobs, Redis db 14 (flushed around each test), SQLite."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Queue, Retry, Worker
from rq.job import Job

from loandocs.store import repository as repo
from loandocs.worker import metrics as wm
from loandocs.worker.pool import Pool, threads_per_worker
from loandocs.worker.queue import DEFAULT_QUEUE, enqueue_document, job_id_for
from loandocs.worker.runner import MAX_ATTEMPTS, run_worker, sweep

from .helpers import one_page_statement_pdf, services_on, wait_until

# Real worker processes and pools (`loandocs worker`), each loading the OCR engine.
pytestmark = pytest.mark.soak

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOANDOCS_TEST_OPS_WORKER_REDIS_URL", "redis://127.0.0.1:6379/14")
SLOW = [ROOT / "samples/idcards/combo_scan_001.jpg", ROOT / "samples/idcards/combo_scan_002.jpg"]  # OCR: seconds
POISON = ROOT / "samples/financial/statement_scan_pdf_002.pdf"  # four scanned pages: ~30 s of OCR
APP_DATE = dt.date(2026, 11, 29)


@pytest.fixture
def svc(tmp_path):
    with services_on(tmp_path, REDIS_URL) as services:
        yield services


def _cheap(seed: int) -> bytes:
    return one_page_statement_pdf(seed, "赵敏")


def _application(svc, files: list[tuple[str, bytes]], **enqueue) -> tuple[str, list[str]]:
    """Documents stored, committed, enqueued and marked queued, as the API does."""
    with svc.sessions.begin() as s:
        app = repo.create_application(s, applicant_name="赵敏", loan_type="personal_consumer", amount="50000",
                                      term_months=12, application_date=APP_DATE)
        repo.record_consent(s, app.id, text_version="v1", channel="test")
        ids = []
        for name, data in files:
            key = svc.files.put(data)
            ids.append(repo.add_document(s, app.id, filename=name, content_type=None, size=len(data),
                                         sha256=key, storage_key=key).id)
    for doc_id in ids:
        enqueue_document(svc.redis, doc_id, **enqueue)
        with svc.sessions.begin() as s:
            repo.set_document_status(s, doc_id, "queued")
    return app.id, ids


def _docs(svc, ids):
    with svc.sessions() as s:
        return [repo.get_document(s, i) for i in ids]


def _start(svc, *args: str) -> tuple[subprocess.Popen, Path]:
    log = Path(svc.settings.data_dir) / f"worker-{time.monotonic_ns()}.log"
    env = dict(os.environ, LOANDOCS_DATA_DIR=str(svc.settings.data_dir), LOANDOCS_REDIS_URL=REDIS_URL,
               LOANDOCS_DATABASE_URL=svc.database_url, LOANDOCS_OCR__THREADS="1")
    with open(log, "w") as out:  # a file, not a pipe: nobody reads a pipe while the workers run
        proc = subprocess.Popen([sys.executable, "-m", "loandocs.cli", "worker", *args], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=out)
    return proc, log


@pytest.mark.parametrize("concurrency", [1, 2])
def test_sigterm_finishes_the_current_job_and_takes_no_new_one(svc, concurrency):
    slow = [(p.name, p.read_bytes()) for p in SLOW[:concurrency]]
    rest = [(f"cheap{i}.pdf", _cheap(i)) for i in range(3)]
    _, ids = _application(svc, slow + rest)
    slow_ids, rest_ids = ids[:concurrency], ids[concurrency:]
    proc, log = _start(svc, "--concurrency", str(concurrency))
    try:
        def taken() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            return sum(d.status == "processing" for d in _docs(svc, slow_ids)) == concurrency

        # Worker processes starting on a busy machine (imports, OCR engine) can take minutes.
        wait_until(taken, 300, "the slow documents to reach processing")
        proc.send_signal(signal.SIGTERM)
        # Read after the signal was sent: the jobs were still running when it arrived.
        assert [d.status for d in _docs(svc, slow_ids)] == ["processing"] * concurrency
        assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "warm shut down requested" in text, text[-3000:]
    # The jobs in hand ran to their end ...
    for d in _docs(svc, slow_ids):
        assert (d.status, d.attempts, d.error_code) == ("extracted", 1, None), text[-3000:]
        assert Job.fetch(job_id_for(d.id), connection=svc.redis).get_status() == "finished"
    # ... and nothing else was taken: the rest still wait in the queue for the next worker.
    assert [d.status for d in _docs(svc, rest_ids)] == ["queued"] * 3
    assert set(Queue(DEFAULT_QUEUE, connection=svc.redis).job_ids) == {job_id_for(i) for i in rest_ids}
    assert Worker.all(connection=svc.redis) == []  # deregistered on the way out


def test_workers_are_recycled_after_max_jobs(svc):
    _, ids = _application(svc, [(f"cheap{i}.pdf", _cheap(i)) for i in range(5)])
    proc, log = _start(svc, "--max-jobs", "2", "--burst")
    assert proc.wait(timeout=240) == 0, log.read_text()[-3000:]
    assert {d.status for d in _docs(svc, ids)} == {"extracted"}
    # Five jobs, two per process: three processes, each with its own rq worker name.
    names = {Job.fetch(job_id_for(i), connection=svc.redis).worker_name for i in ids}
    assert len(names) == 3, names
    assert log.read_text().count("recycled after 2 jobs") == 2


def test_pool_shares_the_cores(monkeypatch):
    assert threads_per_worker(2, cores=16) == 8
    assert threads_per_worker(3, cores=2) == 1
    assert threads_per_worker(4, configured=2, cores=16) == 2  # LOANDOCS_OCR__THREADS wins
    monkeypatch.delenv("LOANDOCS_OCR__THREADS", raising=False)
    env = Pool(4, threads=0).environment()
    assert env["LOANDOCS_OCR__THREADS"] == str(threads_per_worker(4))
    assert Pool(2, max_jobs=50, burst=True, queues=["q1"]).command()[-6:] == [
        "--child", "--max-jobs", "50", "--burst", "--queue", "q1"]


def test_poison_document_fails_with_its_code_after_the_retry_limit(svc):
    """A scanned statement that cannot be read within the job timeout fails every attempt; after
    the retries it is ``failed`` with ``processing_timeout`` and its last error, while the
    documents around it are extracted."""
    wm.reset(svc.redis)
    files = [("a.pdf", _cheap(1)), (POISON.name, POISON.read_bytes()), ("b.pdf", _cheap(2)), ("c.pdf", _cheap(3))]
    # Real files, shorter limits: 2 retries without delay (no scheduler needed) and a 3 s
    # timeout, which the cheap documents meet 30 times over and the poison misses 10 times over.
    _, ids = _application(svc, files, job_timeout=3, retry=Retry(max=2))
    run_worker(svc, burst=True)
    docs = _docs(svc, ids)
    poison = docs[1]
    assert (poison.status, poison.error_code, poison.attempts) == ("failed", "processing_timeout", 3)
    assert poison.error_message == "Task exceeded maximum timeout value (3 seconds)"  # the last error, kept
    assert [d.status for i, d in enumerate(docs) if i != 1] == ["extracted"] * 3
    assert Queue(DEFAULT_QUEUE, connection=svc.redis).failed_job_registry.get_job_ids() == [job_id_for(poison.id)]
    # Counted for /metrics: two retried attempts, one final error, three extracted.
    jobs = wm.read_counter(svc.redis, wm.JOBS)
    assert jobs == {(DEFAULT_QUEUE, "retried"): 2, (DEFAULT_QUEUE, "error"): 1, (DEFAULT_QUEUE, "extracted"): 3}
    assert wm.read_counter(svc.redis, wm.FAILURES) == {("processing_timeout",): 1}


def test_sweeper_gives_up_on_a_document_that_keeps_killing_workers(svc):
    _, ids = _application(svc, [("a.pdf", _cheap(1)), ("b.pdf", _cheap(2))])
    svc.redis.flushdb()  # the jobs are gone, as after a worker was killed and Redis lost
    with svc.sessions.begin() as s:
        for _ in range(MAX_ATTEMPTS):  # taken by a worker that died, this many times
            repo.set_document_status(s, ids[0], "processing")
        repo.set_document_status(s, ids[1], "processing")
    assert sweep(svc, older_than_s=0) == 1  # only b goes back to the queue
    a, b = _docs(svc, ids)
    assert (a.status, a.error_code, a.attempts) == ("failed", "too_many_attempts", MAX_ATTEMPTS)
    assert a.error_message == f"processing was interrupted {MAX_ATTEMPTS} times"
    assert b.status == "queued"


def _slow_load():  # small steps: the timer's asynchronous exception lands between bytecodes
    for _ in range(200):
        time.sleep(0.01)
    return []


def test_a_timeout_inside_the_loader_stays_a_timeout():
    """The loader turns any exception into corrupt_file (a permanent failure), so rq's own
    timeout, an Exception, would be misread as a bad file; the worker's JobTimeout is not."""
    from rq.timeouts import JobTimeoutException, TimerDeathPenalty

    from loandocs.errors import InputError
    from loandocs.extractor.loading import _guarded
    from loandocs.worker.jobs import error_code
    from loandocs.worker.runner import JobTimeout, ThreadDeathPenalty

    with pytest.raises(InputError) as plain:  # what rq's own penalty would have done
        with TimerDeathPenalty(1, JobTimeoutException, job_id="t1"):
            _guarded("pdf", _slow_load)
    assert plain.value.code == "corrupt_file"

    with pytest.raises(JobTimeout) as ours:
        with ThreadDeathPenalty(1, JobTimeoutException, job_id="t2"):
            _guarded("pdf", _slow_load)
    assert error_code(ours.value) == "processing_timeout"
