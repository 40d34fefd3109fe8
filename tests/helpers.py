"""Helpers for tests that wait on workers and start processes.

Waiting: a test that waits for a worker waits on a condition with a generous deadline, never
a fixed sleep; on a busy two-core machine the same work can take ten times as long as alone.
Processes: found through /proc (Linux), so no extra dependency is needed.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, TypeVar

import pytest

T = TypeVar("T")

# Deadlines are for a machine shared with other work; LOANDOCS_TEST_TIME_SCALE stretches them.
TIME_SCALE = float(os.environ.get("LOANDOCS_TEST_TIME_SCALE", "1"))


def wait_until(condition: Callable[[], T], timeout_s: float, what: str, interval_s: float = 0.05) -> T:
    """Call ``condition`` until it returns something true and return that; fail naming ``what``
    after ``timeout_s`` (times LOANDOCS_TEST_TIME_SCALE)."""
    deadline = time.monotonic() + timeout_s * TIME_SCALE
    while True:
        got = condition()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout_s * TIME_SCALE:.0f} s waiting for {what}")
        time.sleep(interval_s)


def _proc_stat(pid: str) -> tuple[str, int] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[1])


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int | None = None) -> set[int]:
    """Live (not zombie) processes below ``root`` (this one), children of children included."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _proc_stat(entry)) and st[0] != "Z":
            children.setdefault(st[1], []).append(int(entry))
    found, todo = set(), [root or os.getpid()]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    st = _proc_stat(str(pid))
    return st is not None and st[0] != "Z"


def end_processes(pids: set[int], grace_s: float = 5) -> None:
    """SIGTERM, then SIGKILL whatever is still there after ``grace_s``; reap our own children."""
    def send(sig: int) -> None:
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def reap() -> None:
        for pid in pids:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours, or already reaped by its Popen
                pass

    if not pids:
        return
    send(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        reap()
        if not any(_alive(p) for p in pids):
            return
        time.sleep(0.05)
    send(signal.SIGKILL)
    reap()


# -- shared test data and services (were in conftest.py) -------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "idcards"
# The sample set's ground truth is judged as of this day (validity, age).
SAMPLE_DATE = dt.date(2026, 11, 29)

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


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A /metrics answer (Prometheus text) as {(name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def metric_value(samples, name, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))
