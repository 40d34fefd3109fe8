"""Soak: N documents through `loandocs worker --concurrency W`, watching throughput, stage times
and the workers' memory.

1. Stores N documents in applications of four (as the API does: committed, enqueued, marked
   queued). The mix cycles through the born-digital certificate and statement PDFs of
   samples/financial (text layer) with every k-th document an ID card image from
   samples/idcards (scans, photos, rotations: full OCR).
2. Starts the worker pool (`loandocs worker --concurrency W`, no recycling unless --max-jobs)
   and samples each worker process's RSS from /proc once a second, with the number of jobs it
   has done (rq's successful_job_count).
3. When every document is finished, reads the timings back (rq job start/end, the stage
   timings stored with each extraction, the /metrics counters in Redis) and stops the pool with
   SIGTERM.

RSS "start" is the median of a worker's samples over its first tenth of jobs (from job 1: the
engine loaded and warmed by real documents, since ONNX Runtime allocates its arenas on the first
runs), "end" the median over its last tenth; "loaded" is before any job, "idle after" the sample
after the last job. Growth is end against start.

    .venv/bin/python benchmarks/soak.py [--docs 1000] [--workers 2] [--image-every 10]
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/14]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PDFS = sorted(p for p in (ROOT / "samples" / "financial").glob("*_pdf_*.pdf") if "scan" not in p.name)
IMAGES = sorted((ROOT / "samples" / "idcards").glob("*.jpg"))
STAGES = ("load", "preprocess", "ocr", "layout", "classify", "group", "parse", "validate", "total")


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def pick(i: int, image_every: int) -> Path:
    if image_every and i % image_every == image_every - 1:
        return IMAGES[(i // image_every) % len(IMAGES)]
    return PDFS[i % len(PDFS)]


def seed(svc, n: int, image_every: int) -> dict[str, str]:
    from loandocs.store import repository as repo
    from loandocs.worker.queue import enqueue_document

    kinds: dict[str, str] = {}
    cache: dict[Path, tuple[bytes, str]] = {}
    ids: list[str] = []
    for start in range(0, n, 4):
        with svc.sessions.begin() as s:
            app = repo.create_application(s, applicant_name="压力测试", loan_type="personal_consumer", amount="10000",
                                          term_months=12, application_date=dt.date(2026, 11, 29))
            repo.record_consent(s, app.id, text_version="soak", channel="bench")
            for i in range(start, min(n, start + 4)):
                path = pick(i, image_every)
                if path not in cache:
                    data = path.read_bytes()
                    cache[path] = (data, svc.files.put(data))
                data, key = cache[path]
                doc = repo.add_document(s, app.id, filename=path.name, content_type=None, size=len(data),
                                        sha256=key, storage_key=key)
                ids.append(doc.id)
                kinds[doc.id] = "image" if path.suffix == ".jpg" else "pdf"
    for doc_id in ids:
        enqueue_document(svc.redis, doc_id)
    with svc.sessions.begin() as s:
        for doc_id in ids:
            repo.set_document_status(s, doc_id, "queued")
    return kinds


def finished(svc) -> tuple[int, int]:
    from sqlalchemy import func, select

    from loandocs.store.tables import Document

    with svc.sessions() as s:
        done = s.scalar(select(func.count()).select_from(Document).where(Document.status.in_(("extracted", "failed"))))
        total = s.scalar(select(func.count()).select_from(Document))
    return done, total


def med(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def run(args) -> dict:
    from redis import Redis
    from rq import Worker
    from rq.job import Job

    from loandocs.config import Settings
    from loandocs.services import Services
    from loandocs.store import repository as repo
    from loandocs.worker import metrics as wm
    from loandocs.worker.queue import job_id_for

    data_dir = Path(tempfile.mkdtemp(prefix="loandocs-soak-"))
    redis = Redis.from_url(args.redis)
    redis.flushdb()
    svc = Services(Settings(data_dir=data_dir, redis_url=args.redis, database_url=args.database_url))
    t = time.monotonic()
    kinds = seed(svc, args.docs, args.image_every)
    print(f"seeded {len(kinds)} documents ({sum(k == 'image' for k in kinds.values())} images) "
          f"in {time.monotonic() - t:.1f} s", file=sys.stderr)

    env = dict(os.environ, LOANDOCS_DATA_DIR=str(data_dir), LOANDOCS_REDIS_URL=args.redis,
               LOANDOCS_LOG_LEVEL="WARNING")
    if args.database_url:
        env["LOANDOCS_DATABASE_URL"] = args.database_url
    cmd = [sys.executable, "-m", "loandocs.cli", "worker", "--concurrency", str(args.workers)]
    if args.max_jobs:
        cmd += ["--max-jobs", str(args.max_jobs)]
    log = open(data_dir / "workers.log", "w")
    t0 = time.monotonic()
    pool = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    samples: dict[int, list[tuple[float, int, float]]] = {}  # pid -> [(t, jobs done, RSS MiB)]
    done = 0
    try:
        while True:
            now = time.monotonic() - t0
            for w in Worker.all(connection=redis):
                mib = rss_mib(w.pid) if w.pid else None
                if mib is not None:
                    samples.setdefault(w.pid, []).append((now, w.successful_job_count + w.failed_job_count, mib))
            done, total = finished(svc)
            if done >= total:
                break
            if pool.poll() is not None:
                raise SystemExit(f"the worker pool exited with {pool.returncode}; see {data_dir / 'workers.log'}")
            if int(now) % 30 == 0:
                print(f"  {now:5.0f} s: {done}/{total} done", file=sys.stderr)
            time.sleep(1.0)
        wall = time.monotonic() - t0
        # One last sample of every worker, after the last job.
        for w in Worker.all(connection=redis):
            mib = rss_mib(w.pid) if w.pid else None
            if mib is not None:
                samples.setdefault(w.pid, []).append((wall, w.successful_job_count + w.failed_job_count, mib))
    finally:
        pool.send_signal(signal.SIGTERM)
        pool.wait(timeout=300)
        log.close()

    jobs = Job.fetch_many([job_id_for(i) for i in kinds], connection=redis)
    spans = [(j.started_at, j.ended_at) for j in jobs if j is not None and j.started_at and j.ended_at]
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    busy = (last - first).total_seconds()
    durations = {"image": [], "pdf": []}
    for doc_id, j in zip(kinds, jobs):
        if j is not None and j.started_at and j.ended_at:
            durations[kinds[doc_id]].append((j.ended_at - j.started_at).total_seconds() * 1000)
    stage_values: dict[str, dict[str, list[float]]] = {k: {s: [] for s in STAGES} for k in ("image", "pdf")}
    statuses: dict[str, int] = {}
    with svc.sessions() as s:
        for doc_id, kind in kinds.items():
            doc = repo.get_document(s, doc_id)
            statuses[doc.status] = statuses.get(doc.status, 0) + 1
            ext = repo.latest_extraction(s, doc_id)
            timings = (ext.result[0].get("timings_ms") or {}) if ext and ext.result else {}
            for stage in STAGES:
                if stage in timings:
                    stage_values[kind][stage].append(timings[stage])
    workers = {}
    for pid, rows in samples.items():
        # RSS swings by hundreds of MiB with the document in hand (a photo's buffers, a PDF's
        # rendered pages), so start and end are medians over a window of jobs, not one sample.
        jobs_done = rows[-1][1]
        window = max(5, jobs_done // 10)
        early = [mib for _, n, mib in rows if 1 <= n <= window]
        late = [mib for _, n, mib in rows if n > jobs_done - window]
        loaded = next((mib for _, n, mib in rows if n == 0), None)
        start, end = med(early), med(late)
        workers[pid] = {"jobs": jobs_done, "window_jobs": window,
                        "rss_loaded_mib": round(loaded, 1) if loaded else None,
                        "rss_start_mib": start, "rss_end_mib": end, "rss_idle_after_mib": round(rows[-1][2], 1),
                        "rss_peak_mib": round(max(m for _, _, m in rows), 1),
                        "growth_pct": round((end - start) / start * 100, 1) if start and end else None}
    counters = wm.read_counter(redis, wm.JOBS)
    result = {
        "docs": len(kinds), "images": sum(k == "image" for k in kinds.values()), "workers": args.workers,
        "database": "postgresql" if args.database_url else "sqlite", "statuses": statuses,
        "wall_s": round(wall, 1), "busy_s": round(busy, 1), "docs_per_min": round(len(spans) / busy * 60, 1),
        "job_ms_median": {k: med(v) for k, v in durations.items()},
        "stage_ms_median": {k: {s: med(v) for s, v in stages.items()} for k, stages in stage_values.items()},
        "workers_rss": workers, "metrics_jobs": {"/".join(k): v for k, v in counters.items()},
        "load_avg_end": os.getloadavg(),
    }
    svc.engine.dispose()
    redis.flushdb()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--image-every", type=int, default=10, help="every k-th document is an ID card image (0: none)")
    ap.add_argument("--max-jobs", type=int, default=None, help="recycle workers after this many jobs")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--postgres", default=None, help="run on a throwaway schema in this PostgreSQL database")
    args = ap.parse_args()
    args.database_url = None
    admin = schema = None
    if args.postgres:
        from sqlalchemy import create_engine, text

        from loandocs.store import db

        schema = f"soak_{uuid.uuid4().hex[:10]}"
        admin = create_engine(db.normalize_url(args.postgres))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        args.database_url = f"{args.postgres}?options=-csearch_path%3D{schema}"
    try:
        result = run(args)
    finally:
        if admin is not None:
            from sqlalchemy import text

            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
