"""Queue names and enqueueing. Jobs take ids, never objects: the database is the source of
truth and a job re-reads what it needs."""

from __future__ import annotations

from redis import Redis
from rq import Callback, Queue, Retry
from rq.job import Job, JobStatus

from loandocs.logs import request_id_var

DEFAULT_QUEUE = "loandocs-default"  # live uploads
REPROCESS_QUEUE = "loandocs-reprocess"  # batch re-processing: a worker takes it after default
# Webhook deliveries (worker/webhooks.py): taken first, since each is one short HTTP call and
# the lender's systems should not wait behind a queue of OCR jobs.
WEBHOOK_QUEUE = "loandocs-webhooks"
QUEUES = (WEBHOOK_QUEUE, DEFAULT_QUEUE, REPROCESS_QUEUE)
JOB_TIMEOUT = 600  # seconds; a 50-page scanned PDF on 2 cores stays well under this
# rq 3: a failed job is re-enqueued `max` times; non-zero intervals go through the scheduler
# (ScheduledJobRegistry), so only a worker started with the scheduler runs delayed retries.
RETRY = Retry(max=3, interval=[10, 60, 300])
# rq 3 runs on_failure on *every* failed attempt (and for jobs found abandoned by a killed
# worker), before the retry is decided; jobs.on_failure checks job.should_retry itself.
ON_FAILURE = Callback("loandocs.worker.jobs.on_failure", timeout=60)
# A job in one of these states will still run: enqueueing it again would only run it twice.
_PENDING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


# Re-processing uses one fixed attempt key, so a document already waiting for re-processing is
# not enqueued twice by two overlapping runs, and the sweeper can see that its job is pending.
REPROCESS_KEY = "reprocess"


def job_id_for(document_id: str, attempt_key: str = "") -> str:
    # One id per document (and re-processing run): enqueueing twice does not run it twice.
    return f"doc-{document_id}{('-' + attempt_key) if attempt_key else ''}"


def job_ids_of(document_id: str, attempts: int) -> set[str]:
    """Every job id a pending job of this document can have (see ``sweep``, ``reprocess``)."""
    return {job_id_for(document_id, k) for k in ("", f"retry{attempts}", REPROCESS_KEY)}


def pending_job(redis: Redis, job_id: str) -> bool:
    """True when ``job_id`` exists in Redis and will still run (queued, scheduled, deferred)."""
    try:
        return Job.fetch(job_id, connection=redis).get_status() in _PENDING
    except Exception:  # noqa: BLE001 - NoSuchJobError, or a hash left half-written by a flush
        return False


def enqueue_document(redis: Redis, document_id: str, *, queue: str = DEFAULT_QUEUE, attempt_key: str = "",
                     run: str | None = None, job_timeout: int = JOB_TIMEOUT, retry: Retry | None = RETRY) -> str:
    """Put ``process_document(document_id)`` on ``queue``; ``run`` names a re-processing run
    (recorded as the reason of any status change it causes). Returns the job id."""
    job_id = job_id_for(document_id, attempt_key)
    if pending_job(redis, job_id):
        # Same id already waiting: re-saving it would push the id onto the list a second time.
        return job_id
    q = Queue(queue, connection=redis)
    job = q.enqueue(
        "loandocs.worker.jobs.process_document",
        args=(document_id,),
        kwargs={"run": run} if run else {},
        job_id=job_id,
        job_timeout=job_timeout,
        retry=retry,
        on_failure=ON_FAILURE,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        # The upload's request id follows the document into the worker's log lines.
        meta={"request_id": request_id_var.get()} if request_id_var.get() else None,
    )
    return job.id
