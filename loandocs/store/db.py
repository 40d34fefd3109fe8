"""Engines, sessions and migrations for SQLite (default) and PostgreSQL (production)."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
TURN_TIMEOUT_S = 10.0  # SQLite: how long a transaction waits for this process's turn (see make_engine)


def normalize_url(url: str) -> str:
    """``postgresql://`` (what operators usually write) means psycopg 3, not psycopg2."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: object) -> Engine:
    url = normalize_url(url)
    # Error messages would otherwise quote the statement's values (names, ID numbers) into logs,
    # document error messages and rq's stored exceptions.
    kwargs.setdefault("hide_parameters", True)
    if make_url(url).get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)  # survive database restarts in long-lived workers
        return create_engine(url, **kwargs)

    connect_args = dict(kwargs.pop("connect_args", {}) or {})  # type: ignore[call-overload]
    # The API serves requests from a thread pool; sessions never share a connection at once.
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", 30)  # wait for another process's write lock, not fail
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # pysqlite opens transactions on its own and mishandles SAVEPOINT; let SQLAlchemy emit
        # BEGIN itself (the recipe from the SQLAlchemy SQLite docs). This also lets the PRAGMAs
        # below run outside any transaction, where SQLite honours them.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite, per connection
        # WAL: the API's readers and a worker's writer do not block each other (kept in the file).
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    # Transactions of this process queue here, in order, before they queue on SQLite's lock.
    # SQLite's busy handler polls with sleeps that grow to 100 ms, so 20 requests waiting for
    # the write lock were woken late and out of turn: measured, an upload's p99 of 1.6 s beside
    # a p50 of 64 ms (benchmarks/RESULTS.md). Other processes (workers) still meet the busy
    # timeout, briefly: their transactions are short.
    turn = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front, so concurrent read-then-write transactions
        # queue on the busy timeout instead of failing with "database is locked" at their first
        # write. It serialises transactions; PostgreSQL is the answer when that matters.
        # The wait for our turn is bounded: past it, SQLite's own busy timeout decides (a
        # transaction that waits on the event loop for a request holding the turn must not
        # wait forever).
        held = turn.acquire(timeout=TURN_TIMEOUT_S)
        conn.info["sqlite_turn"] = held
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn)
            raise

    def _release(conn) -> None:  # type: ignore[no-untyped-def]
        if conn.info.pop("sqlite_turn", False):
            turn.release()

    @event.listens_for(engine, "commit")
    def _on_commit(conn):  # type: ignore[no-untyped-def]
        # The event comes before the driver's commit; commit here so the turn is handed on only
        # once the transaction is over (the driver's own commit then finds nothing to do).
        try:
            conn.connection.dbapi_connection.commit()
        finally:
            _release(conn)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn):  # type: ignore[no-untyped-def]
        try:
            conn.connection.dbapi_connection.rollback()
        finally:
            _release(conn)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        # A connection given back (or invalidated) in the middle of a transaction hands on its turn.
        if record is not None and record.info.pop("sqlite_turn", False):
            turn.release()

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: records built from rows stay readable after the caller commits.
    return sessionmaker(bind=engine, expire_on_commit=False)


def default_url(data_dir: str | Path) -> str:
    path = Path(data_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / 'loandocs.db'}"


def alembic_config():  # type: ignore[no-untyped-def]
    """Alembic configured in code, so no alembic.ini is needed anywhere."""
    from alembic.config import Config

    cfg = Config()
    # ConfigParser interpolation: a literal % in the path must be doubled.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return cfg


def migrate(url: str | Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (``upgrade head``). Safe to call at every start."""
    from alembic import command

    engine = url if isinstance(url, Engine) else make_engine(url)
    cfg = alembic_config()
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # Batch migrations rebuild a SQLite table (copy, drop, rename); with foreign keys
                # on, dropping a parent table cascade-deletes its children's rows. The pragma is
                # ignored inside a transaction, so it goes to the raw connection before BEGIN.
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn  # env.py runs on this connection
                    command.upgrade(cfg, revision)
                    if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                        raise RuntimeError("migration left rows whose foreign keys point nowhere")
            finally:
                if sqlite:
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    finally:
        if engine is not url:
            engine.dispose()
