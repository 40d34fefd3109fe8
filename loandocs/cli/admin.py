"""``loandocs token ...``, ``loandocs erase ...`` and ``loandocs audit``: the admin commands.

They act as the local operator (actor ``cli:<user>``), who already holds the database URL and
the key; every one of them is audited like an API call.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


def add_parser(sub) -> None:
    p = sub.add_parser("token", help="create, list and revoke bearer tokens for reviewers and admins")
    tsub = p.add_subparsers(dest="token_command", required=True)
    c = tsub.add_parser("create", help="print a new bearer token (shown once)")
    c.add_argument("--role", required=True, choices=["reviewer", "admin"])
    c.add_argument("--name", required=True, help="who holds it, e.g. the reviewer's staff id")
    c.set_defaults(func=cmd_token_create)
    ls = tsub.add_parser("list", help="list tokens (never the tokens themselves)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_token_list)
    r = tsub.add_parser("revoke", help="revoke a token by id, or every live token of a name")
    r.add_argument("token", metavar="ID_OR_NAME")
    r.set_defaults(func=cmd_token_revoke)

    p = sub.add_parser("erase", help="erase an application's documents and personal data")
    p.add_argument("application", nargs="?", metavar="APPLICATION", help="application id or number")
    p.add_argument("--expired", action="store_true",
                   help="erase every rejected application past LOANDOCS_RETENTION_REJECTED_DAYS")
    p.add_argument("--reason", default="applicant request")
    p.add_argument("--dry-run", action="store_true", help="with --expired: only list them")
    p.set_defaults(func=cmd_erase)

    p = sub.add_parser("audit", help="show the audit log, newest first")
    p.add_argument("--application", help="only events of this application id")
    p.add_argument("--actor")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)


def cmd_token_create(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import access

    with get_services().sessions() as session:
        token, rec = access.create_token(session, role=args.role, name=args.name, created_by=_actor())
        access.audit(session, actor=_actor(), role="admin", action="token_create", object_type="token",
                     object_id=rec.id, detail={"role": rec.role, "name": rec.name})
        session.commit()
    print(token)
    print(f"token {rec.id} for {rec.name} ({rec.role}); it is shown only now", file=sys.stderr)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import access

    with get_services().sessions() as session:
        tokens = access.list_tokens(session)
    if args.json:
        json.dump([t.model_dump(mode="json") for t in tokens], sys.stdout, indent=2)
        print()
        return 0
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "live"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        print(f"{t.id}  {t.role:<8} {t.name:<24} {state:<22} last used {used}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import access

    with get_services().sessions() as session:
        revoked = access.revoke_token(session, args.token)
        for t in revoked:
            access.audit(session, actor=_actor(), role="admin", action="token_revoke", object_type="token",
                         object_id=t.id)
        session.commit()
    for t in revoked:
        print(f"revoked {t.id} ({t.name}, {t.role})")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import erasure
    from loandocs.store import repository as repo

    services = get_services()
    if args.expired == bool(args.application):
        print("loandocs erase: give an APPLICATION or --expired", file=sys.stderr)
        return 2
    with services.sessions() as session:
        if args.expired:
            days = services.settings.retention_rejected_days
            targets = erasure.expired_applications(session, rejected_after_days=days)
            reason = f"retention: rejected more than {days} days ago"
        else:
            ref = args.application
            app = repo.get_application_by_no(session, ref) if ref.startswith("LD") else repo.get_application(session, ref)
            targets, reason = [app.id], args.reason
    if args.dry_run:
        print("\n".join(targets) if targets else "nothing to erase")
        return 0
    for app_id in targets:  # one transaction each: a failure leaves the others erased
        with services.sessions() as session:
            erased = erasure.erase_application(session, app_id, actor=_actor(), role="admin", reason=reason)
            session.commit()
        removed = erasure.remove_files(services.files, erased.file_keys)
        print(f"erased {app_id}: {erased.documents} document(s), {removed} file(s)")
    if args.expired and not targets:
        print("nothing to erase")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import access

    with get_services().sessions() as session:
        _, events = access.list_audit(session, application_id=args.application, actor=args.actor, limit=args.limit)
    if args.json:
        json.dump([e.model_dump(mode="json") for e in events], sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    for e in events:
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<28} {e.role:<9} {e.action:<12} {e.object_type}:{e.object_id or '-'}"
              f"  app {e.application_id or '-'}  from {e.ip or '-'}")
    return 0
