"""initial schema: applications, consents, documents, extractions, corrections, history

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-29

Written out in full rather than importing ``tables.py``: a revision must keep describing the
schema as it was when it was written, whatever the models become later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("application_no", sa.String(32), nullable=False),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("loan_type", sa.String(64), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("term_months", sa.Integer, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("application_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("review_opinion", sa.Text),
        sa.Column("supplement_requirements", JSON),
        sa.Column("disbursement_date", sa.Date),
        sa.Column("disbursement_amount", MONEY),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("applicant_token_hash", sa.String(64)),
        sa.UniqueConstraint("application_no", name="uq_applications_application_no"),
    )
    op.create_index("ix_applications_status", "applications", ["status"])

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.String(36),
                  sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text_version", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("agreed_at", TS, nullable=False),
        sa.Column("ip", sa.String(64)),
    )
    op.create_index("ix_consents_application_id", "consents", ["application_id"])

    op.create_table(
        "documents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("application_id", sa.String(36),
                  sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100)),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text),
        sa.Column("doc_type", sa.String(32)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_documents_application_id", "documents", ["application_id"])
    op.create_index("ix_documents_sha256", "documents", ["sha256"])
    op.create_index("ix_documents_status_updated_at", "documents", ["status", "updated_at"])

    op.create_table(
        "extractions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("document_id", sa.String(36),
                  sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("extractor_version", sa.String(64), nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("document_id", "version", name="uq_extractions_document_version"),
    )
    op.create_index("ix_extractions_document_id", "extractions", ["document_id"])

    op.create_table(
        "field_corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(36),
                  sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("doc_type", sa.String(32)),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("value", JSON),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("corrected_by", sa.String(200), nullable=False),
        sa.Column("corrected_at", TS, nullable=False),
    )
    op.create_index("ix_field_corrections_document_id", "field_corrections", ["document_id"])

    op.create_table(
        "status_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.String(36),
                  sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_status", sa.String(32)),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_status_history_application_id", "status_history", ["application_id"])


def downgrade() -> None:
    for name in ("status_history", "field_corrections", "extractions", "documents", "consents",
                 "applications"):
        op.drop_table(name)
