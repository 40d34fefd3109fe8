"""Batch re-processing and failed documents, through the real CLI, a real worker pool, Redis
(db 15, flushed around each test) and SQLite/PostgreSQL.

The documents start as if an older extractor version had read them: their first extraction
is stored with ``extractor_version`` 0.0.1 (taken from a real extraction of the same file), so
``reprocess --older-than-extractor`` picks them, and only the re-processing runs the pipeline.
The bulk documents are one-page born-digital bank statements made with the sample generator
(text layer, ~0.1 s each), so 200 of them fit in a test.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loandocs import __version__, workflow
from loandocs.config import Settings
from loandocs.models import DocumentResult
from loandocs.reader import Pipeline, PipelineOptions
from loandocs.samplegen.bundle import application_bundle
from loandocs.services import Services, set_services
from loandocs.store import batches
from loandocs.store import repository as repo

from .helpers import TIME_SCALE, flushed_redis, one_page_statement_pdf, pg_schema

# Hundreds of documents through the CLI and real worker pools.
pytestmark = pytest.mark.soak

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOANDOCS_TEST_OPS_REDIS_URL", "redis://127.0.0.1:6379/15")
APP_DATE = dt.date(2026, 11, 29)
OLD = "0.0.1"
# `reprocess` waits until every document is done (its own condition). Alone here 202 documents
# take about a minute; two busy cores shared with other test runs took over four: a deadline,
# not an estimate.
REPROCESS_DEADLINE_S = 1800 * TIME_SCALE


@pytest.fixture
def redis_db():
    with flushed_redis(REDIS_URL) as r:
        yield r


def _services(tmp_path, database_url=None) -> Services:
    return Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL, database_url=database_url))


@pytest.fixture(scope="module")
def extracted(engine, tmp_path_factory):
    """Real extractions of a cheap one-page statement and of one applicant's four materials."""
    pipeline = Pipeline(PipelineOptions(application_date=APP_DATE), engine=engine)
    bundle = application_bundle(tmp_path_factory.mktemp("bundle"), seed=3)
    out = {"cheap": ("one_page_statement.pdf", one_page_statement_pdf(11, "王芳"))}
    for path in bundle:
        out[path.stem] = (path.name, path.read_bytes())
    results = {k: pipeline.extract(data, name) for k, (name, data) in out.items()}
    assert all(not r[0].error for r in results.values()), results
    return {k: (out[k][0], out[k][1], results[k]) for k in out}


def _seed(svc, files, *, version=OLD, failed=()) -> tuple[str, list[str]]:
    """An application whose documents were read by extractor ``version``. Keys in ``failed``
    are stored as failures of that version (as if it had crashed on them)."""
    with svc.sessions.begin() as s:
        app = repo.create_application(s, applicant_name="张伟", loan_type="personal_consumer", amount="100000",
                                      term_months=24, purpose="装修", application_date=APP_DATE)
        repo.record_consent(s, app.id, text_version="v1", channel="test")
        ids = []
        for key, (name, data, results) in files:
            storage = svc.files.put(data)
            doc = repo.add_document(s, app.id, filename=name, content_type=None, size=len(data),
                                    sha256=storage, storage_key=storage)
            if key in failed:
                bad = [DocumentResult(file=name, error={"code": "internal_error", "message": "old extractor crashed"})]
                repo.add_extraction(s, doc.id, bad, extractor_version=version)
                repo.set_document_status(s, doc.id, "failed", error_code="internal_error", error_message="crashed")
            else:
                repo.add_extraction(s, doc.id, results, extractor_version=version)
                repo.set_document_status(s, doc.id, "extracted", doc_type=results[0].doc_type)
            ids.append(doc.id)
        workflow.reassess(s, app.id)
    return app.id, ids


def _env(svc) -> dict[str, str]:
    return dict(os.environ, LOANDOCS_DATA_DIR=str(svc.settings.data_dir), LOANDOCS_REDIS_URL=REDIS_URL,
                LOANDOCS_DATABASE_URL=svc.database_url, LOANDOCS_LOG_FORMAT="json")


def _cli(svc, *args, timeout=240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loandocs.cli", *args], cwd=ROOT, env=_env(svc),
                          capture_output=True, text=True, timeout=timeout)


class WorkerPool:
    """``loandocs worker --concurrency N`` as a real process, stopped with SIGTERM. Its log goes
    to a file: a pipe nobody reads while it runs would fill up and stall the workers."""

    def __init__(self, svc, *args: str):
        self.log = Path(svc.settings.data_dir) / "worker.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "loandocs.cli", "worker", *args], cwd=ROOT,
                                         env=_env(svc), stdout=subprocess.DEVNULL, stderr=out)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.log.read_text()


def test_reprocess_200_documents_keeps_correction_and_records_versions(tmp_path, redis_db, extracted):
    svc = _services(tmp_path)
    cheap = ("cheap", extracted["cheap"])
    bulk = [_seed(svc, [cheap] * 4) for _ in range(50)]  # 200 documents
    # One applicant whose certificate and statement the old extractor failed on: the ID card
    # sides were read by the current version (not selected); re-processing completes it.
    files = [(k, extracted[k]) for k in ("id_front", "id_back", "income", "statement")]
    complete_app, complete_ids = _seed(svc, files[:2], version=__version__)
    with svc.sessions.begin() as s:  # the other two, read by the old version
        for key, (name, data, results) in files[2:]:
            storage = svc.files.put(data)
            doc = repo.add_document(s, complete_app, filename=name, content_type=None, size=len(data),
                                    sha256=storage, storage_key=storage)
            repo.add_extraction(s, doc.id, [DocumentResult(file=name, error={"code": "internal_error", "message": "x"})],
                                extractor_version=OLD)
            repo.set_document_status(s, doc.id, "failed", error_code="internal_error", error_message="crashed")
            complete_ids.append(doc.id)
        workflow.reassess(s, complete_app)
        assert repo.get_application(s, complete_app).status == "needs_supplement"
        corrected = bulk[7][1][2]
        machine_name = repo.latest_extraction(s, corrected).result[0]["fields"]["account_holder"]["value"]
        assert machine_name == "王芳"
        repo.add_correction(s, corrected, "account_holder", "王芳芳", corrected_by="reviewer:王审核", reason="typo")
        history_before = {a: len(repo.status_history(s, a)) for a, _ in bulk}

    dry = _cli(svc, "reprocess", "--older-than-extractor", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would re-process 202 document(s) in 51 application(s)"), dry.stdout
    assert _cli(svc, "reprocess").returncode == 2  # no filter and no --all: refused

    pool = WorkerPool(svc, "--concurrency", "2")
    try:
        t0 = time.monotonic()
        run = _cli(svc, "reprocess", "--older-than-extractor", "--batch-size", "40", "--json",
                   timeout=REPROCESS_DEADLINE_S)
        elapsed = time.monotonic() - t0
    finally:
        pool_log = pool.stop()
    assert run.returncode == 0, (run.stdout, run.stderr, pool_log[-2000:])
    summary = json.loads(run.stdout)
    assert (summary["selected"], summary["enqueued"], summary["extracted"], summary["failed"]) == (202, 202, 202, {})
    assert "202/202" in run.stderr.splitlines()[-1]  # the progress bar's last line
    print(f"re-processed 202 documents in {elapsed:.1f} s")

    with svc.sessions() as s:
        for app_id, ids in bulk:
            for doc_id in ids:
                doc = repo.get_document(s, doc_id)
                ext = repo.latest_extraction(s, doc_id)
                assert (doc.status, doc.attempts, ext.version, ext.extractor_version) == ("extracted", 1, 2, __version__)
            # Still missing its ID card and certificate: no status change, nothing recorded.
            assert len(repo.status_history(s, app_id)) == history_before[app_id]
            assert repo.get_application(s, app_id).status == "needs_supplement"
        # The correction is still on top of the new machine value.
        fields = repo.effective_fields(s, corrected)[0]
        assert fields.extraction_version == 2
        assert (fields.fields["account_holder"].value, fields.fields["account_holder"].source) == ("王芳芳", "reviewer")
        assert repo.latest_extraction(s, corrected).result[0]["fields"]["account_holder"]["value"] == machine_name
        # Not selected: read by the current version already.
        assert [repo.latest_extraction(s, d).version for d in complete_ids[:2]] == [1, 1]
        history = repo.status_history(s, complete_app)
        app = repo.get_application(s, complete_app)
    assert app.status == "collected", app.supplement_requirements
    moves = [(h.from_status, h.to_status, h.actor) for h in history[-2:]]
    assert moves == [("needs_supplement", "accepted", "reprocess"), ("accepted", "collected", "reprocess")]
    assert all(h.reason.startswith(f"re-processing run {summary['run']}") for h in history[-2:])
    assert summary["status_changes"] == [{"application_id": complete_app, "from": "needs_supplement", "to": "accepted"},
                                         {"application_id": complete_app, "from": "accepted", "to": "collected"}]
    set_services(None)
    svc.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_selection_filters(tmp_path, redis_db, extracted, backend):
    with pg_schema() if backend == "postgresql" else _nothing() as url:
        svc = _services(tmp_path, url)
        cheap = ("cheap", extracted["cheap"])
        a, a_ids = _seed(svc, [cheap, cheap])
        b, b_ids = _seed(svc, [cheap, cheap], version="0.3.0", failed={"cheap"})
        c, c_ids = _seed(svc, [("income", extracted["income"])], version="0.10.0")
        with svc.sessions.begin() as s:
            repo.set_document_status(s, a_ids[1], "processing")  # has a job coming: never selected
        with svc.sessions() as s:
            def ids(**kw):
                return {d.id for d in batches.select_documents(s, **kw)}

            assert ids() == {a_ids[0], *b_ids, *c_ids}
            assert ids(application_ids=[b]) == set(b_ids)
            assert ids(statuses=["failed"]) == set(b_ids)
            assert ids(doc_types=["income_certificate"]) == set(c_ids)
            assert ids(older_than_extractor="0.2.0") == {a_ids[0]}
            # 0.10.0 is newer than 0.9.0 although it sorts lower as text.
            assert ids(older_than_extractor="0.9.0") == {a_ids[0], *b_ids}
            assert ids(older_than_extractor="0.10.1") == {a_ids[0], *b_ids, *c_ids}
            today = dt.datetime.now(repo.CST).date()
            assert ids(since=today, until=today) == ids()
            assert ids(until=today - dt.timedelta(days=1)) == set()
            assert ids(since=today + dt.timedelta(days=1)) == set()
            assert [d.application_id for d in batches.select_documents(s)] == sorted(
                [a] + [b, b] + [c], key=lambda x: x)  # grouped by application
        svc.engine.dispose()


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_failed_and_requeue_failed(tmp_path, redis_db, extracted):
    svc = _services(tmp_path)
    cheap = ("cheap", extracted["cheap"])
    app_id, ids = _seed(svc, [cheap, cheap, cheap], failed={"cheap"})
    with svc.sessions.begin() as s:  # different codes: one of them an ID number in its message
        repo.set_document_status(s, ids[0], "failed", error_code="ocr_engine_unavailable",
                                 error_message="engine down while reading 110101199003070318")
        repo.set_document_status(s, ids[1], "failed", error_code="processing_timeout", error_message="600 s")

    listing = _cli(svc, "failed", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = {r["id"]: r for r in json.loads(listing.stdout)}
    assert {r["error_code"] for r in rows.values()} == {"ocr_engine_unavailable", "processing_timeout", "internal_error"}
    assert rows[ids[0]]["message"] == "engine down while reading 110101********0318"  # masked
    assert all(r["application_id"] == app_id and r["application_no"].startswith("LD") for r in rows.values())
    table = _cli(svc, "failed", "--code", "processing_timeout")
    assert ids[1] in table.stdout and ids[0] not in table.stdout and "processing_timeout" in table.stdout

    dry = _cli(svc, "requeue-failed", "--code", "ocr_engine_unavailable", "--dry-run")
    assert dry.stdout.startswith("would requeue 1 document(s)"), dry.stdout
    queued = _cli(svc, "requeue-failed", "--code", "ocr_engine_unavailable", "--no-wait", "--json")
    assert queued.returncode == 0, queued.stderr
    assert json.loads(queued.stdout)["enqueued"] == 1
    with svc.sessions() as s:
        doc = repo.get_document(s, ids[0])
        assert (doc.status, doc.error_code, doc.attempts) == ("queued", None, 0)
    # The sweeper knows the job is pending and leaves it alone.
    from loandocs.worker.runner import run_worker, sweep

    assert sweep(svc, older_than_s=0) == 0
    run_worker(svc, burst=True)
    with svc.sessions() as s:
        assert repo.get_document(s, ids[0]).status == "extracted"
        assert {repo.get_document(s, i).status for i in ids[1:]} == {"failed"}
        assert repo.latest_extraction(s, ids[0]).version == 2
    assert json.loads(_cli(svc, "failed", "--json").stdout).__len__() == 2
    set_services(None)
    svc.engine.dispose()
