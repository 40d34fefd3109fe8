"""The job a worker runs for one uploaded document, and its failure callback.

``process_document`` is idempotent: it re-reads everything from the database and the file
store, writes a *new* extraction version, and only moves the application forward from
``submitted``/``accepted``. Running it twice (a sweep after a lost Redis, a retry after a killed
worker) costs time, never correctness.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from loandocs.errors import ConfigError, LoanDocsError
from loandocs.models import DocumentResult
from loandocs.store import repository as repo
from loandocs.worker import metrics as m
from loandocs.workflow import PENDING, REPROCESS_ACTOR, reassess

log = logging.getLogger(__name__)

_FAILABLE = PENDING  # on_failure never overwrites a document a later run already finished


def _services():
    from loandocs.services import get_services

    return get_services()


def _engine(options):
    # get_engine caches per process. It is called here, inside the job, so the ONNX session is
    # created in the process that runs jobs (SimpleWorker: the worker itself), never before a fork.
    from loandocs.extractor import get_engine

    return get_engine(options.ocr)


def _extractor_version() -> str:
    from loandocs import __version__

    return __version__


def _queue_name() -> str:
    from rq import get_current_job

    job = get_current_job()
    return (job.origin if job is not None else None) or "direct"


def process_document(document_id: str, run: str | None = None) -> str:
    """Extract one document and re-assess its application. Returns the document's new status.

    A file that cannot be read is a finished job (document ``failed`` with the file's error
    code); only operator trouble (OCR engine, database, storage) raises and is retried.
    ``run`` names the re-processing run that enqueued the job: status changes it causes are
    recorded with actor ``reprocess`` and the run as the reason.
    """
    from loandocs.reader import Pipeline
    from loandocs.rules.assessment import options_for

    started = time.perf_counter()
    recorder = m.Recorder()
    services = _services()
    with services.sessions.begin() as s:
        try:
            doc = repo.get_document(s, document_id)
        except repo.NotFound:
            log.warning("document %s no longer exists; nothing to do", document_id)
            return "gone"
        app = repo.get_application(s, doc.application_id)
        repo.set_document_status(s, document_id, "processing")

    try:
        data = services.files.get(doc.storage_key)
    except LoanDocsError as exc:  # stored_file_missing / stored_file_corrupt: no retry will help
        if exc.code == "encryption_key_unknown" or isinstance(exc, ConfigError):
            # An operator problem on this machine (a key not copied here yet), not a bad file:
            # raise, so rq retries it, maybe on another worker, instead of failing the document.
            raise
        results = [DocumentResult(file=doc.filename, error=exc.to_dict())]
    else:
        base = services.settings.pipeline_options().model_copy(update={"application_date": app.application_date})
        options = options_for(app.loan_type, base, services.checklist)
        results, images = Pipeline(options, engine=_engine(options)).extract_with_images(data, doc.filename)
        _store_page_images(services, results, images)

    first = results[0] if results else DocumentResult(file=doc.filename, error={"code": "no_documents", "message": "nothing found"})
    code = str(first.error.get("code", "corrupt_file")) if first.error else None
    with services.sessions.begin() as s:
        repo.add_extraction(s, document_id, results, extractor_version=_extractor_version())
        if code is not None:
            repo.set_document_status(s, document_id, "failed", error_code=code,
                                     error_message=str(first.error.get("message", ""))[:500])
            status = "failed"
        else:
            repo.set_document_status(s, document_id, "extracted", doc_type=first.doc_type)
            status = "extracted"
        t0 = time.perf_counter()
        if run:
            reassess(s, doc.application_id, actor=REPROCESS_ACTOR, note=f"re-processing run {run}",
                     checklist=services.checklist)
        else:
            reassess(s, doc.application_id, checklist=services.checklist)
        recorder.observe(m.STAGES, time.perf_counter() - t0, "assess")
    _record(recorder, results, status, code, started)
    recorder.flush(services.redis)
    log.info("document %s %s", document_id, status, extra={"document_id": document_id, "status": status,
                                                            "error_code": code, "run": run})
    return status


def _record(recorder: m.Recorder, results: list[DocumentResult], status: str, code: str | None, started: float) -> None:
    queue = _queue_name()
    recorder.inc(m.JOBS, queue, status)
    if code is not None:
        recorder.inc(m.FAILURES, code)
    if results:
        recorder.stage_timings(results[0].timings_ms)  # one file, one run: every part shares the timings
    for r in results:
        if r.error:
            continue
        recorder.inc(m.DOCUMENTS, r.doc_type or "unknown")
        for c in r.checks:
            if not c.ok:
                recorder.inc(m.CHECKS, c.code, c.severity)
    recorder.observe(m.JOB_DURATION, time.perf_counter() - started, queue)


def _store_page_images(services, results: list[DocumentResult], images: list) -> None:
    """Keep the page images the boxes refer to, so the review page can draw them: JPEG in
    the document store (content-addressed, so a re-run stores nothing new)."""
    import cv2

    for result, pages in zip(results, images):
        keys = []
        for image in pages:
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
            if ok:
                keys.append(services.files.put(buf.tobytes()))
        result.page_images = keys or None


def _timeout_in(value: BaseException | None) -> BaseException | None:
    from rq.timeouts import JobTimeoutException

    from loandocs.worker.runner import JobTimeout

    # The job timeout fires wherever the job happens to be; code that wraps errors (the OCR
    # engine turns any exception into ocr_failed) must not hide that the job ran out of time.
    cause, depth = value, 0
    while cause is not None and depth < 10:
        if isinstance(cause, (JobTimeout, JobTimeoutException)):
            return cause
        cause, depth = cause.__cause__ or cause.__context__, depth + 1
    return None


def error_code(value: BaseException | None) -> str:
    if _timeout_in(value) is not None:
        return "processing_timeout"
    if isinstance(value, LoanDocsError):
        return value.code
    return "internal_error"


def error_message(value: BaseException | None, code: str) -> str:
    """The error kept on the document: the timeout's own words when the job ran out of time,
    else the exception's message (first line: some libraries put a traceback in it)."""
    cause = _timeout_in(value) or value
    text = str(cause).strip().splitlines()[0] if cause is not None and str(cause).strip() else code
    return text[:500]


def on_failure(job, connection, type_: Any = None, value: BaseException | None = None, traceback: Any = None) -> None:
    """rq failure callback. rq 3 calls it on every failed attempt and for jobs abandoned by a
    killed worker, *before* deciding on a retry: while retries are left the document keeps its
    status (the retry will set it); once they are exhausted the document is ``failed``."""
    recorder = m.Recorder()
    origin = getattr(job, "origin", None) or "direct"
    if job.should_retry:
        recorder.inc(m.JOBS, origin, "retried")
        recorder.flush(connection)
        return
    document_id = job.args[0] if job.args else None
    if not document_id:
        return
    code = error_code(value)
    recorder.inc(m.JOBS, origin, "error")
    recorder.inc(m.FAILURES, code)
    recorder.flush(connection)
    log.warning("document %s gave up after its last attempt: %s", document_id, code,
                extra={"document_id": document_id, "error_code": code})
    try:
        with _services().sessions.begin() as s:
            doc = repo.get_document(s, document_id)
            if doc.status not in _FAILABLE:
                return  # a newer run (sweep, re-enqueue) already finished this document
            repo.set_document_status(s, document_id, "failed", error_code=code,
                                     error_message=error_message(value, code))
    except Exception:  # noqa: BLE001 - a callback that raises would replace the job's own error
        log.exception("could not record failure of document %s", document_id)
