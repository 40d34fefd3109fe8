"""``loandocs worker --concurrency N [--max-jobs M]``: a small supervisor over N worker processes.

Why our own and not ``rq.worker_pool.WorkerPool``: each worker here is a fresh interpreter
(``python -m loandocs.cli worker --child``), not a fork of the supervisor, so nothing from the
parent (an ONNX session, a database pool, a Redis socket) crosses into it, and a recycled worker
really gives its memory back. The supervisor itself stays small: no engine, no database.

- **Threads:** ONNX Runtime gets ``cores // N`` threads per worker (``LOANDOCS_OCR__THREADS``,
  unless set explicitly), so N workers do not fight over the same cores; OpenCV is capped the
  same way in each child (``loandocs.cli.worker``).
- **Recycling:** a child started with ``--max-jobs M`` exits with ``RECYCLE_EXIT`` after M jobs
  and is started again at once; memory that the OCR runtime or a heavy document left behind
  goes with the old process.
- **Crashes:** a child that dies (OOM kill, segfault in native code) is restarted after a
  growing pause (1 s up to 60 s), so a crash loop does not spin; the sweeper re-enqueues the
  document it held.
- **Shutdown:** SIGTERM or SIGINT to the supervisor is passed on as SIGTERM, which is rq's warm
  shutdown in each child: the current job runs to its end and no new one is taken. The
  supervisor waits for them (up to the job timeout) and then exits; a second signal is passed
  on as well (rq's cold shutdown). Children run in their own
  session, so Ctrl+C at a terminal reaches them once, through the supervisor, and they are
  asked to stop (SIGTERM) should the supervisor itself be killed (Linux ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Sequence

from loandocs.worker.queue import JOB_TIMEOUT

log = logging.getLogger(__name__)

RECYCLE_EXIT = 75  # EX_TEMPFAIL: "done for now, start me again"
_PR_SET_PDEATHSIG = 1


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # honours taskset / cpusets
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def threads_per_worker(concurrency: int, configured: int = 0, cores: int | None = None) -> int:
    """ONNX Runtime threads for each of ``concurrency`` workers: the configured number, else an
    equal share of the cores (at least one)."""
    if configured > 0:
        return configured
    return max(1, (cores or usable_cores()) // max(1, concurrency))


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not glibc/Linux: an orphaned child keeps working until it is stopped by hand


@dataclass
class _Slot:
    index: int
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restart_at: float = 0.0
    backoff: float = 1.0
    done: bool = False  # burst: finished, not restarted
    starts: int = 0


@dataclass
class Pool:
    concurrency: int
    max_jobs: int | None = None
    burst: bool = False
    queues: Sequence[str] = ()
    threads: int = 0  # 0: cores // concurrency
    stop_timeout: float = JOB_TIMEOUT + 60
    python: str = sys.executable
    slots: list[_Slot] = field(default_factory=list)
    stopping: bool = False

    def command(self) -> list[str]:
        cmd = [self.python, "-m", "loandocs.cli", "worker", "--child"]
        if self.max_jobs:
            cmd += ["--max-jobs", str(self.max_jobs)]
        if self.burst:
            cmd.append("--burst")
        for q in self.queues:
            cmd += ["--queue", q]
        return cmd

    def environment(self) -> dict[str, str]:
        n = threads_per_worker(self.concurrency, self.threads)
        return dict(os.environ, LOANDOCS_OCR__THREADS=str(n), OMP_NUM_THREADS=str(n))

    def _start(self, slot: _Slot) -> None:
        slot.proc = subprocess.Popen(self.command(), env=self.environment(), start_new_session=True,
                                     preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        slot.started = time.monotonic()
        slot.starts += 1
        log.info("worker %d started (pid %d)", slot.index, slot.proc.pid,
                 extra={"slot": slot.index, "pid": slot.proc.pid, "starts": slot.starts})

    def request_stop(self, signum=None, frame=None) -> None:  # noqa: ARG002 - signal handler shape
        # The first signal is a warm stop; a later one is passed on too, and rq treats a second
        # SIGTERM (more than a second after the first) as a cold stop: the job is abandoned and
        # the sweeper re-enqueues its document.
        log.info("stopping: each worker finishes its current job" if not self.stopping
                 else "stopping now: jobs in hand are abandoned")
        self.stopping = True
        for slot in self.slots:
            if slot.proc is not None and slot.proc.poll() is None:
                slot.proc.send_signal(signal.SIGTERM)

    def _reap(self, slot: _Slot, now: float) -> None:
        code = slot.proc.returncode if slot.proc is not None else None
        pid = slot.proc.pid if slot.proc is not None else None
        slot.proc = None
        if code == RECYCLE_EXIT:
            log.info("worker %d recycled after %s jobs", slot.index, self.max_jobs, extra={"slot": slot.index, "pid": pid})
            slot.backoff, slot.restart_at = 1.0, now
        elif code == 0:
            log.info("worker %d finished", slot.index, extra={"slot": slot.index, "pid": pid})
            if self.burst:
                slot.done = True
            slot.restart_at = now
        else:
            # Quick deaths back off; a worker that ran a good while before dying starts over at 1 s.
            slot.backoff = 1.0 if now - slot.started > 300 else min(slot.backoff * 2, 60.0)
            slot.restart_at = now + slot.backoff
            log.warning("worker %d exited with %s; restarting in %.0f s", slot.index, code, slot.backoff,
                        extra={"slot": slot.index, "pid": pid, "exit_code": code})

    def run(self) -> int:
        self.slots = [_Slot(i) for i in range(self.concurrency)]
        previous = {s: signal.signal(s, self.request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
        log.info("starting %d workers, %d OCR threads each", self.concurrency,
                 threads_per_worker(self.concurrency, self.threads))
        try:
            while not self.stopping:
                now = time.monotonic()
                for slot in self.slots:
                    if slot.proc is not None and slot.proc.poll() is not None:
                        self._reap(slot, now)
                    if slot.proc is None and not slot.done and now >= slot.restart_at and not self.stopping:
                        self._start(slot)
                if all(s.done for s in self.slots):
                    return 0
                time.sleep(0.2)
            return self._wait_for_children()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _wait_for_children(self) -> int:
        deadline = time.monotonic() + self.stop_timeout
        for slot in self.slots:
            if slot.proc is None:
                continue
            try:
                slot.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop within %.0f s; killing it", slot.index, self.stop_timeout)
                slot.proc.kill()
                slot.proc.wait()
        log.info("all workers stopped")
        return 0
