"""Erasure of an application's personal data, on request or when its retention ends.

Everything about the application goes: its row, consents, documents, extraction versions,
corrections, status history and the stored files (uploads and page images). What stays is the
audit trail, which never held personal data (ids and action names only), plus one ``erase``
event saying who erased it, when and why. Files are content-addressed, so a file is kept when
a document of another application is the same upload (same SHA-256): its page images come
from the same bytes and are shared too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from loandocs.store.access import audit
from loandocs.store.files import DocumentStore
from loandocs.store.repository import NotFound
from loandocs.store.tables import (
    Application,
    CheckWaiver,
    Consent,
    Document,
    Extraction,
    FieldCorrection,
    StatusHistory,
    utcnow,
)


@dataclass(frozen=True)
class Erased:
    application_id: str
    documents: int
    file_keys: tuple[str, ...]  # to remove with ``remove_files`` once the transaction committed


def erase_application(session: Session, app_id: str, *, actor: str, role: str, reason: str,
                      ip: str | None = None) -> Erased:
    """Delete the application's rows and audit it; the caller commits, then removes the files
    (``remove_files``). In that order a failed commit loses nothing, and a crash between the two
    leaves only encrypted orphan files that no row points to; ``erase`` can be re-run."""
    app = session.get(Application, app_id, with_for_update=True)
    if app is None:
        raise NotFound(f"application {app_id} not found")
    docs = list(session.scalars(select(Document).where(Document.application_id == app_id)))
    doc_ids = [d.id for d in docs]
    keys: set[str] = set()
    for doc in docs:
        shared = session.scalar(select(Document.id).where(Document.sha256 == doc.sha256,
                                                          Document.application_id != app_id).limit(1))
        if shared is not None:
            continue
        keys.add(doc.storage_key)
        for result in session.scalars(select(Extraction.result).where(Extraction.document_id == doc.id)):
            for part in result or []:
                keys.update(part.get("page_images") or [])
    if doc_ids:
        session.execute(delete(FieldCorrection).where(FieldCorrection.document_id.in_(doc_ids)))
        session.execute(delete(CheckWaiver).where(CheckWaiver.document_id.in_(doc_ids)))
        session.execute(delete(Extraction).where(Extraction.document_id.in_(doc_ids)))
        session.execute(delete(Document).where(Document.id.in_(doc_ids)))
    session.execute(delete(Consent).where(Consent.application_id == app_id))
    session.execute(delete(StatusHistory).where(StatusHistory.application_id == app_id))
    session.delete(app)
    session.flush()
    audit(session, actor=actor, role=role, action="erase", object_type="application", object_id=app_id,
          application_id=app_id, ip=ip, detail={"reason": reason, "documents": len(doc_ids), "files": len(keys)})
    return Erased(application_id=app_id, documents=len(doc_ids), file_keys=tuple(sorted(keys)))


def remove_files(files: DocumentStore, keys: tuple[str, ...]) -> int:
    removed = 0
    for key in keys:
        if files.exists(key):
            files.delete(key)
            removed += 1
    return removed


def expired_applications(session: Session, *, rejected_after_days: int, now: dt.datetime | None = None) -> list[str]:
    """Rejected applications whose rejection is older than the retention period."""
    cutoff = (now or utcnow()) - dt.timedelta(days=rejected_after_days)
    rejected_at = (select(StatusHistory.application_id)
                   .where(StatusHistory.to_status == "rejected", StatusHistory.at < cutoff))
    rows = session.scalars(select(Application.id).where(Application.status == "rejected",
                                                        Application.id.in_(rejected_at)).order_by(Application.id))
    return list(rows)
