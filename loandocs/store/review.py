"""Queries and updates of the review workbench: the queue, decisions, disbursement.

Like ``repository``, nothing here commits and only frozen records leave; status moves go
through ``repository.change_status`` so the transition table and the history stay in one place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from loandocs.models import DocumentResult
from loandocs.models.status import FINISHED
from loandocs.store import repository as repo
from loandocs.store.tables import Application, CheckWaiver, Document, Extraction, FieldCorrection, StatusHistory

# "Waiting for review or supplement" (the queue's default view).
QUEUE_STATUSES = ("collected", "under_review", "needs_supplement")


class QueueQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    statuses: tuple[str, ...] = QUEUE_STATUSES
    loan_type: str | None = None
    date_from: dt.date | None = None  # application_date, inclusive
    date_to: dt.date | None = None
    newest_first: bool = False  # default: oldest first, the longest-waiting on top


class FileResults(BaseModel):
    """One uploaded file with its latest extraction, reviewer corrections applied."""

    model_config = ConfigDict(frozen=True)

    document: repo.DocumentRecord
    extraction_version: int | None
    parts: list[DocumentResult]
    waivers: list[repo.WaiverRecord] = []


def _filters(q: QueueQuery, *, with_status: bool) -> list[Any]:
    where: list[Any] = []
    if with_status:
        where.append(Application.status.in_(list(q.statuses)))
    if q.loan_type:
        where.append(Application.loan_type == q.loan_type)
    if q.date_from:
        where.append(Application.application_date >= q.date_from)
    if q.date_to:
        where.append(Application.application_date <= q.date_to)
    return where


def status_counts(session: Session, q: QueueQuery) -> dict[str, int]:
    """Applications per status under the query's loan type and dates (not its statuses), so the
    counts beside a status filter say what choosing it would show."""
    rows = session.execute(select(Application.status, func.count()).where(*_filters(q, with_status=False))
                           .group_by(Application.status))
    return {status: n for status, n in rows}


def queue(session: Session, q: QueueQuery, *, limit: int | None = None, offset: int = 0
          ) -> tuple[int, list[repo.ApplicationRecord]]:
    """(total, one page) of the applications matching ``q``, by age."""
    where = _filters(q, with_status=True)
    total = session.scalar(select(func.count()).select_from(Application).where(*where)) or 0
    order = Application.created_at.desc() if q.newest_first else Application.created_at.asc()
    stmt = select(Application).where(*where).order_by(order, Application.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return total, [repo.ApplicationRecord.model_validate(r) for r in session.scalars(stmt)]


def apply_corrections(part: dict[str, Any], corrections: Iterable[repo.CorrectionRecord]) -> DocumentResult:
    """One extracted document with reviewer corrections on top (``repository.apply_corrections``),
    over rows already loaded in bulk."""
    result = DocumentResult.model_validate(part)
    return result.model_copy(update={"fields": repo.apply_corrections(result.doc_type, result.fields, corrections)})


def files_of(session: Session, app_ids: list[str]) -> dict[str, list[FileResults]]:
    """Every file of these applications with its latest extraction and corrections applied,
    in three queries whatever the number of applications (the queue assesses a page at once)."""
    out: dict[str, list[FileResults]] = {a: [] for a in app_ids}
    if not app_ids:
        return out
    docs = [repo.DocumentRecord.model_validate(d) for d in session.scalars(
        select(Document).where(Document.application_id.in_(app_ids)).order_by(Document.created_at, Document.id))]
    doc_ids = [d.id for d in docs]
    latest = (select(Extraction.document_id, func.max(Extraction.version).label("v"))
              .where(Extraction.document_id.in_(doc_ids)).group_by(Extraction.document_id).subquery())
    extractions = {e.document_id: e for e in session.scalars(select(Extraction).join(
        latest, and_(Extraction.document_id == latest.c.document_id, Extraction.version == latest.c.v)))}
    corrections: dict[str, list[repo.CorrectionRecord]] = defaultdict(list)
    for c in session.scalars(select(FieldCorrection).where(FieldCorrection.document_id.in_(doc_ids))
                             .order_by(FieldCorrection.corrected_at, FieldCorrection.id)):
        corrections[c.document_id].append(repo.CorrectionRecord.model_validate(c))
    waivers: dict[str, list[repo.WaiverRecord]] = defaultdict(list)
    for w in session.scalars(select(CheckWaiver).where(CheckWaiver.document_id.in_(doc_ids)).order_by(CheckWaiver.id)):
        waivers[w.document_id].append(repo.WaiverRecord.model_validate(w))
    for d in docs:
        ext = extractions.get(d.id)
        parts = [apply_corrections(p, corrections[d.id]) for p in (ext.result if ext else [])]
        out[d.application_id].append(FileResults(document=d, extraction_version=ext.version if ext else None,
                                                 parts=parts, waivers=waivers[d.id]))
    return out


def waivers_by_part(files: list[FileResults]) -> list[dict[str, tuple[str, str]]]:
    """For each part of these files in order: the checks waived on it, code -> (reviewer, reason)
    (the latest waiver of a code wins)."""
    return [{w.code: (w.waived_by, w.reason) for w in f.waivers if w.doc_type in (None, p.doc_type)} for f in files for p in f.parts]


def finished_waivers(files: list[FileResults]) -> list[dict[str, tuple[str, str]]]:
    """Parallel to ``finished_parts``."""
    return waivers_by_part([f for f in files if f.document.status in FINISHED])


def finished_parts(files: list[FileResults]) -> tuple[list[DocumentResult], list[str]]:
    """The documents read from the finished files (latest extraction, reviewer corrections on
    top), and the file hash of each, as the assessment takes them for duplicate detection."""
    done = [f for f in files if f.document.status in FINISHED]
    return [p for f in done for p in f.parts], [f.document.sha256 for f in done for _ in f.parts]


def last_move_to(session: Session, app_id: str, to_status: str) -> repo.HistoryRecord | None:
    # A note (from == to: a waived check) is not a move.
    row = session.scalar(select(StatusHistory).where(StatusHistory.application_id == app_id,
                                                     StatusHistory.to_status == to_status,
                                                     or_(StatusHistory.from_status.is_(None),
                                                         StatusHistory.from_status != to_status))
                         .order_by(StatusHistory.at.desc(), StatusHistory.id.desc()).limit(1))
    return repo.HistoryRecord.model_validate(row) if row is not None else None


def _row(session: Session, app_id: str) -> Application:
    row = session.get(Application, app_id)
    if row is None:
        raise repo.NotFound(f"application {app_id} not found")
    return row


def decide(session: Session, app_id: str, to_status: str, *, actor: str, opinion: str) -> repo.ApplicationRecord:
    """Approve or reject (``to_status``) with the reviewer's opinion."""
    if to_status not in ("approved", "rejected"):
        raise ValueError(f"not a decision: {to_status}")
    repo.change_status(session, app_id, to_status, actor=actor, reason=opinion)
    row = _row(session, app_id)
    row.review_opinion = opinion
    session.flush()
    return repo.ApplicationRecord.model_validate(row)


def request_supplement(session: Session, app_id: str, items: list[dict[str, Any]], *, actor: str,
                       reason: str) -> repo.ApplicationRecord:
    """Send the application back to the applicant with the reviewer's chosen reasons, which
    the status lookup shows until the next assessment replaces them."""
    repo.change_status(session, app_id, "needs_supplement", actor=actor, reason=reason)
    repo.set_supplement_requirements(session, app_id, items)
    return repo.get_application(session, app_id)


def disburse(session: Session, app_id: str, *, actor: str, date: dt.date, amount: Decimal) -> repo.ApplicationRecord:
    repo.change_status(session, app_id, "disbursed", actor=actor, reason=f"{date.isoformat()} {amount}")
    row = _row(session, app_id)
    row.disbursement_date = date
    row.disbursement_amount = amount
    session.flush()
    return repo.ApplicationRecord.model_validate(row)
