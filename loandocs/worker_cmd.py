"""``loandocs worker [--burst] [--sweep-only]``: run an rq worker for document jobs.

Kept out of ``cli.py`` so that module only has to register it; it must not import
``loandocs.cli`` (which runs as ``__main__`` under ``python -m``).
"""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("worker", help="process uploaded documents from the queue")
    p.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    p.add_argument("--sweep-only", action="store_true",
                   help="re-enqueue documents stuck in received/queued/processing, then exit")
    p.add_argument("--older-than", type=float, default=None, metavar="SECONDS",
                   help="with --sweep-only: how old a stuck document must be (default 300)")
    p.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.worker.runner import STUCK_AFTER_S, run_worker, sweep

    services = get_services()
    if args.sweep_only:
        n = sweep(services, STUCK_AFTER_S if args.older_than is None else args.older_than)
        print(f"re-enqueued {n} document(s)")
        return 0
    run_worker(services, burst=args.burst)
    return 0
