"""Helpers for tests that wait on workers and start processes.

Waiting: a test that waits for a worker waits on a condition with a generous deadline, never
a fixed sleep; on a busy two-core machine the same work can take ten times as long as alone.
Processes: found through /proc (Linux), so no extra dependency is needed.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Callable, TypeVar

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
