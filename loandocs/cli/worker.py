"""``loandocs worker [--concurrency N] [--max-jobs M] [--burst] [--sweep-only]``: run rq workers
for document jobs.

One worker (the default) runs in this process. ``--concurrency N`` or ``--max-jobs M`` start the
supervisor of ``loandocs.worker.pool``, which runs each worker as a child process
(``worker --child``) and restarts it after M jobs or a crash.

Kept out of ``cli.py`` so that module only has to register it; it must not import
``loandocs.cli`` (which runs as ``__main__`` under ``python -m``).
"""

from __future__ import annotations

import argparse

from loandocs.cli.args import positive_int


def add_parser(sub) -> None:
    p = sub.add_parser("worker", help="process uploaded documents from the queue")
    p.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    p.add_argument("--concurrency", type=positive_int, default=1, metavar="N",
                   help="run N worker processes; each gets cores/N OCR threads (default 1)")
    p.add_argument("--max-jobs", type=positive_int, default=None, metavar="M",
                   help="restart a worker process after M jobs, to bound its memory")
    p.add_argument("--queue", action="append", dest="queues", metavar="NAME",
                   help="listen to this queue (repeatable, in priority order; default: "
                        "loandocs-webhooks, loandocs-default, then loandocs-reprocess)")
    p.add_argument("--sweep-only", action="store_true",
                   help="re-enqueue documents stuck in received/queued/processing, then exit")
    p.add_argument("--older-than", type=float, default=None, metavar="SECONDS",
                   help="with --sweep-only: how old a stuck document must be (default 300)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # started by the pool supervisor
    p.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    from loandocs.config import get_settings
    from loandocs.logs import setup_logging
    from loandocs.worker.queue import QUEUES

    settings = get_settings()
    setup_logging(settings.log_format, settings.log_level)
    queues = args.queues or list(QUEUES)
    if (args.concurrency > 1 or args.max_jobs) and not args.child and not args.sweep_only:
        from loandocs.worker.pool import Pool

        return Pool(args.concurrency, max_jobs=args.max_jobs, burst=args.burst, queues=args.queues or (),
                    threads=settings.ocr.threads).run()

    from loandocs.services import get_services
    from loandocs.worker.pool import RECYCLE_EXIT
    from loandocs.worker.runner import STUCK_AFTER_S, run_worker, sweep

    services = get_services()
    if args.sweep_only:
        n = sweep(services, STUCK_AFTER_S if args.older_than is None else args.older_than)
        print(f"re-enqueued {n} document(s)")
        return 0
    if settings.ocr.threads > 0:
        import cv2

        cv2.setNumThreads(settings.ocr.threads)  # OpenCV's own pool would otherwise use every core
    done = run_worker(services, burst=args.burst, queues=queues, max_jobs=args.max_jobs, nice=settings.worker_nice)
    # rq's work loop returns after max_jobs; tell the supervisor to start a fresh process.
    return RECYCLE_EXIT if args.max_jobs and done >= args.max_jobs else 0
