"""Small persistence functions over a ``Session``.

Every function flushes but never commits: the caller owns the transaction (the API commits an
upload before enqueueing it). They return frozen pydantic records, never ORM objects, so no
caller can lazily load or mutate rows outside the session that read them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from decimal import Decimal
from typing import Any, Iterable, Sequence

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loandocs.errors import LoanDocsError
from loandocs.models import DocumentResult, ExtractedField
from loandocs.models.status import DOCUMENT_STATUSES, FINISHED, TRANSITIONS
from loandocs.store import webhooks
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

# Application numbers carry the day in China Standard Time (no DST, so a fixed offset is exact):
# a bank's "today" does not switch at UTC midnight, 08:00 local.
CST = dt.timezone(dt.timedelta(hours=8))


class IllegalTransition(LoanDocsError):
    code = "illegal_transition"
    http_status = 409


class NotFound(LoanDocsError):
    code = "not_found"
    http_status = 404


class ConsentRequired(LoanDocsError):
    code = "consent_required"
    http_status = 409


class _Record(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class ApplicationRecord(_Record):
    id: str
    application_no: str
    applicant_name: str
    loan_type: str
    amount: Decimal
    term_months: int
    purpose: str
    application_date: dt.date
    status: str
    review_opinion: str | None
    supplement_requirements: Any | None
    disbursement_date: dt.date | None
    disbursement_amount: Decimal | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ConsentRecord(_Record):
    id: int
    application_id: str
    text_version: str
    channel: str
    agreed_at: dt.datetime
    ip: str | None


class DocumentRecord(_Record):
    id: str
    application_id: str
    filename: str
    content_type: str | None
    size: int
    sha256: str
    storage_key: str
    status: str
    error_code: str | None
    error_message: str | None
    doc_type: str | None
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ExtractionRecord(_Record):
    id: str
    document_id: str
    version: int
    extractor_version: str
    result: list[dict[str, Any]]
    created_at: dt.datetime


class CorrectionRecord(_Record):
    id: int
    document_id: str
    doc_type: str | None
    field: str
    value: Any | None
    reason: str
    corrected_by: str
    corrected_at: dt.datetime


class WaiverRecord(_Record):
    id: int
    document_id: str
    doc_type: str | None
    code: str
    reason: str
    waived_by: str
    waived_at: dt.datetime


class HistoryRecord(_Record):
    id: int
    application_id: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    at: dt.datetime


class EffectiveDocument(_Record):
    """One document of a file as the reviewer should see it: machine fields + corrections."""

    index: int  # position in the extraction's result list
    doc_type: str
    pages: list[int]
    extraction_version: int
    fields: dict[str, ExtractedField]


# -- applications ---------------------------------------------------------------------------

def hash_token(token: str) -> str:
    # The token is 256 random bits, so a plain SHA-256 is enough (no brute-forceable secret).
    return hashlib.sha256(token.encode()).hexdigest()


def new_applicant_token() -> tuple[str, str]:
    """(token to show the applicant once, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def _app(session: Session, app_id: str, *, lock: bool = False) -> Application:
    row = session.get(Application, app_id, with_for_update=lock or None)
    if row is None:
        raise NotFound(f"application {app_id} not found")
    return row


def _next_application_no(session: Session, day: dt.date) -> str:
    prefix = f"LD{day:%Y%m%d}-"
    last = session.scalar(
        select(func.max(Application.application_no)).where(Application.application_no.like(prefix + "%"))
    )
    return f"{prefix}{(int(last[len(prefix):]) + 1) if last else 1:06d}"


def create_application(
    session: Session,
    *,
    applicant_name: str,
    loan_type: str,
    amount: Decimal | int | str,
    term_months: int,
    purpose: str = "",
    application_date: dt.date | None = None,
    applicant_token_hash: str | None = None,
    actor: str = "applicant",
) -> ApplicationRecord:
    now = utcnow()
    # Two creators may pick the same next number; the unique index refuses the second, which
    # retries inside a savepoint so the caller's transaction survives.
    for _ in range(20):
        app = Application(
            application_no=_next_application_no(session, now.astimezone(CST).date()),
            applicant_name=applicant_name,
            loan_type=loan_type,
            amount=Decimal(str(amount)),
            term_months=term_months,
            purpose=purpose,
            application_date=application_date or now.astimezone(CST).date(),
            status="submitted",
            applicant_token_hash=applicant_token_hash,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(app)
        except IntegrityError:
            continue
        session.add(StatusHistory(application_id=app.id, from_status=None, to_status="submitted",
                                  actor=actor, reason="created", at=now))
        session.flush()
        return ApplicationRecord.model_validate(app)
    raise LoanDocsError("could not allocate an application number", code="application_no_conflict")


def get_application(session: Session, app_id: str) -> ApplicationRecord:
    return ApplicationRecord.model_validate(_app(session, app_id))


def lock_application(session: Session, app_id: str) -> ApplicationRecord:
    """Take the application's row lock for the rest of the transaction (PostgreSQL: SELECT ...
    FOR UPDATE), so two workers finishing documents of one application decide in turn."""
    return ApplicationRecord.model_validate(_app(session, app_id, lock=True))


def set_supplement_requirements(session: Session, app_id: str, items: list[dict[str, Any]]) -> None:
    """What the applicant must supplement, as shown by the status lookup."""
    row = _app(session, app_id, lock=True)
    row.supplement_requirements = list(items)
    session.flush()
    webhooks.attach_reason_codes(session, app_id, [i.get("code") for i in items if isinstance(i, dict)])


def get_application_by_no(session: Session, application_no: str) -> ApplicationRecord:
    row = session.scalar(select(Application).where(Application.application_no == application_no))
    if row is None:
        raise NotFound(f"application {application_no} not found")
    return ApplicationRecord.model_validate(row)


def verify_applicant_token(session: Session, app_id: str, token: str) -> bool:
    stored = _app(session, app_id).applicant_token_hash
    return stored is not None and hmac.compare_digest(stored, hash_token(token))


def change_status(session: Session, app_id: str, to_status: str, actor: str, reason: str = "") -> ApplicationRecord:
    # Row lock (PostgreSQL): two reviewers deciding at once must not both pass the check.
    app = _app(session, app_id, lock=True)
    if to_status not in TRANSITIONS.get(app.status, frozenset()):
        raise IllegalTransition(f"cannot go from {app.status} to {to_status}",
                                from_status=app.status, to_status=to_status)
    session.add(StatusHistory(application_id=app.id, from_status=app.status, to_status=to_status,
                              actor=actor, reason=reason, at=utcnow()))
    old, app.status = app.status, to_status
    session.flush()
    # The one place application events come from: written in this transaction (the outbox).
    webhooks.application_status_changed(session, app, old, to_status)
    return ApplicationRecord.model_validate(app)


def status_history(session: Session, app_id: str) -> list[HistoryRecord]:
    rows = session.scalars(select(StatusHistory).where(StatusHistory.application_id == app_id)
                           .order_by(StatusHistory.at, StatusHistory.id))
    return [HistoryRecord.model_validate(r) for r in rows]


def record_consent(session: Session, app_id: str, *, text_version: str, channel: str,
                   ip: str | None = None) -> ConsentRecord:
    _app(session, app_id)
    row = Consent(application_id=app_id, text_version=text_version, channel=channel, ip=ip, agreed_at=utcnow())
    session.add(row)
    session.flush()
    return ConsentRecord.model_validate(row)


# -- documents ------------------------------------------------------------------------------

def _doc(session: Session, doc_id: str) -> Document:
    row = session.get(Document, doc_id)
    if row is None:
        raise NotFound(f"document {doc_id} not found")
    return row


def add_document(session: Session, app_id: str, *, filename: str, content_type: str | None,
                 size: int, sha256: str, storage_key: str) -> DocumentRecord:
    _app(session, app_id)
    # DESIGN: consent is recorded before any upload is accepted; enforced here, not only in the API.
    if session.scalar(select(func.count()).select_from(Consent).where(Consent.application_id == app_id)) == 0:
        raise ConsentRequired("consent must be recorded before documents are accepted")
    row = Document(application_id=app_id, filename=filename, content_type=content_type, size=size,
                   sha256=sha256, storage_key=storage_key, status="received", attempts=0)
    session.add(row)
    session.flush()
    return DocumentRecord.model_validate(row)


def get_document(session: Session, doc_id: str) -> DocumentRecord:
    return DocumentRecord.model_validate(_doc(session, doc_id))


def list_documents(session: Session, app_id: str) -> list[DocumentRecord]:
    rows = session.scalars(select(Document).where(Document.application_id == app_id)
                           .order_by(Document.created_at, Document.id))
    return [DocumentRecord.model_validate(r) for r in rows]


def set_document_status(session: Session, doc_id: str, status: str, error_code: str | None = None,
                        error_message: str | None = None, *, doc_type: str | None = None) -> DocumentRecord:
    if status not in DOCUMENT_STATUSES:
        raise ValueError(f"unknown document status {status!r}")
    if (status == "failed") != (error_code is not None):
        raise ValueError("error_code is required for failed, and only for failed")
    doc = _doc(session, doc_id)
    before, doc.status = doc.status, status
    doc.error_code = error_code
    doc.error_message = error_message if status == "failed" else None
    if status == "processing":
        doc.attempts += 1  # lets the worker give up on a file that keeps killing it
    if doc_type is not None:
        doc.doc_type = doc_type
    doc.updated_at = utcnow()  # explicit: the sweeper relies on it even if nothing else changed
    session.flush()
    if status in FINISHED and before != status:  # document.extracted / document.failed, in this transaction
        webhooks.document_finished(session, document_id=doc.id, application_id=doc.application_id, status=status,
                                   doc_type=doc.doc_type, error_code=error_code)
    return DocumentRecord.model_validate(doc)


def stuck_documents(session: Session, older_than: dt.timedelta, *,
                    statuses: Sequence[str] = ("received", "queued"),
                    now: dt.datetime | None = None, limit: int = 500) -> list[DocumentRecord]:
    """Documents left in ``statuses`` since before ``now - older_than``, oldest first (sweeper)."""
    cutoff = (now or utcnow()) - older_than
    rows = session.scalars(select(Document).where(Document.status.in_(list(statuses)),
                                                  Document.updated_at < cutoff)
                           .order_by(Document.updated_at, Document.id).limit(limit))
    return [DocumentRecord.model_validate(r) for r in rows]


# -- extractions and corrections ------------------------------------------------------------

def add_extraction(session: Session, doc_id: str, result: Iterable[DocumentResult | dict[str, Any]],
                   extractor_version: str) -> ExtractionRecord:
    # Lock the document row so concurrent re-processing of one document cannot pick the same
    # version; the unique (document_id, version) index is the backstop (and all SQLite has).
    if session.get(Document, doc_id, with_for_update=True) is None:
        raise NotFound(f"document {doc_id} not found")
    data = [r.model_dump(mode="json") if isinstance(r, BaseModel) else DocumentResult.model_validate(r).model_dump(mode="json")
            for r in result]
    last = session.scalar(select(func.max(Extraction.version)).where(Extraction.document_id == doc_id))
    row = Extraction(document_id=doc_id, version=(last or 0) + 1, extractor_version=extractor_version,
                     result=data, created_at=utcnow())
    session.add(row)
    session.flush()
    return ExtractionRecord.model_validate(row)


def latest_extraction(session: Session, doc_id: str) -> ExtractionRecord | None:
    row = session.scalar(select(Extraction).where(Extraction.document_id == doc_id)
                         .order_by(Extraction.version.desc()).limit(1))
    return ExtractionRecord.model_validate(row) if row is not None else None


def add_correction(session: Session, doc_id: str, field: str, value: Any, *, corrected_by: str,
                   reason: str = "", doc_type: str | None = None) -> CorrectionRecord:
    """A reviewer's value for ``field``. ``doc_type`` picks the document inside a mixed file;
    None applies it to every document of the file."""
    _doc(session, doc_id)
    row = FieldCorrection(document_id=doc_id, doc_type=doc_type, field=field, value=value, reason=reason,
                          corrected_by=corrected_by, corrected_at=utcnow())
    session.add(row)
    session.flush()
    return CorrectionRecord.model_validate(row)


def add_waiver(session: Session, doc_id: str, code: str, *, waived_by: str, reason: str,
               doc_type: str | None = None) -> WaiverRecord:
    """A reviewer overrules check ``code`` on this file's document ``doc_type`` (None: every one)."""
    _doc(session, doc_id)
    row = CheckWaiver(document_id=doc_id, doc_type=doc_type, code=code, reason=reason, waived_by=waived_by, waived_at=utcnow())
    session.add(row)
    session.flush()
    return WaiverRecord.model_validate(row)


def list_waivers(session: Session, doc_id: str) -> list[WaiverRecord]:
    rows = session.scalars(select(CheckWaiver).where(CheckWaiver.document_id == doc_id).order_by(CheckWaiver.id))
    return [WaiverRecord.model_validate(r) for r in rows]


def note_history(session: Session, app_id: str, actor: str, reason: str) -> None:
    """A reviewer's act that changes no status but belongs in the history (a waived check)."""
    app = _app(session, app_id)
    session.add(StatusHistory(application_id=app.id, from_status=app.status, to_status=app.status,
                              actor=actor, reason=reason, at=utcnow()))
    session.flush()


def list_corrections(session: Session, doc_id: str) -> list[CorrectionRecord]:
    rows = session.scalars(select(FieldCorrection).where(FieldCorrection.document_id == doc_id)
                           .order_by(FieldCorrection.corrected_at, FieldCorrection.id))
    return [CorrectionRecord.model_validate(r) for r in rows]


def apply_corrections(doc_type: str, fields: dict[str, ExtractedField],
                      corrections: Iterable[CorrectionRecord]) -> dict[str, ExtractedField]:
    """``fields`` of one extracted document (``doc_type``) with the reviewer's corrections on
    top. ``corrections`` oldest first, so the latest one wins; one without a doc_type applies to
    every document of the file."""
    out = dict(fields)
    for c in corrections:
        if c.doc_type is not None and c.doc_type != doc_type:
            continue
        machine = out.get(c.field)
        # Keep the machine's position so the review page can still draw the box.
        out[c.field] = ExtractedField(value=c.value, confidence=1.0, source="reviewer",
                                      page=machine.page if machine else 1, bbox=machine.bbox if machine else None)
    return out


def effective_fields(session: Session, doc_id: str) -> list[EffectiveDocument]:
    """The latest extraction's fields with reviewer corrections on top.

    Corrections are stored apart from extractions and applied at read time, so a new
    extraction version (re-processing after a model upgrade) never loses them.
    """
    ext = latest_extraction(session, doc_id)
    if ext is None:
        return []
    corrections = list_corrections(session, doc_id)
    out = []
    for i, part in enumerate(ext.result):
        doc_type = part.get("doc_type", "unknown")
        fields = {k: ExtractedField.model_validate(v) for k, v in (part.get("fields") or {}).items()}
        fields = apply_corrections(doc_type, fields, corrections)
        out.append(EffectiveDocument(index=i, doc_type=doc_type, pages=part.get("pages") or [],
                                     extraction_version=ext.version, fields=fields))
    return out


def list_applications(session: Session, *, status: str | None = None, loan_type: str | None = None,
                      limit: int = 50, offset: int = 0) -> tuple[list[ApplicationRecord], int]:
    """A page of applications, newest first, and how many match in all."""
    where = []
    if status:
        where.append(Application.status == status)
    if loan_type:
        where.append(Application.loan_type == loan_type)
    total = session.scalar(select(func.count()).select_from(Application).where(*where)) or 0
    rows = session.scalars(select(Application).where(*where)
                           .order_by(Application.created_at.desc(), Application.id).limit(limit).offset(offset))
    return [ApplicationRecord.model_validate(r) for r in rows], total


def mark_queued(session: Session, doc_id: str) -> str:
    """``queued`` if the document is still ``received``; a fast worker may already have taken the
    job (row lock on PostgreSQL; SQLite transactions are serialised anyway). Its status after."""
    current = session.scalar(select(Document.status).where(Document.id == doc_id).with_for_update())
    if current == "received":
        return set_document_status(session, doc_id, "queued").status
    return current or "received"
