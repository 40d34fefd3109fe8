"""check waivers: a reviewer overrules a machine check on one document

Revision ID: 0005_check_waivers
Revises: 0004_webhooks
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_check_waivers"
down_revision = "0004_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_waivers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(36), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("doc_type", sa.String(32), nullable=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),  # encrypted (LDE1:...) like other free text
        sa.Column("waived_by", sa.String(200), nullable=False),
        sa.Column("waived_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_check_waivers_document_id", "check_waivers", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_check_waivers_document_id", table_name="check_waivers")
    op.drop_table("check_waivers")
