"""Operator commands: ``loandocs reprocess``, ``loandocs failed``, ``loandocs requeue-failed``.

They talk to the same database and Redis as the service (``LOANDOCS_DATABASE_URL``,
``LOANDOCS_REDIS_URL`` or the data dir) and need workers running to get anything done.
Registered by ``cli.py``; this module must not import ``loandocs.cli``.
"""

from __future__ import annotations

import argparse
import collections
import getpass
import json
import sys

from loandocs import kinds
from loandocs.cli.args import date_arg, positive_int

# Documents of one run queued at a time: enough to keep every worker busy between polls,
# few enough that Ctrl+C leaves little behind (see loandocs.worker.reprocess).
DEFAULT_BATCH = 50
DOC_TYPES = kinds.DOC_TYPES




def add_parsers(sub) -> None:
    p = sub.add_parser("reprocess", help="run documents through the pipeline again (after a model or rule upgrade)",
                       description="Select finished documents (extracted or failed) and re-process them on the "
                                   "low-priority queue. Filters combine (AND); --all selects everything.")
    p.add_argument("--application", action="append", default=[], metavar="ID", help="application id (repeatable)")
    p.add_argument("--doc-type", action="append", default=[], choices=DOC_TYPES, help="repeatable")
    p.add_argument("--status", action="append", default=[], choices=("extracted", "failed"), help="repeatable")
    p.add_argument("--since", type=date_arg, help="uploaded on or after this day (YYYY-MM-DD, China time)")
    p.add_argument("--until", type=date_arg, help="uploaded on or before this day")
    p.add_argument("--older-than-extractor", action="store_true",
                   help="only documents last extracted by an older extractor version than this one")
    p.add_argument("--all", action="store_true", help="every finished document (needed when no filter is given)")
    p.add_argument("--dry-run", action="store_true", help="print how many documents would be re-processed")
    _feeding_options(p)
    p.set_defaults(func=cmd_reprocess)

    p = sub.add_parser("failed", help="list failed documents with their error codes")
    p.add_argument("--code", action="append", default=[], help="only this error code (repeatable)")
    p.add_argument("--application", action="append", default=[], metavar="ID")
    p.add_argument("--limit", type=positive_int, default=100)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_failed)

    p = sub.add_parser("requeue-failed", help="retry failed documents")
    p.add_argument("--code", action="append", default=[], help="only this error code (repeatable)")
    p.add_argument("--application", action="append", default=[], metavar="ID")
    p.add_argument("--dry-run", action="store_true")
    _feeding_options(p)
    p.set_defaults(func=cmd_requeue_failed)


def _feeding_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-wait", action="store_true", help="enqueue and return instead of waiting with a progress bar")
    p.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH,
                   help=f"documents in flight at a time (default {DEFAULT_BATCH})")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def _services():
    from loandocs.config import get_settings
    from loandocs.logs import setup_logging
    from loandocs.services import get_services

    setup_logging(get_settings().log_format, "WARNING")  # the command's own output is its report
    return get_services()


def _audit(services, action: str, run_id: str, **detail) -> None:
    from loandocs.store import access

    with services.sessions.begin() as s:
        access.audit(s, actor=f"cli:{getpass.getuser()}", role="admin", action=action, object_type="batch",
                     object_id=run_id, detail=detail)


def _describe(docs) -> str:
    apps = len({d.application_id for d in docs})
    by = collections.Counter((d.status, d.doc_type or "none") for d in docs)
    lines = [f"{len(docs)} document(s) in {apps} application(s)"]
    lines += [f"  {status:<10} {doc_type:<20} {n}" for (status, doc_type), n in sorted(by.items())]
    return "\n".join(lines)


def _report(outcome, args, queue: str) -> int:
    if args.json:
        json.dump({"run": outcome.run_id, "queue": queue, "selected": outcome.total, "enqueued": outcome.enqueued,
                   "skipped": outcome.skipped, "waited": outcome.waited, "interrupted": outcome.interrupted,
                   "extracted": outcome.extracted, "failed": dict(outcome.failed), "seconds": round(outcome.seconds, 1),
                   "status_changes": [{"application_id": a, "from": f, "to": t} for a, f, t in outcome.status_changes]},
                  sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"run {outcome.run_id}: {outcome.enqueued} document(s) enqueued on {queue}"
              + (f", {outcome.skipped} skipped (already pending)" if outcome.skipped else ""))
        if outcome.waited:
            failed = ", ".join(f"{code} {n}" for code, n in outcome.failed.most_common())
            print(f"  {outcome.extracted} extracted, {sum(outcome.failed.values())} failed"
                  + (f" ({failed})" if failed else "") + f" in {outcome.seconds:.0f} s")
            for app_id, before, after in outcome.status_changes:
                print(f"  application {app_id}: {before} -> {after}")
        else:
            print("  not waiting; follow it with `loandocs failed`, `rq info` or /metrics")
        if outcome.interrupted:
            print("  interrupted: enqueued documents still run; the rest keep their last extraction")
    return 130 if outcome.interrupted else 0


def _feed(services, docs, args, *, queue: str, run_id: str):
    from loandocs.worker.reprocess import ProgressBar, run

    progress = None if args.no_wait else ProgressBar(run_id)
    return run(services, docs, run_id=run_id, queue=queue, batch_size=args.batch_size, wait=not args.no_wait,
               progress=progress)


def cmd_reprocess(args: argparse.Namespace) -> int:
    from loandocs import __version__
    from loandocs.store import batches
    from loandocs.worker.queue import REPROCESS_QUEUE
    from loandocs.worker.reprocess import new_run_id

    filters = bool(args.application or args.doc_type or args.status or args.since or args.until
                   or args.older_than_extractor)
    if not filters and not args.all:
        print("loandocs reprocess: give a filter (--application, --doc-type, --status, --since, --until, "
              "--older-than-extractor) or --all", file=sys.stderr)
        return 2
    services = _services()
    with services.sessions() as s:
        docs = batches.select_documents(
            s, application_ids=args.application, doc_types=args.doc_type,
            statuses=args.status or batches.FINISHED, since=args.since, until=args.until,
            older_than_extractor=__version__ if args.older_than_extractor else None)
    if args.dry_run:
        print(f"would re-process {_describe(docs)}")
        return 0
    if not docs:
        print("nothing to re-process")
        return 0
    run_id = new_run_id("r")
    _audit(services, "reprocess", run_id, documents=len(docs),
           filters=sorted(k for k in ("application", "doc_type", "status", "since", "until", "older_than_extractor", "all")
                          if getattr(args, k)))
    outcome = _feed(services, docs, args, queue=REPROCESS_QUEUE, run_id=run_id)
    return _report(outcome, args, REPROCESS_QUEUE)


def cmd_failed(args: argparse.Namespace) -> int:
    from loandocs.masking import mask_text
    from loandocs.store import batches
    from loandocs.store.repository import CST

    services = _services()
    with services.sessions() as s:
        rows = batches.failed_documents(s, error_codes=args.code, application_ids=args.application, limit=args.limit)
    if args.json:
        json.dump([{"id": r.id, "application_id": r.application_id, "application_no": r.application_no,
                    "filename": mask_text(r.filename), "error_code": r.error_code,
                    "message": mask_text(r.error_message or ""), "attempts": r.attempts,
                    "failed_at": r.updated_at.isoformat()} for r in rows], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print("no failed documents")
        return 0
    print(f"{'document':<36}  {'application':<18} {'code':<22} {'tries':>5}  {'failed at (CST)':<16}  message")
    for r in rows:
        message = mask_text((r.error_message or "").replace("\n", " "))
        print(f"{r.id:<36}  {r.application_no:<18} {r.error_code or '-':<22} {r.attempts:>5}  "
              f"{r.updated_at.astimezone(CST):%Y-%m-%d %H:%M}  {message[:70]}")
    if len(rows) == args.limit:
        print(f"(first {args.limit}; use --limit for more)")
    return 0


def cmd_requeue_failed(args: argparse.Namespace) -> int:
    from loandocs.store import batches
    from loandocs.worker.queue import DEFAULT_QUEUE
    from loandocs.worker.reprocess import forget_failed_jobs, new_run_id

    services = _services()
    with services.sessions() as s:
        docs = batches.select_documents(s, application_ids=args.application, statuses=("failed",),
                                        error_codes=args.code)
    if args.dry_run:
        print(f"would requeue {_describe(docs)}")
        return 0
    if not docs:
        print("no failed documents to requeue")
        return 0
    run_id = new_run_id("q")
    _audit(services, "requeue_failed", run_id, documents=len(docs), codes=sorted(set(args.code)))
    forget_failed_jobs(services.redis, [d.id for d in docs])
    # Failed documents usually belong to applicants waiting for an answer: the default queue,
    # still fed a window at a time so a large requeue does not push uploads back.
    outcome = _feed(services, docs, args, queue=DEFAULT_QUEUE, run_id=run_id)
    return _report(outcome, args, DEFAULT_QUEUE)
