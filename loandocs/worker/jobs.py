"""The job a worker runs for one uploaded document, and its failure callback.

``process_document`` is idempotent: it re-reads everything from the database and the file
store, writes a *new* extraction version, and only moves the application forward from
``submitted``/``accepted``. Running it twice (a sweep after a lost Redis, a retry after a killed
worker) costs time, never correctness.
"""

from __future__ import annotations

import logging
from typing import Any

from loandocs.errors import LoanDocsError
from loandocs.models import DocumentResult
from loandocs.store import repository as repo

log = logging.getLogger(__name__)

ACTOR = "system:worker"
# Documents still on their way: the application is judged only when none is left, so an
# application is not sent to needs_supplement for a material that is merely still in the queue.
PENDING = ("received", "queued", "processing")
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


def process_document(document_id: str) -> str:
    """Extract one document and re-assess its application. Returns the document's new status.

    A file that cannot be read is a finished job (document ``failed`` with the file's error
    code); only operator trouble (OCR engine, database, storage) raises and is retried.
    """
    from loandocs.extractor import Pipeline
    from loandocs.extractor.assessment import options_for

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
        results = [DocumentResult(file=doc.filename, error=exc.to_dict())]
    else:
        base = services.settings.pipeline_options().model_copy(update={"application_date": app.application_date})
        options = options_for(app.loan_type, base)
        results, images = Pipeline(options, engine=_engine(options)).extract_with_images(data, doc.filename)
        _store_page_images(services, results, images)

    with services.sessions.begin() as s:
        repo.add_extraction(s, document_id, results, extractor_version=_extractor_version())
        first = results[0] if results else DocumentResult(file=doc.filename, error={"code": "no_documents", "message": "nothing found"})
        if first.error:
            repo.set_document_status(s, document_id, "failed", error_code=str(first.error.get("code", "corrupt_file")),
                                     error_message=str(first.error.get("message", ""))[:500])
            status = "failed"
        else:
            repo.set_document_status(s, document_id, "extracted", doc_type=first.doc_type)
            status = "extracted"
        reassess(s, doc.application_id)
    return status


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


def application_documents(s, app_id: str) -> tuple[list[DocumentResult], list[str]]:
    """The application's finished documents as the reviewer sees them (latest extraction,
    reviewer corrections on top), with the file hash of each for duplicate detection."""
    documents: list[DocumentResult] = []
    hashes: list[str] = []
    for d in repo.list_documents(s, app_id):
        if d.status not in ("extracted", "failed"):
            continue
        ext = repo.latest_extraction(s, d.id)
        if ext is None:
            continue
        effective = {e.index: e for e in repo.effective_fields(s, d.id)}
        for i, part in enumerate(ext.result):
            result = DocumentResult.model_validate(part)
            if i in effective:
                result = result.model_copy(update={"fields": dict(effective[i].fields)})
            documents.append(result)
            hashes.append(d.sha256)
    return documents, hashes


def reassess(s, app_id: str) -> str | None:
    """Move the application once all its documents are done. Returns the new status, or None
    when nothing moved (documents still pending, or the application is past collection)."""
    from loandocs.extractor.assessment import assess

    # Lock the application row first (PostgreSQL), *then* count pending documents: of two
    # workers finishing the last two documents at once, the second to get the lock sees the
    # first one's commit, so exactly one of them decides. (_app is the repository's own helper.)
    repo.lock_application(s, app_id)
    app = repo.get_application(s, app_id)
    if app.status not in ("submitted", "accepted"):
        return None  # needs_supplement goes back to accepted on a new upload (API); later states are the reviewer's
    if any(d.status in PENDING for d in repo.list_documents(s, app_id)):
        return None
    documents, hashes = application_documents(s, app_id)
    result = assess(documents, app.loan_type, app.application_date, file_hashes=hashes, revalidate=True)
    if app.status == "submitted":
        repo.change_status(s, app_id, "accepted", ACTOR, "documents received")
    codes = sorted({f.code for f in result.supplement})
    if result.status == "collected":
        repo.change_status(s, app_id, "collected", ACTOR, f"completeness {result.completeness}")
    else:
        repo.change_status(s, app_id, "needs_supplement", ACTOR, ",".join(codes) or "incomplete")
    repo.set_supplement_requirements(s, app_id, [f.model_dump(mode="json") for f in result.supplement])
    return result.status


def error_code(value: BaseException | None) -> str:
    if isinstance(value, LoanDocsError):
        return value.code
    from rq.timeouts import JobTimeoutException

    if isinstance(value, JobTimeoutException):
        return "processing_timeout"
    return "internal_error"


def on_failure(job, connection, type_: Any = None, value: BaseException | None = None, traceback: Any = None) -> None:
    """rq failure callback. rq 3 calls it on every failed attempt and for jobs abandoned by a
    killed worker, *before* deciding on a retry: while retries are left the document keeps its
    status (the retry will set it); once they are exhausted the document is ``failed``."""
    if job.should_retry:
        return
    document_id = job.args[0] if job.args else None
    if not document_id:
        return
    code = error_code(value)
    try:
        with _services().sessions.begin() as s:
            doc = repo.get_document(s, document_id)
            if doc.status not in _FAILABLE:
                return  # a newer run (sweep, re-enqueue) already finished this document
            repo.set_document_status(s, document_id, "failed", error_code=code,
                                     error_message=(str(value) if value else code)[:500])
    except Exception:  # noqa: BLE001 - a callback that raises would replace the job's own error
        log.exception("could not record failure of document %s", document_id)
