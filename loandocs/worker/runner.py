"""The worker process: an rq ``SimpleWorker`` that also sweeps stuck documents.

Why ``SimpleWorker`` (no fork per job): the default rq ``Worker`` forks a work horse for every
job, so the OCR engine (ONNX Runtime sessions, ~100 MB of weights) would be loaded again for
every document - and an ONNX session must not be created before a fork and used after it.
``SimpleWorker`` runs each job in the worker process itself, so ``get_engine`` loads the
engine once per worker process and every later job reuses it. Scale out with more worker
processes, not threads.

Job timeouts still hold: rq 3's ``perform_job`` wraps every job in ``death_penalty_class``
(``UnixSignalDeathPenalty``, SIGALRM) for SimpleWorker too, which needs the main thread; off the
main thread (embedding, tests) we switch to ``TimerDeathPenalty``. Either one raises
``JobTimeoutException`` in the job at the next Python bytecode, so a single long native OCR
call finishes before the timeout bites. A job that hangs in native code forever is a case
for a process supervisor plus the sweeper, which re-enqueues it.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import logging
import os
import signal
import threading
from typing import Sequence

from rq import SimpleWorker
from rq.scheduler import RQScheduler
from rq.timeouts import JobTimeoutException, TimerDeathPenalty, UnixSignalDeathPenalty

from loandocs.logs import job_id_var, request_id_var
from loandocs.store import repository as repo
from loandocs.worker.queue import DEFAULT_QUEUE, JOB_TIMEOUT, QUEUES, enqueue_document, job_ids_of, pending_job

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 120  # the worker sweeps at start and then this often (rq maintenance)
STUCK_AFTER_S = 300  # received/queued this long without a job in Redis: re-enqueue
# processing this long: the worker that held it is gone (a live one would have hit the job timeout)
PROCESSING_STUCK_AFTER_S = JOB_TIMEOUT + 60
MAX_ATTEMPTS = 5  # a file that killed the worker this often is marked failed, not retried forever
SWEPT = ("received", "queued", "processing")


def sweep(services, older_than_s: float = STUCK_AFTER_S, *, processing_older_than_s: float | None = None) -> int:
    """Re-enqueue documents left in received/queued/processing (Redis lost, worker killed).

    Returns how many were re-enqueued. ``older_than_s`` applies to every swept status unless
    ``processing_older_than_s`` is given. Safe to run from several workers at once: jobs are
    idempotent, so the worst case is a document processed twice.
    """
    processing_after = older_than_s if processing_older_than_s is None else processing_older_than_s
    with services.sessions.begin() as s:
        stuck = repo.stuck_documents(s, dt.timedelta(seconds=min(older_than_s, processing_after)), statuses=SWEPT)
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=processing_after)
    count = 0
    for doc in stuck:
        if doc.status == "processing" and _aware(doc.updated_at) >= cutoff:
            continue
        # A document taken by a worker that died gets a job id of its own per attempt: the old
        # id may still sit in rq's started registry, where rq's cleanup would later fail or
        # retry it under our feet. Otherwise the plain id, which enqueue_document de-duplicates.
        key = f"retry{doc.attempts}" if doc.status == "processing" else ""
        if any(pending_job(services.redis, j) for j in job_ids_of(doc.id, doc.attempts)):
            continue  # its job (upload, retry or re-processing) is still queued; a re-enqueue would run it twice
        with services.sessions.begin() as s:
            if doc.attempts >= MAX_ATTEMPTS:
                repo.set_document_status(s, doc.id, "failed", error_code="too_many_attempts",
                                         error_message=f"processing was interrupted {doc.attempts} times")
                continue
            enqueue_document(services.redis, doc.id, queue=DEFAULT_QUEUE, attempt_key=key)
            repo.set_document_status(s, doc.id, "queued")  # also resets updated_at: not swept again at once
        count += 1
    if count:
        log.info("sweep re-enqueued %d document(s)", count)
    return count


def _aware(t: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they are stored in UTC.
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


class JobTimeout(BaseException):
    """The job ran out of time. rq's own ``JobTimeoutException`` is an ``Exception``, so the broad
    handlers that keep one bad file from taking a worker down (loader, text layer, OCR engine)
    would turn it into ``corrupt_file`` or ``ocr_failed``: a permanent failure, never retried.
    A ``BaseException`` passes through them; rq's ``perform_job`` still catches it (bare except)."""


def _raising_job_timeout(penalty: type) -> type:
    class DeathPenalty(penalty):  # type: ignore[misc,valid-type]
        def __init__(self, timeout, exception=JobTimeout, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(timeout, JobTimeout if exception is JobTimeoutException else exception, **kwargs)

    DeathPenalty.__name__ = f"JobTimeout{penalty.__name__}"
    return DeathPenalty


SignalDeathPenalty = _raising_job_timeout(UnixSignalDeathPenalty)
ThreadDeathPenalty = _raising_job_timeout(TimerDeathPenalty)


_PR_SET_PDEATHSIG = 1


class OwnedScheduler(RQScheduler):
    """rq's scheduler, whose life follows the worker that forked it.

    rq forks the scheduler from the worker (``RQScheduler.start``) and only stops it from the
    worker's own shutdown path, so a worker that is SIGKILLed (OOM killer, an operator, the pool
    giving up) leaves its scheduler running as an orphan of init, heartbeating the scheduler
    locks forever: seen in production, still alive 30 minutes after the pool stopped. Here the
    forked child asks the kernel for SIGTERM when its parent dies (Linux ``PR_SET_PDEATHSIG``),
    which is rq's own stop request (locks released, registration removed); and, for the race
    where the parent died before that call and for systems without prctl, every heartbeat
    checks that its parent is still the worker that started it."""

    owner_pid = 0

    def start(self):  # type: ignore[no-untyped-def]
        self.owner_pid = os.getpid()  # the worker, before the fork
        return super().start()

    def work(self) -> None:
        self._install_signal_handlers()  # first, so the death signal finds rq's stop handler
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            pass  # not glibc/Linux: the parent check below still ends it within a heartbeat
        self._check_owner()
        super().work()

    def _check_owner(self) -> None:
        if self.owner_pid and os.getppid() != self.owner_pid:
            self.log.warning("scheduler %s: its worker (pid %s) is gone; stopping", os.getpid(), self.owner_pid)
            self.request_stop()

    def heartbeat(self) -> None:
        self._check_owner()
        if not self._stop_requested:  # an orphan must not refresh the locks it holds
            super().heartbeat()


class LoanDocsWorker(SimpleWorker):
    """SimpleWorker (see the module docstring) that sweeps as part of rq's maintenance and whose
    scheduler dies with it (``OwnedScheduler``)."""

    services = None  # set by run_worker
    jobs_done = 0  # jobs this worker ran, whatever their outcome (recycling counts them)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", SWEEP_INTERVAL_S)
        super().__init__(*args, **kwargs)
        # Signals work in the main thread only; elsewhere (tests, embedded runs) a timer thread.
        main = threading.current_thread() is threading.main_thread()
        self.death_penalty_class = SignalDeathPenalty if main else ThreadDeathPenalty

    def execute_job(self, job, queue):
        # Every log line of the job (ours and rq's) carries its id, and the id of the request
        # that uploaded the document.
        tokens = (job_id_var.set(job.id), request_id_var.set((job.meta or {}).get("request_id")))
        try:
            return super().execute_job(job, queue)
        finally:
            self.jobs_done += 1
            request_id_var.reset(tokens[1])
            job_id_var.reset(tokens[0])

    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None, log_format=None):  # type: ignore[no-untyped-def]
        # rq 3's own body, with OwnedScheduler in place of RQScheduler (rq has no hook for the class).
        kwargs = {k: v for k, v in (("date_format", date_format), ("log_format", log_format)) if v is not None}
        self.scheduler = OwnedScheduler(self.queues, connection=self.connection, serializer=self.serializer,
                                        logging_level=logging_level if logging_level is not None else self.log.level,
                                        **kwargs)
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    def run_maintenance_tasks(self):
        # rq runs this when the worker starts and every maintenance_interval seconds after.
        super().run_maintenance_tasks()
        if self.services is not None:
            try:
                sweep(self.services, STUCK_AFTER_S, processing_older_than_s=PROCESSING_STUCK_AFTER_S)
            except Exception:  # noqa: BLE001 - a failed sweep must not stop the worker
                self.log.exception("sweep failed")
            try:
                from loandocs.worker.webhooks import sweep_deliveries

                sweep_deliveries(self.services)
            except Exception:  # noqa: BLE001
                self.log.exception("webhook sweep failed")


def lower_priority(nice: int) -> int:
    """Raise this process's nice level to at least ``nice`` (never lower it: a worker started
    under ``nice -n 15`` stays there). On Linux the level belongs to each thread and a new
    thread takes its creator's: every thread there is now is set (``/proc/self/task``), and
    the OCR runtime's threads, made later, follow. Returns the level now in force."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if nice <= current:
        return current
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:  # not Linux: the process's level
        tids = [0]
    for tid in tids:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        except ProcessLookupError:
            continue  # the thread has ended
        except OSError:  # not permitted (a container's policy): run at the level it has
            log.warning("cannot lower the worker's priority to nice %d", nice)
            break
    return os.getpriority(os.PRIO_PROCESS, 0)


def cap_threads(threads: int) -> None:
    """OpenCV's own thread pool to the worker's OCR threads (every core when unset, as the OCR
    runtime): without a cap each worker's OpenCV would use every core on its own."""
    import cv2

    from loandocs.worker.pool import usable_cores

    cv2.setNumThreads(threads if threads > 0 else usable_cores())


def run_worker(services, burst: bool = False, queues: Sequence[str] = QUEUES, *, warm: bool = True,
               max_jobs: int | None = None, name: str | None = None, nice: int = 0) -> int:
    """Run a worker on ``queues`` (in priority order) until stopped, or until empty with
    ``burst``, or after ``max_jobs`` jobs (recycling: ``loandocs.worker.pool`` starts a fresh
    process). Returns how many jobs it ran. ``nice``: run this process at that nice level at
    least (``loandocs worker`` passes ``LOANDOCS_WORKER_NICE``), so the API on the same machine
    is served first.

    SIGTERM (or SIGINT) is rq's warm shutdown: a job in progress runs to its end, no new one is
    taken, then ``work`` returns; a second signal more than a second later is a cold shutdown."""
    from loandocs.fonts import check_cjk_fonts
    from loandocs.services import set_services

    # Before any thread is started: on Linux the nice level is per thread and new threads take
    # their creator's, so the OCR runtime's threads (created when the engine loads) get it too.
    if nice:
        lower_priority(nice)
    cap_threads(services.settings.ocr.threads)
    set_services(services)  # jobs call get_services(): make it this worker's
    # Without a CJK font PDFs render without their Chinese text and nothing fails: say so now.
    check_cjk_fonts()
    if warm:
        # Load the OCR engine now (no fork follows: SimpleWorker), so the first job's timeout
        # is not spent on loading weights.
        from loandocs.extractor import get_engine

        get_engine(services.settings.ocr)
    worker = LoanDocsWorker(list(queues), connection=services.redis, name=name)
    worker.services = services
    # The scheduler runs delayed retries (Retry intervals); a burst run does not wait for them,
    # the sweeper picks such documents up later.
    worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO", max_jobs=max_jobs)
    return worker.jobs_done
