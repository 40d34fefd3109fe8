"""The ``/v1`` routes. Thin: parse, call the repository / assessment, map to out schemas."""

from __future__ import annotations

import hashlib
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile, status

from loandocs import workflow
from loandocs.api import schemas as s
from loandocs.api import views
from loandocs.api.auth import OWN_APPLICATION, OWN_DOCUMENT, PUBLIC, STAFF, Caller, record
from loandocs.api.deps import ServicesDep, SessionDep
from loandocs.api.errors import UnsupportedMediaType
from loandocs.api.filenames import MIME_TYPES, safe_filename
from loandocs.errors import FileTooLarge, InputError
from loandocs.extractor.loading import check_file
from loandocs.store import repository as repo
from loandocs.worker.queue import enqueue_document

log = logging.getLogger("loandocs.api")
router = APIRouter(prefix="/v1")

CHUNK = 1024 * 1024
NOT_FOUND = {404: {"description": "not_found"}}
# 401 without a token, 403 for a role that may not call the route.
AUTH = {401: {"description": "auth_required, invalid_token"}, 403: {"description": "forbidden, csrf_failed"}}


@router.post("/applications", status_code=status.HTTP_201_CREATED, response_model=s.ApplicationCreatedOut,
             responses={422: {"description": "invalid_request, consent_required, unknown_loan_type"}},
             dependencies=[Depends(PUBLIC)])
def create_application(body: s.ApplicationIn, request: Request, session: SessionDep) -> s.ApplicationCreatedOut:
    ip = request.client.host if request.client else None
    app, token = workflow.create_application(session, new_application(body), ip=ip)
    record(session, Caller(role="applicant", name=f"applicant:{app.id}", ip=ip), "create", "application",
           app.id, app.id, consent_version=body.consent.version)
    return s.ApplicationCreatedOut(id=app.id, application_no=app.application_no, status=app.status,
                                   applicant_token=token)


def new_application(body: s.ApplicationIn) -> workflow.NewApplication:
    return workflow.NewApplication(
        applicant_name=body.applicant_name, loan_type=body.loan_type, amount=body.amount, term_months=body.term_months,
        purpose=body.purpose, application_date=body.application_date, consent_agreed=body.consent.agreed,
        consent_version=body.consent.version, consent_channel=body.consent.channel,
    )


def _read_bounded(upload: UploadFile, limit: int) -> tuple[bytes, str]:
    """The upload's bytes and SHA-256, refusing as soon as it passes ``limit`` bytes."""
    digest, parts, size = hashlib.sha256(), [], 0
    while chunk := upload.file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise FileTooLarge(f"the file is larger than {limit} bytes", code="file_too_large")
        digest.update(chunk)
        parts.append(chunk)
    return b"".join(parts), digest.hexdigest()


@router.post("/applications/{app_id}/documents", status_code=status.HTTP_202_ACCEPTED, response_model=s.UploadOut,
             responses={**NOT_FOUND, **AUTH, 409: {"description": "consent_required, application_closed"},
                        413: {"description": "file_too_large"}, 415: {"description": "unsupported_type"},
                        422: {"description": "empty_file, invalid_request, corrupt_file, too_many_pixels, too_many_pages, "
                                              "page_too_large, too_many_objects, too_complex, encrypted_pdf, no_pages"},
                        400: {"description": "too_many_parts, invalid_multipart, field_too_large"},
                        429: {"description": "rate_limited"}})
def upload_document(app_id: str, file: UploadFile, session: SessionDep, services: ServicesDep,
                    caller: Annotated[Caller, Depends(OWN_APPLICATION)]) -> s.UploadOut:
    app = repo.get_application(session, app_id)  # 404 before reading or storing anything
    if app.status in workflow.CLOSED:
        raise workflow.ApplicationClosed(f"application is {app.status}; no more documents are accepted")
    # End the read transaction before the file is read and checked: on SQLite it holds the write
    # lock (BEGIN IMMEDIATE), and every other request would wait for this one's file work.
    # accept_upload reads the application again in the short transaction that stores it.
    session.commit()
    data, sha = _read_bounded(file, services.settings.limits.max_file_bytes)
    try:
        # By content, never by name or declared type; every loader limit and decodability
        # too, so a bad file is refused here (4xx + code), not later by a worker.
        kind = check_file(data, services.settings.limits)
    except InputError as exc:
        if exc.code == "unsupported_type":
            raise UnsupportedMediaType(exc.message) from None
        raise
    upload = workflow.Upload(filename=safe_filename(file.filename), content_type=MIME_TYPES[kind], data=data, sha256=sha)
    done = workflow.accept_upload(
        session, services.files, app_id, upload, actor=caller.name,
        enqueue=lambda doc_id: enqueue_document(services.redis, doc_id),
        audit=lambda doc_id: record(session, caller, "upload", "document", doc_id, app_id, size=len(data)),
    )
    return s.UploadOut(document_id=done.document_id, status=done.status)


@router.get("/applications/{app_id}", response_model=s.ApplicationOut, responses={**NOT_FOUND, **AUTH})
def get_application(app_id: str, session: SessionDep,
                    caller: Annotated[Caller, Depends(OWN_APPLICATION)]) -> s.ApplicationOut:
    return views.application_out(session, caller, app_id)


@router.get("/applications", response_model=s.ApplicationListOut, responses=AUTH)
def list_applications(
    session: SessionDep,
    caller: Annotated[Caller, Depends(STAFF)],
    status_: str | None = Query(default=None, alias="status"),
    loan_type: str | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
) -> s.ApplicationListOut:
    rows, total = repo.list_applications(session, status=status_, loan_type=loan_type, limit=limit, offset=offset)
    items = [s.ApplicationSummaryOut.model_validate(r.model_dump()) for r in rows]
    record(session, caller, "list", "application", None, None, count=len(items))
    return s.ApplicationListOut(items=items, total=total, limit=limit, offset=offset)


# Public: the applicant's lookup by number. It shows no personal data, only the status and
# what to supplement.
@router.get("/status/{application_no}", response_model=s.StatusOut, responses=NOT_FOUND,
            dependencies=[Depends(PUBLIC)])
def status_lookup(application_no: str, session: SessionDep) -> s.StatusOut:
    app, supplement = workflow.status_of(session, application_no)
    return s.StatusOut(application_no=app.application_no, status=app.status, supplement=supplement)


@router.get("/documents/{doc_id}/pages/{index}/{page}.jpg",
            responses={**NOT_FOUND, **AUTH, 200: {"content": {"image/jpeg": {}}}}, response_class=Response)
def get_page_image(doc_id: str, index: int, page: int, session: SessionDep, services: ServicesDep,
                   caller: Annotated[Caller, Depends(OWN_DOCUMENT)]) -> Response:
    """The page image that document ``index`` of this upload (0-based) was read from, for its
    ``page``-th page (1-based); every ``bbox`` of that document is in its pixels."""
    doc = repo.get_document(session, doc_id)
    ext = repo.latest_extraction(session, doc.id) if doc.status in workflow.FINISHED else None
    results = ext.result if ext else []
    keys = (results[index].get("page_images") or []) if 0 <= index < len(results) else []
    if not 1 <= page <= len(keys):
        raise repo.NotFound(f"no page image {index}/{page} for document {doc_id}")
    record(session, caller, "read", "page_image", doc_id, doc.application_id, index=index, page=page)
    return Response(services.files.get(keys[page - 1]), media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/documents/{doc_id}", response_model=s.DocumentOut, responses={**NOT_FOUND, **AUTH})
def get_document(doc_id: str, session: SessionDep, caller: Annotated[Caller, Depends(OWN_DOCUMENT)]) -> s.DocumentOut:
    return views.document_out(session, caller, doc_id)
