"""Webhooks, persistence side: subscriptions, the event outbox and the delivery records.

**Where events come from (one place).** The repository functions that change a status
(``repository.change_status``, ``repository.set_document_status``) call ``emit`` in the same
transaction, so an event exists if and only if its change was committed: no event for a rolled
back change, no change without its event, whichever use case (upload, worker, reviewer,
re-processing, sweeper) made it. ``emit`` writes the event and one pending delivery per
matching active subscription; once the session commits, the callback that ``install_dispatch``
put on the session factory (the services' one: it enqueues an rq job per delivery) is handed
the new delivery ids. If that enqueue fails (Redis down) the deliveries stay pending and the
workers' sweep (``due_deliveries``) enqueues them later: nothing is lost.

Events carry ids, numbers, statuses and reason codes only, never personal data: no names,
opinions or free text (status reasons may hold a reviewer's opinion, so only the check codes of
a supplement request are sent).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sqlalchemy import event as sa_event
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from loandocs.errors import LoanDocsError
from loandocs.store.tables import Application, WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription, utcnow

STATUS_CHANGED = "application.status_changed"
DECIDED = "application.decided"
EXTRACTED = "document.extracted"
FAILED = "document.failed"
EVENT_TYPES = (STATUS_CHANGED, EXTRACTED, FAILED, DECIDED)
DECISIONS = {"approved", "rejected"}

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
_NEW_DELIVERIES = "loandocs.webhooks.new_deliveries"  # session.info key: ids to enqueue after commit
_EVENTS = "loandocs.webhooks.events"  # session.info key: events emitted in this transaction


class WebhookError(LoanDocsError):
    """``invalid_webhook_url``, ``invalid_event_type``, ``invalid_webhook_secret``, ``not_found``."""

    code = "invalid_webhook"
    http_status = 422


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    event_types: tuple[str, ...]
    active: bool
    created_at: dt.datetime
    created_by: str


@dataclass(frozen=True)
class Delivery:
    id: str
    event_id: str
    event_type: str
    subscription_id: str
    url: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None


@dataclass(frozen=True)
class Claimed:
    """What a delivery job needs to send one delivery it holds the lease of."""

    delivery_id: str
    event_id: str
    body: str
    url: str
    secret: str
    attempt: int  # the number this try will get (1-based, over the delivery's whole life)
    not_before: dt.datetime  # the backoff's end (rq's scheduler works in whole seconds, so a job may come early)


# -- subscriptions --------------------------------------------------------------------------

def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check(url: str, event_types: Iterable[str], secret: str | None) -> tuple[str, ...]:
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise WebhookError("the URL must be http:// or https:// (at most 2000 characters)", code="invalid_webhook_url")
    types = tuple(dict.fromkeys(event_types))
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown or not types:
        raise WebhookError(f"event types must be among {', '.join(EVENT_TYPES)}; got {', '.join(unknown) or 'none'}",
                           code="invalid_event_type")
    if secret is not None:
        try:
            ok = secret.startswith("whsec_") and len(base64.b64decode(secret[6:], validate=True)) >= 24
        except ValueError:
            ok = False
        if not ok:
            raise WebhookError("the secret must be whsec_ followed by base64 of at least 24 random bytes",
                               code="invalid_webhook_secret")
    return types


def _subscription(row: WebhookSubscription) -> Subscription:
    return Subscription(row.id, row.url, tuple(row.event_types), row.active, row.created_at, row.created_by)


def add_subscription(session: Session, url: str, event_types: Iterable[str], *, secret: str | None = None,
                     created_by: str = "cli") -> tuple[Subscription, str]:
    """A new subscription and its signing secret (shown to the caller once; kept encrypted)."""
    types = _check(url, event_types, secret)
    secret = secret or new_secret()
    row = WebhookSubscription(url=url, secret=secret, event_types=list(types), active=True, created_by=created_by,
                              created_at=utcnow())
    session.add(row)
    session.flush()
    return _subscription(row), secret


def list_subscriptions(session: Session) -> list[Subscription]:
    rows = session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id))
    return [_subscription(r) for r in rows]


def remove_subscription(session: Session, sub_id: str) -> None:
    """Deactivate: no new deliveries; its delivery history stays readable."""
    row = session.get(WebhookSubscription, sub_id)
    if row is None:
        raise WebhookError(f"subscription {sub_id} not found", code="not_found")
    row.active = False
    session.flush()


# -- emitting -------------------------------------------------------------------------------

def emit(session: Session, type_: str, data: dict[str, Any], *, application_id: str | None) -> None:
    """Write the event and its deliveries in the caller's transaction (see the module docstring).
    Nothing is written when no active subscription wants this type."""
    subs = [s for s in session.scalars(select(WebhookSubscription).where(WebhookSubscription.active.is_(True)))
            if type_ in (s.event_types or ())]
    if not subs:
        return
    now = utcnow()
    event = WebhookEvent(id=f"msg_{uuid.uuid4().hex}", type=type_, application_id=application_id, created_at=now,
                         payload={"type": type_, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data})
    session.add(event)
    session.flush()  # no ORM relationship orders the INSERTs: the event goes first, for the foreign key
    deliveries = [WebhookDelivery(event_id=event.id, subscription_id=s.id, status=PENDING, attempts=0,
                                  next_attempt_at=now, created_at=now, updated_at=now) for s in subs]
    session.add_all(deliveries)
    session.flush()
    session.info.setdefault(_NEW_DELIVERIES, []).extend(d.id for d in deliveries)
    session.info.setdefault(_EVENTS, []).append(event)


def application_status_changed(session: Session, app: Application, old: str | None, new: str) -> None:
    data = {"application_id": app.id, "application_no": app.application_no, "old_status": old, "new_status": new,
            "reason_codes": []}
    emit(session, STATUS_CHANGED, data, application_id=app.id)
    if new in DECISIONS:
        emit(session, DECIDED, {**data, "decision": new}, application_id=app.id)


def document_finished(session: Session, *, document_id: str, application_id: str, status: str, doc_type: str | None,
                      error_code: str | None) -> None:
    app_no = session.scalar(select(Application.application_no).where(Application.id == application_id))
    data: dict[str, Any] = {"application_id": application_id, "application_no": app_no, "document_id": document_id,
                            "status": status, "doc_type": doc_type}
    if status == "failed":
        data["error_code"] = error_code
    emit(session, FAILED if status == "failed" else EXTRACTED, data, application_id=application_id)


def attach_reason_codes(session: Session, application_id: str, codes: Iterable[str]) -> None:
    """The supplement list is decided after the status change (``set_supplement_requirements``
    follows ``change_status``): give its codes to the move to needs_supplement emitted in this
    same transaction, before anyone can have sent it."""
    codes = sorted({str(c) for c in codes if c})
    for ev in session.info.get(_EVENTS, []):
        data = ev.payload.get("data", {})
        if ev.application_id == application_id and data.get("new_status") == "needs_supplement":
            ev.payload = {**ev.payload, "data": {**data, "reason_codes": codes}}  # a new dict: JSON change tracked
    session.flush()


def install_dispatch(factory: sessionmaker[Session], dispatch: Callable[[list[str]], None]) -> None:
    """After each commit of a session from ``factory``, hand ``dispatch`` the deliveries that
    commit created (it enqueues them; it must not raise). A rollback drops them."""

    def after_commit(session: Session) -> None:
        session.info.pop(_EVENTS, None)
        ids = session.info.pop(_NEW_DELIVERIES, None)
        if ids:
            dispatch(list(ids))

    def after_rollback(session: Session) -> None:
        session.info.pop(_EVENTS, None)
        session.info.pop(_NEW_DELIVERIES, None)

    sa_event.listen(factory, "after_commit", after_commit)
    sa_event.listen(factory, "after_rollback", after_rollback)


# -- delivering -----------------------------------------------------------------------------

def claim(session: Session, delivery_id: str, *, lease_s: float) -> Claimed | None:
    """Take the delivery for one try, or None when it is delivered, dead, gone, or another job
    holds it now. The conditional UPDATE is the lock: of two jobs for one delivery, one sends."""
    now = utcnow()
    taken = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING,
               or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now))
        .values(lease_until=now + dt.timedelta(seconds=lease_s), updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        return None
    d = session.get(WebhookDelivery, delivery_id)
    ev = session.get(WebhookEvent, d.event_id) if d else None
    sub = session.get(WebhookSubscription, d.subscription_id) if d else None
    if d is None or ev is None or sub is None:
        return None
    number = (session.scalar(select(func.max(WebhookAttempt.number)).where(WebhookAttempt.delivery_id == d.id)) or 0) + 1
    body = json.dumps(ev.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return Claimed(d.id, ev.id, body, sub.url, sub.secret, number, d.next_attempt_at)


def record_attempt(session: Session, claimed: Claimed, *, status_code: int | None, error: str | None,
                   duration_ms: int, max_attempts: int, next_delay_s: Callable[[int], float]) -> tuple[str, float]:
    """Record one try and its consequence: ``delivered`` (2xx), ``retry`` (another try after
    ``next_delay_s(attempts)`` seconds, returned with it) or ``dead`` (that was the last one).
    Releases the lease."""
    now = utcnow()
    d = session.get(WebhookDelivery, claimed.delivery_id, with_for_update=True)
    if d is None:
        return "gone", 0.0
    session.add(WebhookAttempt(delivery_id=d.id, number=claimed.attempt, at=now, status_code=status_code,
                               error=(error or None) and error[:500], duration_ms=duration_ms))
    d.attempts += 1
    d.last_status_code, d.last_error = status_code, (error or None) and error[:500]
    d.lease_until = None
    d.updated_at = now
    if status_code is not None and 200 <= status_code < 300:
        d.status, d.delivered_at = DELIVERED, now
    elif d.attempts >= max_attempts:
        d.status = DEAD
    else:
        delay = next_delay_s(d.attempts)
        d.next_attempt_at = now + dt.timedelta(seconds=delay)
        session.flush()
        return "retry", delay
    session.flush()
    return {DELIVERED: "delivered", DEAD: "dead"}[d.status], 0.0


def due_deliveries(session: Session, *, grace_s: float = 60.0, limit: int = 500) -> list[tuple[str, int]]:
    """Pending deliveries due more than ``grace_s`` ago and held by no job: (id, attempts). Their
    job was lost (Redis down at enqueue time, flushed, a worker killed mid-send); the sweep
    enqueues them again."""
    now = utcnow()
    rows = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at < now - dt.timedelta(seconds=grace_s),
               or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now))
        .order_by(WebhookDelivery.next_attempt_at).limit(limit))
    return [(r[0], r[1]) for r in rows]


def redeliver(session: Session, delivery_ids: Iterable[str] = (), *, dead: bool = False) -> list[str]:
    """Put deliveries (the given ones, or with ``dead`` every dead one) back to pending for a new
    round of attempts. The event id stays the same, so a receiver that processed it drops it."""
    q = select(WebhookDelivery)
    ids = list(delivery_ids)
    if ids:
        q = q.where(WebhookDelivery.id.in_(ids))
    elif dead:
        q = q.where(WebhookDelivery.status == DEAD)
    else:
        return []
    rows = list(session.scalars(q.with_for_update()))
    missing = set(ids) - {r.id for r in rows}
    if missing:
        raise WebhookError(f"no such delivery: {', '.join(sorted(missing))}", code="not_found")
    now = utcnow()
    for r in rows:
        r.status, r.attempts, r.next_attempt_at, r.lease_until, r.updated_at = PENDING, 0, now, None, now
    session.flush()
    session.info.setdefault(_NEW_DELIVERIES, []).extend(r.id for r in rows)
    return [r.id for r in rows]


def list_deliveries(session: Session, *, status: str | None = None, event_id: str | None = None,
                    limit: int = 100) -> list[Delivery]:
    q = (select(WebhookDelivery, WebhookEvent.type, WebhookSubscription.url)
         .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
         .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id))
    if status:
        q = q.where(WebhookDelivery.status == status)
    if event_id:
        q = q.where(WebhookDelivery.event_id == event_id)
    q = q.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit)
    return [Delivery(d.id, d.event_id, t, d.subscription_id, url, d.status, d.attempts, d.next_attempt_at,
                     d.last_status_code, d.last_error, d.delivered_at) for d, t, url in session.execute(q)]


def attempts_of(session: Session, delivery_id: str) -> list[tuple[int, dt.datetime, int | None, str | None]]:
    rows = session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                           .order_by(WebhookAttempt.number))
    return [(a.number, a.at, a.status_code, a.error) for a in rows]
