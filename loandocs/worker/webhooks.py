"""Webhook delivery: the rq job that sends one delivery, signed per the Standard Webhooks spec.

One job = one attempt. The job takes the delivery's lease (``store.webhooks.claim``: a second
job for the same delivery skips it), POSTs the event's JSON with ``webhook-id`` (the event id,
the same on every retry and redelivery, so a receiver can drop duplicates), ``webhook-timestamp``
and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` by the ``standardwebhooks`` package),
records the attempt (time, HTTP status or error) and then either stops (2xx: delivered), or
schedules the next attempt after ``backoff * 2**(n-1)`` seconds (at most ``backoff_max``), or,
after ``webhook_max_attempts``, leaves it dead (the dead-letter list; ``loandocs webhooks
redeliver``). Delays go through rq's scheduler (``enqueue_in``), which every non-burst worker
runs; a job lost on the way (Redis down, flushed) is found by the workers' sweep
(``sweep_deliveries``), since the database, not Redis, holds what is pending.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Callable, Iterable

from redis import Redis
from rq import Queue

from loandocs.store import webhooks as store
from loandocs.worker.queue import WEBHOOK_QUEUE, pending_job

log = logging.getLogger(__name__)


def job_id_for(delivery_id: str, attempts: int) -> str:
    # One id per delivery and attempt: a duplicate enqueue of the same attempt is one job.
    return f"whk-{delivery_id}-{attempts}"


def enqueue_delivery(redis: Redis, delivery_id: str, *, attempts: int = 0, delay_s: float = 0.0,
                     timeout_s: float = 10.0) -> str:
    job_id = job_id_for(delivery_id, attempts)
    if pending_job(redis, job_id):
        return job_id
    q = Queue(WEBHOOK_QUEUE, connection=redis)
    kwargs = dict(job_id=job_id, job_timeout=int(timeout_s) + 60, result_ttl=600, failure_ttl=7 * 24 * 3600)
    if delay_s > 0:
        q.enqueue_in(dt.timedelta(seconds=delay_s), "loandocs.worker.webhooks.deliver", delivery_id, **kwargs)
    else:
        q.enqueue("loandocs.worker.webhooks.deliver", delivery_id, **kwargs)
    return job_id


def dispatcher(services) -> Callable[[Iterable[str]], None]:
    """What ``store.webhooks.install_dispatch`` calls after a commit: enqueue each new delivery.
    Never raises; a delivery that could not be enqueued stays pending for the sweep."""

    def dispatch(ids: Iterable[str]) -> None:
        for delivery_id in ids:
            try:
                enqueue_delivery(services.redis, delivery_id, timeout_s=services.settings.webhook_timeout_s)
            except Exception:  # noqa: BLE001 - Redis down: the sweep enqueues it later
                log.warning("could not enqueue webhook delivery %s; the sweep will", delivery_id, exc_info=True)

    return dispatch


def backoff(settings, attempts: int) -> float:
    """Seconds before the attempt after ``attempts`` failed ones: exponential, capped."""
    return float(min(settings.webhook_backoff_s * 2 ** max(0, attempts - 1), settings.webhook_backoff_max_s))


def send(claimed: store.Claimed, timeout_s: float) -> tuple[int | None, str | None, int]:
    """POST one signed delivery: (HTTP status or None, error or None, milliseconds)."""
    import httpx
    from standardwebhooks import Webhook

    from loandocs import __version__

    now = dt.datetime.now(dt.timezone.utc)
    headers = {
        "content-type": "application/json",
        "user-agent": f"loandocs-webhooks/{__version__}",
        "webhook-id": claimed.event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(claimed.secret).sign(claimed.event_id, now, claimed.body),
    }
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
            r = client.post(claimed.url, content=claimed.body.encode(), headers=headers)
        code: int | None = r.status_code
        error = None if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"
    except httpx.TimeoutException:
        code, error = None, f"timeout after {timeout_s:g} s"
    except httpx.HTTPError as exc:
        code, error = None, f"{exc.__class__.__name__}: {str(exc)[:200]}"
    return code, error, int((time.perf_counter() - started) * 1000)


def deliver(delivery_id: str) -> str:
    """The job: one attempt at one delivery. Returns delivered, retry, dead or skipped."""
    from loandocs.services import get_services

    services = get_services()
    settings = services.settings
    with services.sessions.begin() as s:
        claimed = store.claim(s, delivery_id, lease_s=settings.webhook_timeout_s + 30)
    if claimed is None:
        return "skipped"  # delivered, dead, removed, or another job is sending it right now
    early = (claimed.not_before - dt.datetime.now(dt.timezone.utc)).total_seconds()
    if 0 < early <= 2:  # rq schedules in whole seconds; the backoff is a promise to the receiver
        time.sleep(early)
    code, error, ms = send(claimed, settings.webhook_timeout_s)
    with services.sessions.begin() as s:
        outcome, delay = store.record_attempt(s, claimed, status_code=code, error=error, duration_ms=ms,
                                              max_attempts=settings.webhook_max_attempts,
                                              next_delay_s=lambda n: backoff(settings, n))
    log.info("webhook %s to %s: attempt %d %s", claimed.event_id, claimed.url, claimed.attempt, outcome,
             extra={"delivery_id": delivery_id, "event_id": claimed.event_id, "status_code": code, "error": error})
    if outcome == "retry":
        # If this enqueue is lost, the sweep finds the delivery pending and due.
        enqueue_delivery(services.redis, delivery_id, attempts=claimed.attempt, delay_s=delay,
                         timeout_s=settings.webhook_timeout_s)
    return outcome


def sweep_deliveries(services, grace_s: float = 60.0) -> int:
    """Enqueue pending deliveries whose job went missing (see the module docstring)."""
    with services.sessions() as s:
        due = store.due_deliveries(s, grace_s=grace_s)
    count = 0
    for delivery_id, _ in due:
        with services.sessions() as s:
            attempts = len(store.attempts_of(s, delivery_id))
        if pending_job(services.redis, job_id_for(delivery_id, attempts)):
            continue
        enqueue_delivery(services.redis, delivery_id, attempts=attempts, timeout_s=services.settings.webhook_timeout_s)
        count += 1
    if count:
        log.info("sweep re-enqueued %d webhook deliveries", count)
    return count
