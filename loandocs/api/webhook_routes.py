"""Admin routes for the lender's webhook subscriptions and the deliveries to them (the contract:
docs/api.md, "Webhooks"). Thin: ``store.webhooks`` does the work; every change is audited."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from loandocs.api.auth import ADMIN, Caller
from loandocs.api.deps import SessionDep
from loandocs.store import access
from loandocs.store import webhooks as store

router = APIRouter(prefix="/v1/webhooks", tags=["admin"])
AUTH = {401: {"description": "auth_required, invalid_token"}, 403: {"description": "forbidden, csrf_failed"}}
EventType = Literal["application.status_changed", "document.extracted", "document.failed", "application.decided"]


class SubscriptionIn(BaseModel):
    url: str = Field(min_length=8, max_length=2000, description="http(s) URL the events are POSTed to")
    event_types: list[EventType] = Field(default_factory=lambda: list(store.EVENT_TYPES), min_length=1)
    secret: str | None = Field(default=None, max_length=200,
                               description="whsec_<base64> signing secret; default: a new random one")


class SubscriptionOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    active: bool
    created_at: dt.datetime
    secret: str | None = Field(default=None, description="only in the answer to its creation")


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    subscription_id: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None


class DeliveryListOut(BaseModel):
    items: list[DeliveryOut]


class RedeliveredOut(BaseModel):
    deliveries: list[str]


def _out(sub: store.Subscription, secret: str | None = None) -> SubscriptionOut:
    return SubscriptionOut(id=sub.id, url=sub.url, event_types=list(sub.event_types), active=sub.active,
                           created_at=sub.created_at, secret=secret)


@router.get("/subscriptions", response_model=list[SubscriptionOut], responses=AUTH)
def list_subscriptions(session: SessionDep, caller: Annotated[Caller, Depends(ADMIN)]) -> list[SubscriptionOut]:
    return [_out(x) for x in store.list_subscriptions(session)]


@router.post("/subscriptions", response_model=SubscriptionOut, status_code=201,
             responses={422: {"description": "invalid_webhook_url, invalid_event_type, invalid_webhook_secret"}, **AUTH})
def create_subscription(body: SubscriptionIn, session: SessionDep, caller: Annotated[Caller, Depends(ADMIN)]) -> SubscriptionOut:
    sub, secret = store.add_subscription(session, body.url, body.event_types, secret=body.secret, created_by=caller.name)
    access.audit(session, actor=caller.name, role=caller.role, action="webhook_subscribe", object_type="webhook_subscription",
                 object_id=sub.id, ip=caller.ip, detail={"event_types": list(sub.event_types)})
    return _out(sub, secret)


@router.delete("/subscriptions/{sub_id}", status_code=204, response_class=Response,
               responses={404: {"description": "not_found"}, **AUTH})
def remove_subscription(sub_id: str, session: SessionDep, caller: Annotated[Caller, Depends(ADMIN)]) -> Response:
    store.remove_subscription(session, sub_id)
    access.audit(session, actor=caller.name, role=caller.role, action="webhook_unsubscribe",
                 object_type="webhook_subscription", object_id=sub_id, ip=caller.ip)
    return Response(status_code=204)


@router.get("/deliveries", response_model=DeliveryListOut, responses=AUTH)
def list_deliveries(
    session: SessionDep,
    caller: Annotated[Caller, Depends(ADMIN)],
    status: Literal["pending", "delivered", "dead"] | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=1000),
) -> DeliveryListOut:
    items = store.list_deliveries(session, status=status, limit=limit)
    return DeliveryListOut(items=[DeliveryOut(id=d.id, event_id=d.event_id, event_type=d.event_type,
                                              subscription_id=d.subscription_id, status=d.status, attempts=d.attempts,
                                              next_attempt_at=d.next_attempt_at, last_status_code=d.last_status_code,
                                              last_error=d.last_error, delivered_at=d.delivered_at) for d in items])


@router.post("/deliveries/{delivery_id}/redeliver", response_model=RedeliveredOut, status_code=202,
             responses={404: {"description": "not_found"}, **AUTH})
def redeliver(delivery_id: str, session: SessionDep, caller: Annotated[Caller, Depends(ADMIN)]) -> RedeliveredOut:
    ids = store.redeliver(session, [delivery_id])
    access.audit(session, actor=caller.name, role=caller.role, action="webhook_redeliver",
                 object_type="webhook_delivery", object_id=delivery_id, ip=caller.ip)
    return RedeliveredOut(deliveries=ids)  # enqueued once the request's transaction commits
