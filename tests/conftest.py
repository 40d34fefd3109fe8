import signal
import warnings

import pytest

from loandocs.reader import Pipeline, PipelineOptions, get_engine

from .helpers import SAMPLE_DATE, cmdline, descendants, end_processes, pg_schema
from .s3server import s3_server  # noqa: F401 - the session's S3 server for the distributed tests

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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each test using it runs on a SQLite file and on a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        from loandocs.store import db

        yield db.default_url(tmp_path)
        return
    with pg_schema() as url:
        yield url
