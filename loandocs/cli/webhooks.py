"""``loandocs webhooks ...``: the lender's subscriptions and the deliveries to them.

    loandocs webhooks add URL [--event TYPE ...] [--secret whsec_...]   # prints id and secret once
    loandocs webhooks list [--json]
    loandocs webhooks remove ID
    loandocs webhooks deliveries [--status pending|delivered|dead] [--json]
    loandocs webhooks redeliver ID... | --dead

Like the other admin commands they act as the local operator (``cli:<user>``) and are audited.
"""

from __future__ import annotations

import argparse
import json

from loandocs.cli.admin import _actor


def add_parser(sub) -> None:
    from loandocs.store.webhooks import EVENT_TYPES

    p = sub.add_parser("webhooks", help="webhook subscriptions of the lender's systems, deliveries, redelivery")
    wsub = p.add_subparsers(dest="webhooks_command", required=True)
    a = wsub.add_parser("add", help="subscribe URL; prints the subscription id and its signing secret (once)")
    a.add_argument("url")
    a.add_argument("--event", action="append", dest="events", choices=EVENT_TYPES,
                   help="an event type to send (repeatable; default: all)")
    a.add_argument("--secret", help="whsec_<base64> signing secret; default: a new random one")
    a.set_defaults(func=cmd_add)
    ls = wsub.add_parser("list", help="subscriptions (never their secrets)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    r = wsub.add_parser("remove", help="stop sending to a subscription (its history stays)")
    r.add_argument("id")
    r.set_defaults(func=cmd_remove)
    d = wsub.add_parser("deliveries", help="deliveries, newest first; --status dead is the dead-letter list")
    d.add_argument("--status", choices=["pending", "delivered", "dead"])
    d.add_argument("--limit", type=int, default=100)
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_deliveries)
    rd = wsub.add_parser("redeliver", help="send deliveries again (same event id) with a new round of attempts")
    rd.add_argument("ids", nargs="*", metavar="DELIVERY_ID")
    rd.add_argument("--dead", action="store_true", help="every dead delivery")
    rd.set_defaults(func=cmd_redeliver)


def cmd_add(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import access
    from loandocs.store import webhooks as store

    with get_services().sessions.begin() as s:
        sub, secret = store.add_subscription(s, args.url, args.events or store.EVENT_TYPES, secret=args.secret,
                                             created_by=_actor())
        access.audit(s, actor=_actor(), role="admin", action="webhook_subscribe", object_type="webhook_subscription",
                     object_id=sub.id, detail={"event_types": list(sub.event_types)})
    print(json.dumps({"id": sub.id, "url": sub.url, "event_types": list(sub.event_types), "secret": secret}))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import webhooks as store

    with get_services().sessions() as s:
        subs = store.list_subscriptions(s)
    rows = [{"id": x.id, "url": x.url, "event_types": list(x.event_types), "active": x.active,
             "created_at": x.created_at.isoformat(), "created_by": x.created_by} for x in subs]
    if args.json:
        print(json.dumps(rows, indent=2))
    for r in [] if args.json else rows:
        print(f"{r['id']}  {'active ' if r['active'] else 'removed'}  {r['url']}  {','.join(r['event_types'])}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import access
    from loandocs.store import webhooks as store

    with get_services().sessions.begin() as s:
        store.remove_subscription(s, args.id)
        access.audit(s, actor=_actor(), role="admin", action="webhook_unsubscribe", object_type="webhook_subscription",
                     object_id=args.id)
    print(f"removed {args.id}")
    return 0


def cmd_deliveries(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import webhooks as store

    with get_services().sessions() as s:
        items = store.list_deliveries(s, status=args.status, limit=args.limit)
        rows = [{"id": d.id, "event_id": d.event_id, "event_type": d.event_type, "subscription_id": d.subscription_id,
                 "url": d.url, "status": d.status, "attempts": d.attempts, "last_status_code": d.last_status_code,
                 "last_error": d.last_error,
                 "attempt_log": [{"number": n, "at": at.isoformat(), "status_code": code, "error": err}
                                 for n, at, code, err in store.attempts_of(s, d.id)]} for d in items]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        last = r["last_status_code"] or r["last_error"] or "-"
        print(f"{r['id']}  {r['status']:<9}  {r['event_type']:<27}  attempts {r['attempts']}  last {last}  {r['url']}")
    return 0


def cmd_redeliver(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import access
    from loandocs.store import webhooks as store

    if not args.ids and not args.dead:
        raise SystemExit("loandocs webhooks redeliver: give delivery ids or --dead")
    with get_services().sessions.begin() as s:
        ids = store.redeliver(s, args.ids, dead=args.dead)
        access.audit(s, actor=_actor(), role="admin", action="webhook_redeliver", object_type="webhook_delivery",
                     detail={"deliveries": len(ids)})
    print(f"redelivering {len(ids)} deliveries")  # enqueued when the transaction committed
    return 0
