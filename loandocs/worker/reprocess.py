"""Batch re-processing: put chosen documents through the pipeline again, a window at a time.

Used by ``loandocs reprocess`` (low-priority queue, after a model or rule upgrade) and
``loandocs requeue-failed`` (failed documents, default queue).

How live uploads are protected: every worker takes ``loandocs-default`` before
``loandocs-reprocess`` (rq pops queues in order), so a re-processing job only runs when no
upload is waiting, and an upload waits at most for the one document each worker has in hand.
The feeder below also keeps at most ``batch_size`` documents of a run queued at a time (whole
applications, so an application is judged once all of its documents are done), which keeps
Redis small for runs over millions of documents and lets Ctrl+C stop a run with little left
behind: documents not yet fed keep their status and their last extraction.

Each document is first set ``queued`` in the database (committed), then enqueued with job id
``doc-<id>-reprocess``: the database stays the source of truth, the sweeper recognises that id
as pending, and two overlapping runs do not enqueue a document twice. The job writes a new
extraction version; reviewer corrections are applied on read, so they stay on top; the
application is re-assessed and any status change is recorded with actor ``reprocess`` and the
run as the reason (``workflow.reassess``).
"""

from __future__ import annotations

import collections
import datetime as dt
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence, TextIO

from rq import Queue, Worker

from loandocs.store import batches
from loandocs.store.repository import CST
from loandocs.store.tables import utcnow
from loandocs.worker.queue import QUEUES, REPROCESS_KEY, REPROCESS_QUEUE, enqueue_document
from loandocs.workflow import REPROCESS_ACTOR


def new_run_id(prefix: str = "r") -> str:
    return f"{prefix}{dt.datetime.now(CST):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


@dataclass
class Outcome:
    run_id: str
    total: int
    enqueued: int = 0
    skipped: int = 0  # selected, but meanwhile taken by a job of their own
    extracted: int = 0
    failed: collections.Counter = field(default_factory=collections.Counter)  # error code -> count
    status_changes: list[tuple[str, str | None, str]] = field(default_factory=list)
    waited: bool = True
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return self.extracted + sum(self.failed.values())


class ProgressBar:
    """``[#####-----] 120/200  failed 2  35 s`` on stderr: redrawn in place at a terminal, a line
    every few seconds otherwise (a log file should not get a line per poll)."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30, every_s: float = 5.0):
        self.label, self.stream, self.width, self.every_s = label, stream or sys.stderr, width, every_s
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._last = -1.0
        self._shown: tuple[int, int] | None = None

    def update(self, done: int, total: int, failed: int, note: str = "") -> None:
        now = time.monotonic()
        if not self.tty and self._shown == (done, failed) and now - self._last < 60:
            return
        if not self.tty and now - self._last < self.every_s and done < total:
            return
        self._last, self._shown = now, (done, failed)
        filled = int(self.width * done / total) if total else self.width
        line = (f"{self.label} [{'#' * filled}{'-' * (self.width - filled)}] {done}/{total}"
                f"  failed {failed}  {now - self.started:.0f} s{('  ' + note) if note else ''}")
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _by_application(docs: Sequence[batches.Selected]) -> collections.deque[list[str]]:
    groups: dict[str, list[str]] = {}
    for d in docs:
        groups.setdefault(d.application_id, []).append(d.id)
    return collections.deque(groups.values())


def forget_failed_jobs(redis, document_ids: Sequence[str]) -> int:
    """Drop these documents' old jobs from rq's failed-job registries, so ``rq info`` and
    ``/metrics`` count only what is still failed after a requeue."""
    wanted, removed = set(document_ids), 0
    for name in QUEUES:
        registry = Queue(name, connection=redis).failed_job_registry
        for job_id in registry.get_job_ids():
            if job_id.startswith("doc-") and job_id[4:40] in wanted:  # doc-<36-char uuid>[-suffix]
                registry.remove(job_id)
                removed += 1
    return removed


def run(services, docs: Sequence[batches.Selected], *, run_id: str, queue: str = REPROCESS_QUEUE,
        batch_size: int = 50, wait: bool = True, poll_s: float = 0.5,
        progress: ProgressBar | None = None, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Feed ``docs`` to ``queue`` keeping at most ~``batch_size`` in flight, until all are done
    (``wait``), or enqueue them all in ``batch_size`` steps and return (``wait=False``)."""
    started_at, t0 = utcnow(), time.monotonic()
    outcome = Outcome(run_id=run_id, total=len(docs), waited=wait)
    todo = _by_application(docs)
    in_flight: set[str] = set()
    warned = False
    try:
        while todo or (wait and in_flight):
            while todo and (not wait or len(in_flight) < batch_size):
                chunk: list[str] = []
                while todo and (len(chunk) < batch_size):
                    chunk.extend(todo.popleft())
                with services.sessions.begin() as s:
                    marked = batches.mark_queued(s, chunk)
                for doc_id in marked:
                    enqueue_document(services.redis, doc_id, queue=queue, attempt_key=REPROCESS_KEY, run=run_id)
                outcome.enqueued += len(marked)
                outcome.skipped += len(chunk) - len(marked)
                in_flight.update(marked)
                if not wait:
                    continue
            if not wait:
                break
            with services.sessions() as s:
                states = batches.statuses_of(s, sorted(in_flight))
            for doc_id, (status, code) in states.items():
                if status in batches.FINISHED:
                    in_flight.discard(doc_id)
                    if status == "extracted":
                        outcome.extracted += 1
                    else:
                        outcome.failed[code or "unknown"] += 1
            in_flight &= set(states)  # a document deleted meanwhile is not waited for
            note = ""
            if in_flight and not Worker.all(connection=services.redis):
                note = "no worker is running: start one with `loandocs worker`"
                if not warned and progress is None:
                    print(f"loandocs: {note}", file=sys.stderr)
                    warned = True
            if progress is not None:
                progress.update(outcome.done, outcome.total - outcome.skipped, sum(outcome.failed.values()), note)
            if in_flight or todo:
                sleep(poll_s)
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        if progress is not None:
            progress.close()
        outcome.seconds = time.monotonic() - t0
        with services.sessions() as s:
            # The run id in the reason picks this run's changes; the hour of slack covers workers
            # whose clocks run behind this machine's.
            outcome.status_changes = batches.status_changes(s, actor=REPROCESS_ACTOR,
                                                            since=started_at - dt.timedelta(hours=1),
                                                            reason_prefix=f"re-processing run {run_id}")
    return outcome

