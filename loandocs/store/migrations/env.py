"""Alembic environment, driven from ``loandocs.store.db.migrate`` (no alembic.ini).

``migrate`` hands over an open connection in ``config.attributes["connection"]``. Offline mode
(``--sql``) needs ``sqlalchemy.url`` set on the config.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from loandocs.store.tables import Base

config = context.config
target_metadata = Base.metadata

# Any constant shared by every loandocs process: serialises concurrent `migrate` calls
# (API and workers starting together) on PostgreSQL.
_PG_LOCK_KEY = 7_110_523_001


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through loandocs.store.db.migrate(url)")
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
