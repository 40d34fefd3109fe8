"""Queries for operations: choosing documents to re-process, failed documents, counts for
``/metrics``. Like ``repository``: flush, never commit; frozen records out, never ORM rows."""

from __future__ import annotations

import datetime as dt
import re
from typing import Sequence

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from loandocs.models.status import FINISHED
from loandocs.store.repository import CST
from loandocs.store.tables import Application, Document, Extraction, StatusHistory, utcnow

_CHUNK = 500  # ids per IN (...) clause; SQLite allows 32766 parameters, PostgreSQL 65535


class _Record(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class Selected(_Record):
    id: str
    application_id: str
    status: str
    doc_type: str | None
    extractor_version: str | None  # of the latest extraction; None when never extracted


class FailedDocument(_Record):
    id: str
    application_id: str
    application_no: str
    filename: str
    error_code: str | None
    error_message: str | None
    attempts: int
    updated_at: dt.datetime


def version_key(version: str | None) -> tuple[int, ...]:
    """``"0.10.2"`` -> ``(0, 10, 2)``: numeric, so 0.10 sorts after 0.9. Non-digits end a part."""
    if not version:
        return ()
    return tuple(int(m.group()) if (m := re.match(r"\d+", part)) else 0 for part in version.split("."))


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in China Standard Time, the day the bank's staff mean."""
    return dt.datetime.combine(day, dt.time(), tzinfo=CST)


def select_documents(session: Session, *, application_ids: Sequence[str] = (), doc_types: Sequence[str] = (),
                     statuses: Sequence[str] = FINISHED, since: dt.date | None = None, until: dt.date | None = None,
                     older_than_extractor: str | None = None, error_codes: Sequence[str] = ()) -> list[Selected]:
    """Finished documents matching every given filter, grouped by application (so a batch can
    hold all of an application's documents), oldest upload first within it.

    ``since``/``until`` are upload days (CST), both inclusive. ``older_than_extractor`` keeps
    documents whose latest extraction was made by an older extractor version, or none at all.
    """
    wanted = [s for s in statuses if s in FINISHED]
    latest = (select(Extraction.document_id, func.max(Extraction.version).label("version"))
              .group_by(Extraction.document_id).subquery())
    q = (select(Document.id, Document.application_id, Document.status, Document.doc_type,
                Extraction.extractor_version)
         .outerjoin(latest, latest.c.document_id == Document.id)
         .outerjoin(Extraction, and_(Extraction.document_id == Document.id, Extraction.version == latest.c.version))
         .where(Document.status.in_(wanted)))
    if application_ids:
        q = q.where(Document.application_id.in_(list(application_ids)))
    if doc_types:
        q = q.where(Document.doc_type.in_(list(doc_types)))
    if error_codes:
        q = q.where(Document.error_code.in_(list(error_codes)))
    if since is not None:
        q = q.where(Document.created_at >= day_start(since))
    if until is not None:
        q = q.where(Document.created_at < day_start(until + dt.timedelta(days=1)))
    q = q.order_by(Document.application_id, Document.created_at, Document.id)
    rows = [Selected(id=r[0], application_id=r[1], status=r[2], doc_type=r[3], extractor_version=r[4])
            for r in session.execute(q)]
    if older_than_extractor is not None:
        current = version_key(older_than_extractor)
        rows = [r for r in rows if r.extractor_version is None or version_key(r.extractor_version) < current]
    return rows


def mark_queued(session: Session, ids: Sequence[str]) -> list[str]:
    """Set finished documents to ``queued`` for another run: attempts back to 0 (the sweeper's
    limit is per run), error cleared. Returns the ids that were still finished; a document that
    meanwhile got a job of its own (a new upload's sweep) is left to that job."""
    done: list[str] = []
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i:i + _CHUNK])
        # Row locks (PostgreSQL) so a worker finishing one of them cannot interleave.
        found = list(session.scalars(select(Document.id).where(Document.id.in_(chunk), Document.status.in_(FINISHED))
                                     .with_for_update()))
        if found:
            session.execute(update(Document).where(Document.id.in_(found))
                            .values(status="queued", attempts=0, error_code=None, error_message=None,
                                    updated_at=utcnow()))
        done.extend(found)
    session.flush()
    return done


def statuses_of(session: Session, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """``{id: (status, error_code)}`` for the given documents (progress of a run)."""
    out: dict[str, tuple[str, str | None]] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i:i + _CHUNK])
        for doc_id, status, code in session.execute(select(Document.id, Document.status, Document.error_code)
                                                    .where(Document.id.in_(chunk))):
            out[doc_id] = (status, code)
    return out


def failed_documents(session: Session, *, error_codes: Sequence[str] = (), application_ids: Sequence[str] = (),
                     limit: int | None = None) -> list[FailedDocument]:
    q = (select(Document.id, Document.application_id, Application.application_no, Document.filename,
                Document.error_code, Document.error_message, Document.attempts, Document.updated_at)
         .join(Application, Application.id == Document.application_id)
         .where(Document.status == "failed"))
    if error_codes:
        q = q.where(Document.error_code.in_(list(error_codes)))
    if application_ids:
        q = q.where(Document.application_id.in_(list(application_ids)))
    q = q.order_by(Document.updated_at.desc(), Document.id).limit(limit)
    return [FailedDocument(id=r[0], application_id=r[1], application_no=r[2], filename=r[3], error_code=r[4],
                           error_message=r[5], attempts=r[6], updated_at=r[7]) for r in session.execute(q)]


def document_counts(session: Session) -> dict[tuple[str, str], int]:
    """``{(status, doc_type or "none"): count}`` over all documents (``/metrics``)."""
    q = select(Document.status, Document.doc_type, func.count()).group_by(Document.status, Document.doc_type)
    return {(status, doc_type or "none"): n for status, doc_type, n in session.execute(q)}


def application_counts(session: Session) -> dict[str, int]:
    q = select(Application.status, func.count()).group_by(Application.status)
    return {status: n for status, n in session.execute(q)}


def status_changes(session: Session, *, actor: str, since: dt.datetime, reason_prefix: str = "") -> list[tuple[str, str | None, str]]:
    """``(application_id, from, to)`` recorded by ``actor`` since ``since`` (a run's summary)."""
    q = (select(StatusHistory.application_id, StatusHistory.from_status, StatusHistory.to_status,
                StatusHistory.reason)
         .where(StatusHistory.actor == actor, StatusHistory.at >= since)
         .order_by(StatusHistory.at, StatusHistory.id))
    # The reason is encrypted (it can hold an opinion), so it is compared after decryption.
    return [(a, f, t) for a, f, t, reason in session.execute(q) if (reason or "").startswith(reason_prefix)]
