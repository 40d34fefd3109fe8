"""Admin routes: the audit log and erasure. Thin, like ``routes``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from loandocs.api import schemas as s
from loandocs.api.auth import ADMIN, Caller
from loandocs.api.deps import ServicesDep, SessionDep
from loandocs.store import access, erasure

router = APIRouter(prefix="/v1", tags=["admin"])
AUTH = {401: {"description": "auth_required, invalid_token"}, 403: {"description": "forbidden, csrf_failed"}}


@router.get("/audit", response_model=s.AuditListOut, responses=AUTH)
def list_audit(
    session: SessionDep,
    caller: Annotated[Caller, Depends(ADMIN)],
    application_id: str | None = Query(default=None, max_length=36),
    actor: str | None = Query(default=None, max_length=200),
    action: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> s.AuditListOut:
    total, events = access.list_audit(session, application_id=application_id, actor=actor, action=action,
                                      limit=limit, offset=offset)
    # Reading the audit log is itself audited: it shows who looked at whose application.
    access.audit(session, actor=caller.name, role=caller.role, action="read", object_type="audit_log",
                 application_id=application_id, ip=caller.ip)
    items = [s.AuditEventOut.model_validate(e.model_dump()) for e in events]
    return s.AuditListOut(items=items, total=total, limit=limit, offset=offset)


@router.delete("/applications/{app_id}", response_model=s.ErasedOut, responses={404: {"description": "not_found"}, **AUTH})
def erase_application(
    app_id: str,
    session: SessionDep,
    services: ServicesDep,
    caller: Annotated[Caller, Depends(ADMIN)],
    reason: str = Query(default="applicant request", min_length=1, max_length=500),
) -> s.ErasedOut:
    erased = erasure.erase_application(session, app_id, actor=caller.name, role=caller.role, reason=reason,
                                       ip=caller.ip)
    session.commit()  # rows first; files only once their rows are gone for good
    removed = erasure.remove_files(services.files, erased.file_keys)
    return s.ErasedOut(application_id=app_id, documents=erased.documents, files_removed=removed)
