"""No orphans when a worker dies: ``loandocs worker --concurrency 2`` with one worker SIGKILLed.
rq forks its scheduler from a worker; before ``runner.OwnedScheduler`` that scheduler outlived
a killed worker (parent 1, holding the scheduler locks). Real processes, Redis db 3
(``LOANDOCS_TEST_ORPHANS_REDIS_URL``), SQLite. Every process of the run carries a marker in its
environment, so "no process of ours is left" is checked over the whole machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from rq.scheduler import RQScheduler

from loandocs.worker.queue import QUEUES

from .helpers import services_on

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOANDOCS_TEST_ORPHANS_REDIS_URL", "redis://127.0.0.1:6379/3")
SCALE = float(os.environ.get("LOANDOCS_TEST_TIME_SCALE", "1"))


def _ours(marker: str) -> dict[int, int]:
    """pid -> parent pid of every live process whose environment holds ``marker``."""
    out = {}
    needle = f"LOANDOCS_TEST_MARK={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if needle in env.split(b"\0") and ") Z " not in stat:  # zombies are dead already
            out[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b"gone"


def _until(what, deadline_s: float, desc: str):  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline_s * SCALE
    while time.monotonic() < end:
        got = what()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out after {deadline_s * SCALE:.0f} s waiting for {desc}")


def test_a_killed_workers_scheduler_goes_with_it_and_stopping_the_pool_leaves_nothing(tmp_path):
    marker = uuid.uuid4().hex
    with services_on(tmp_path, REDIS_URL) as svc:
        svc.engine  # migrate before the workers start, so they do not race to create the tables
        env = dict(os.environ, LOANDOCS_DATA_DIR=str(svc.settings.data_dir), LOANDOCS_REDIS_URL=REDIS_URL,
                   LOANDOCS_DATABASE_URL=svc.database_url, LOANDOCS_OCR__THREADS="1", LOANDOCS_TEST_MARK=marker)
        log = open(tmp_path / "pool.log", "w")
        pool = subprocess.Popen([sys.executable, "-m", "loandocs.cli", "worker", "--concurrency", "2"], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            def tree():
                procs = _ours(marker)
                workers = [p for p, parent in procs.items() if parent == pool.pid]
                # rq's scheduler is a fork of its worker (same command line); a worker's other
                # children (fc-list at start) are not it.
                schedulers = [p for p, parent in procs.items() if parent in workers and _cmdline(p) == _cmdline(parent)]
                return procs, workers, schedulers

            # Both workers up, and one of them has forked the scheduler (it holds the locks).
            _, workers, schedulers = _until(lambda: (t := tree()) and len(t[1]) == 2 and len(t[2]) == 1 and t,
                                            120, "two workers and a scheduler")
            (scheduler,) = schedulers
            owner = _ours(marker)[scheduler]
            lock = svc.redis.get(RQScheduler.get_locking_key(QUEUES[0]))
            assert lock is not None

            os.kill(owner, signal.SIGKILL)
            # The scheduler ends on its own (death signal), and releases its locks on the way out.
            _until(lambda: scheduler not in _ours(marker), 15, f"scheduler {scheduler} to exit after its worker died")
            assert svc.redis.get(RQScheduler.get_locking_key(QUEUES[0])) != lock
            # The pool starts a new worker in the killed one's place.
            _until(lambda: len([w for w in tree()[1] if w != owner]) == 2, 60, "the pool to restart the worker")
        finally:
            pool.send_signal(signal.SIGTERM)
            try:
                pool.wait(90 * SCALE)
            finally:
                if pool.poll() is None:
                    pool.kill()
                log.close()
        # Nothing of ours is left: no worker, no scheduler, no orphan re-parented to init.
        left = _until(lambda: not _ours(marker) or None, 15, "every process of the run to exit") and _ours(marker)
        assert left == {}, (left, (tmp_path / "pool.log").read_text()[-3000:])
        assert pool.returncode == 0
