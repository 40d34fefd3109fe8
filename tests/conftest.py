import datetime as dt
import os
import signal
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path

import pytest

from loandocs.reader import Pipeline, PipelineOptions, get_engine

from .helpers import cmdline, descendants, end_processes
from .s3server import s3_server  # noqa: F401 - the session's S3 server for the distributed tests

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "idcards"
# The sample set's ground truth is judged as of this day (validity, age).
SAMPLE_DATE = dt.date(2026, 11, 29)


# ---------------------------------------------------------------- a test run that stops
#
# Ctrl-C and SIGTERM must stop the run within seconds and leave nothing behind. Three things
# stood in the way: rq's worker, run in-process by many tests (run_worker(..., burst=True) on
# the main thread), installs its own SIGINT/SIGTERM handlers (a warm shutdown request) and
# never puts Python's back, so every later signal was swallowed; a signal that arrives while
# that worker runs only ends the worker, not the run; and subprocess workers a test forgot
# were left running. So: every test gets the handlers it started with back, a stop signal that
# rq took is re-raised as KeyboardInterrupt once the test is over, SIGTERM interrupts like
# Ctrl-C (pytest then tears fixtures down), and processes a test leaves are ended.

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
RESTORED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGHUP)
_signals_taken_by_rq: list[int] = []
# Processes Python itself keeps for the interpreter's life (multiprocessing's helpers).
_LONG_LIVED = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def _sigterm_interrupts(signum, frame):  # noqa: ARG001 - signal handler shape
    # The first SIGTERM interrupts like Ctrl-C so fixtures and this file clean up; a second
    # one while that cleanup runs ends the process at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt("SIGTERM")


def _record_rq_stop_signals() -> None:
    """rq's handlers stay (they are what the tests of warm shutdown exercise); this only notes
    that a stop signal went to an in-process worker, so the run stops after the test."""
    from rq.worker.base import BaseWorker

    def install(worker) -> None:
        def stop(signum, frame):
            _signals_taken_by_rq.append(signum)
            worker.request_stop(signum, frame)

        for s in STOP_SIGNALS:
            signal.signal(s, stop)

    BaseWorker._install_signal_handlers = install


def pytest_configure(config):  # noqa: ARG001
    signal.signal(signal.SIGTERM, _sigterm_interrupts)
    _record_rq_stop_signals()


def pytest_unconfigure(config):  # noqa: ARG001
    # Whatever is still running when the run ends, interrupted or not, goes with it.
    end_processes(descendants(), grace_s=5)


@pytest.fixture(autouse=True)
def _no_leftovers():
    """Each test gets back the signal handlers it started with, and loses the processes it
    started and left running (with a warning naming them). Function scope and autouse: it is
    set up after the session and module fixtures (whose processes it must keep) and torn down
    after the test's other fixtures (which may stop their own processes)."""
    handlers = {s: signal.getsignal(s) for s in RESTORED_SIGNALS}
    before = descendants()
    yield
    for s, h in handlers.items():
        signal.signal(s, h)
    left = {p for p in descendants() - before if not any(n in cmdline(p) for n in _LONG_LIVED)}
    if left:
        warnings.warn(f"the test left processes running; ended: {[cmdline(p)[:120] for p in sorted(left)]}",
                      stacklevel=1)
        end_processes(left)
    if _signals_taken_by_rq:
        names = [signal.Signals(s).name for s in _signals_taken_by_rq]
        _signals_taken_by_rq.clear()
        raise KeyboardInterrupt(f"{', '.join(names)} received while an in-process rq worker ran")


@pytest.fixture(autouse=True, scope="session")
def _test_keyring():
    """Encrypted columns need a keyring. ``Services`` binds its own to its engine; tests that use
    the store directly (``db.migrate(url)``, ``make_engine``) get this throwaway one."""
    from loandocs.store import crypto

    crypto.install_keyring(crypto.Keyring.generate())


@pytest.fixture(scope="session")
def engine():
    return get_engine()


@pytest.fixture(scope="session")
def pipeline(engine):
    return Pipeline(PipelineOptions(application_date=SAMPLE_DATE), engine=engine)


PG_URL = os.environ.get("LOANDOCS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def pg_schema(prefix: str = "test"):
    """A throwaway schema in the test PostgreSQL, dropped afterwards. Yields a URL whose libpq
    ``options`` put that schema on the search_path of every connection, Alembic's included."""
    from sqlalchemy import create_engine, text

    from loandocs.store import db

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db.normalize_url(PG_URL))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any connect failure means the same thing here
        admin.dispose()
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable ({exc.__class__.__name__}: {exc}); "
                    "start it or set LOANDOCS_TEST_PG_URL", pytrace=False)
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each test using it runs on a SQLite file and on a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        from loandocs.store import db

        yield db.default_url(tmp_path)
        return
    with pg_schema() as url:
        yield url


def staff_token(services, role: str = "reviewer", name: str | None = None) -> str:
    """A new bearer token of ``role`` in ``services``' database."""
    from loandocs.store import access

    with services.sessions() as session:
        token, _ = access.create_token(session, role=role, name=name or f"test-{role}")
        session.commit()
    return token


@contextmanager
def flushed_redis(url: str):
    """A client of the test Redis database ``url``, emptied before and after; fails the test
    (not skips) when Redis is unreachable, since the queue tests must run against a real one."""
    from redis import Redis

    r = Redis.from_url(url)
    try:
        r.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis at {url} is unreachable ({exc})", pytrace=False)
    r.flushdb()
    try:
        yield r
    finally:
        r.flushdb()
        r.close()


@contextmanager
def services_on(tmp_path: Path, redis_url: str):
    """``Services`` on a SQLite file under ``tmp_path`` and the emptied Redis ``redis_url``."""
    from loandocs.config import Settings
    from loandocs.services import Services, set_services

    with flushed_redis(redis_url):
        services = Services(Settings(data_dir=tmp_path / "data", redis_url=redis_url))
        try:
            yield services
        finally:
            set_services(None)
            services.engine.dispose()


CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def reportlab_cjk_font() -> str:
    """The name of a CJK font registered with reportlab, for PDFs drawn in the tests."""
    if not CJK_FONT.exists():
        pytest.skip(f"no CJK font at {CJK_FONT}; install fonts-wqy-microhei")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "wqy" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("wqy", str(CJK_FONT), subfontIndex=0))
    return "wqy"


def one_page_statement_pdf(seed: int, holder: str) -> bytes:
    """A one-page born-digital statement: about 0.1 s through the text layer, for tests that
    need many documents processed for real."""
    import random

    import numpy as np

    from loandocs.samplegen.financial_set import _pdf
    from loandocs.samplegen.statement import random_statement, render_statement

    rng, nprng = random.Random(seed), np.random.default_rng(seed)
    st = random_statement(rng, holder, rows=(12, 14))
    return _pdf(lambda cv: render_statement(cv, st, rng, nprng, "signed"))
