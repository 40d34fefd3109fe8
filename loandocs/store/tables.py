"""SQLAlchemy 2 tables. Kept apart from the pydantic contract in ``loandocs.models``.

The schema itself is created by the Alembic revisions in ``migrations/``; these classes must
stay in step with them (``tests/test_store.py`` compares the two on SQLite and PostgreSQL).
Personal data is in ``EncryptedText``/``EncryptedJSON`` columns (``crypto``; revision 0003):
they cannot be compared or searched in SQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from loandocs.store.crypto import EncryptedJSON, EncryptedText

# Plain JSON on SQLite, JSONB on PostgreSQL (indexable, compact); both load to Python objects.
JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Always aware UTC datetimes, on both databases.

    SQLite has no time zone type and hands back naive values while PostgreSQL's ``timestamptz``
    hands back aware ones; without this, comparisons in callers would break on one of them.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


Money = Numeric(14, 2)


class Base(DeclarativeBase):
    pass


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("application_no", name="uq_applications_application_no"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_no: Mapped[str] = mapped_column(String(32))
    applicant_name: Mapped[str] = mapped_column(EncryptedText("applications.applicant_name"))
    loan_type: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text, default="")
    application_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), index=True)
    review_opinion: Mapped[str | None] = mapped_column(EncryptedText("applications.review_opinion"))
    # Findings quote dates read from the documents (expiry, issue date, age): personal data too.
    supplement_requirements: Mapped[Any | None] = mapped_column(EncryptedJSON("applications.supplement_requirements"))
    disbursement_date: Mapped[dt.date | None] = mapped_column(Date)
    disbursement_amount: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # Only a hash: the token itself is shown to the applicant once and never stored.
    applicant_token_hash: Mapped[str | None] = mapped_column(String(64))


class Consent(Base):
    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    text_version: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    agreed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(EncryptedText("consents.ip"))


class Document(Base):
    """One uploaded file. It may hold several documents; the extraction lists each of them."""

    __tablename__ = "documents"
    # The sweeper looks for documents left in one status for too long.
    __table_args__ = (Index("ix_documents_status_updated_at", "status", "updated_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(EncryptedText("documents.filename"))  # often the person's name
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    doc_type: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Extraction(Base):
    __tablename__ = "extractions"
    __table_args__ = (UniqueConstraint("document_id", "version", name="uq_extractions_document_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    extractor_version: Mapped[str] = mapped_column(String(64))
    # List of DocumentResult dicts: names, ID numbers, addresses, accounts, transactions.
    result: Mapped[Any] = mapped_column(EncryptedJSON("extractions.result"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class FieldCorrection(Base):
    __tablename__ = "field_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    # Which of the file's documents the field belongs to; NULL = every one (single-document files).
    doc_type: Mapped[str | None] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any | None] = mapped_column(EncryptedJSON("field_corrections.value"))
    reason: Mapped[str] = mapped_column(EncryptedText("field_corrections.reason"), default="")  # free text
    corrected_by: Mapped[str] = mapped_column(String(200))
    corrected_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class CheckWaiver(Base):
    """A reviewer overruling a machine check on one document (a false glare flag, a misread
    that was corrected). It holds for the document through re-processing; a new upload is a
    new document and is judged afresh."""

    __tablename__ = "check_waivers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    # Which of the file's documents; NULL = every one (single-document files).
    doc_type: Mapped[str | None] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(EncryptedText("check_waivers.reason"), default="")  # free text
    waived_by: Mapped[str] = mapped_column(String(200))
    waived_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class StatusHistory(Base):
    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    # Encrypted: reviewers' opinions and disbursement amounts are written here as the reason.
    reason: Mapped[str] = mapped_column(EncryptedText("status_history.reason"), default="")
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token of a reviewer, admin (or service) caller. Only the SHA-256 is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="cli")
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class AuditEvent(Base):
    """Append-only log of every read and change of personal data.

    Holds ids and action names, never the personal data itself, so it can outlive an erased
    application as its anonymised trail. Database triggers (migration 0002) refuse UPDATE and
    DELETE on it.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_application_id_at", "application_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    application_id: Mapped[str | None] = mapped_column(String(36))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[Any | None] = mapped_column(JsonType)


class WebhookSubscription(Base):
    """A receiver of the lender's systems: where events go, the Standard Webhooks signing
    secret (``whsec_...``, encrypted at rest like personal data: it is a credential) and the
    event types it wants. Migration 0004."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(EncryptedText("webhook_subscriptions.secret"))
    event_types: Mapped[Any] = mapped_column(JsonType)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="cli")


class WebhookEvent(Base):
    """The outbox: one event, written in the transaction that made the change it tells of.
    Ids and codes only, never personal data; ``id`` is the ``webhook-id`` every delivery and
    retry of it carries, so receivers can drop duplicates."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[str | None] = mapped_column(String(36), index=True)
    payload: Mapped[Any] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one subscription: pending until a 2xx answer (delivered) or the last
    attempt (dead: the dead-letter list, until redelivered by command)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "subscription_id", name="uq_webhook_deliveries_event_subscription"),
                      Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # in this round (redelivery starts a new one)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Set while a job sends it: a second job for the same delivery (a sweep, a duplicate) skips it.
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class WebhookAttempt(Base):
    """Every try of a delivery: when, the HTTP status (None: no answer) and the error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
