"""personal-data columns encrypted at rest (AES-256-GCM, text form "LDE1:<key id>:<base64>")

Revision ID: 0003_encryption
Revises: 0002_auth_audit
Create Date: 2026-11-29

The columns become TEXT (ciphertext outgrows VARCHAR(n), and JSONB cannot hold it), then every
existing value is encrypted with the primary key of the keyring the migrating process has
(``loandocs.store.crypto``); a database with rows and no keyring refuses to migrate rather than
leave plaintext behind. The column list is written out here, not read from ``tables.py``, so
this revision keeps meaning what it meant when it was written.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from loandocs.store import crypto

revision = "0003_encryption"
down_revision = "0002_auth_audit"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# (table, column, is JSON, type before, nullable); every table's primary key is "id".
COLUMNS = [
    ("applications", "applicant_name", False, sa.String(200), False),
    ("applications", "review_opinion", False, sa.Text(), True),
    ("applications", "supplement_requirements", True, JSON, True),
    ("consents", "ip", False, sa.String(64), True),
    ("documents", "filename", False, sa.String(255), False),
    ("extractions", "result", True, JSON, False),
    ("field_corrections", "value", True, JSON, True),
    ("field_corrections", "reason", False, sa.Text(), False),
    ("status_history", "reason", False, sa.Text(), False),
]
BATCH = 500


def _tables() -> list[str]:
    return list(dict.fromkeys(t for t, *_ in COLUMNS))


def _rewrite(table: str, column: str, change) -> None:  # type: ignore[no-untyped-def]
    """Apply ``change`` to every non-NULL value, in primary-key order and bounded batches, so a
    large table is never held in memory at once."""
    conn = op.get_bind()
    t = sa.table(table, sa.column("id"), sa.column(column, sa.Text()))
    last = None
    while True:
        q = sa.select(t.c.id, t.c[column]).where(t.c[column].is_not(None)).order_by(t.c.id).limit(BATCH)
        if last is not None:
            q = q.where(t.c.id > last)
        rows = conn.execute(q).all()
        if not rows:
            return
        for pk, value in rows:
            conn.execute(sa.update(t).where(t.c.id == pk).values({column: change(value)}))
        last = rows[-1][0]


def _has_rows() -> bool:
    conn = op.get_bind()
    return any(conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() for table in _tables())


def upgrade() -> None:
    for table in _tables():
        # SQLite cannot change a column's type: batch mode rebuilds the table (db.migrate turns
        # foreign keys off meanwhile, or dropping the old parent table would cascade-delete).
        with op.batch_alter_table(table) as batch:
            for t, column, _is_json, before, nullable in COLUMNS:
                if t == table:
                    batch.alter_column(column, type_=sa.Text(), existing_type=before, existing_nullable=nullable,
                                       postgresql_using=f"{column}::text")
    if not _has_rows():
        return  # a new database: nothing to encrypt, and no keyring needed yet
    keyring = crypto.keyring_for(op.get_bind().dialect)
    for table, column, is_json, _before, _nullable in COLUMNS:
        aad = crypto.column_aad(f"{table}.{column}")
        if is_json:
            # The same compact form EncryptedJSON writes (JSONB's text has ", " separators).
            def change(v: str, aad: bytes = aad) -> str:
                text = json.dumps(json.loads(v), ensure_ascii=False, separators=(",", ":"))
                return keyring.encrypt_text(text, aad)
        else:
            def change(v: str, aad: bytes = aad) -> str:
                return keyring.encrypt_text(v, aad)
        _rewrite(table, column, change)


def downgrade() -> None:
    if _has_rows():
        keyring = crypto.keyring_for(op.get_bind().dialect)
        for table, column, _is_json, _before, _nullable in COLUMNS:
            aad = crypto.column_aad(f"{table}.{column}")
            _rewrite(table, column, lambda v, aad=aad: keyring.decrypt_text(v, aad))
    for table in _tables():
        with op.batch_alter_table(table) as batch:
            for t, column, is_json, before, nullable in COLUMNS:
                if t == table:
                    batch.alter_column(column, type_=before, existing_type=sa.Text(), existing_nullable=nullable,
                                       postgresql_using=f"{column}::jsonb" if is_json else None)
