"""Upload latency under load and documents per minute with 1 and 2 workers, in one run.

1. Starts `loandocs serve` and one busy worker (a backlog of ID card images keeps it OCRing),
   then 20 concurrent clients upload; reports upload latency p50/p99. The API never runs OCR
   inline, so latency is storage + commit + enqueue.
2. Enqueues the same batch of documents for 1 worker, then for 2 workers, and reports
   documents per minute for each, side by side.

Uses the machine's Redis (db 11, flushed) and a SQLite data dir in a temp folder.

    .venv/bin/python benchmarks/bench_service.py [--uploads 200] [--batch 16]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/11"
ID_IMAGES = sorted((ROOT / "samples" / "idcards").glob("front_scan_*.jpg"))
SMALL_PDF = ROOT / "samples" / "financial" / "income_pdf_001.pdf"


TOKENS: dict[str, str] = {}  # application id -> its applicant token


def _req(method: str, url: str, body: bytes | None = None, ctype: str | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": ctype} if ctype else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


def create_app(base: str) -> str:
    body = {"applicant_name": "基准测试", "loan_type": "personal_consumer", "amount": 10000, "term_months": 12,
            "purpose": "benchmark", "consent": {"agreed": True, "version": "bench"}}
    out = _req("POST", base + "/v1/applications", json.dumps(body).encode(), "application/json")
    TOKENS[out["id"]] = out["applicant_token"]
    return out["id"]


def upload(base: str, app_id: str, path: Path) -> float:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n\r\n").encode()
    body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    t0 = time.perf_counter()
    _req("POST", f"{base}/v1/applications/{app_id}/documents", body, f"multipart/form-data; boundary={boundary}",
         TOKENS[app_id])
    return time.perf_counter() - t0


def wait_all_done(base: str, app_ids: list[str], timeout: float = 1800) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = [d["status"] for a in app_ids for d in _req("GET", f"{base}/v1/applications/{a}", token=TOKENS[a])["documents"]]
        if states and all(s in ("extracted", "failed") for s in states):
            return
        time.sleep(0.5)
    raise TimeoutError("documents did not finish")


def start(cmd: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "loandocs.cli", *cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--uploads", type=int, default=200)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--port", type=int, default=8791)
    ap.add_argument("--database-url", help="e.g. postgresql://postgres@127.0.0.1:5432/test (a fresh schema is made)")
    args = ap.parse_args()
    schema = None
    if args.database_url:
        from sqlalchemy import create_engine, text

        from loandocs.store.db import normalize_url

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalize_url(args.database_url))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        args.database_url = f"{args.database_url}?options=-csearch_path%3D{schema}"
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LOANDOCS_DATA_DIR=tmp, LOANDOCS_REDIS_URL=REDIS)
        if args.database_url:
            env["LOANDOCS_DATABASE_URL"] = args.database_url
        print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
        api = start(["serve", "--port", str(args.port)], env)
        procs = [api]
        try:
            for _ in range(100):
                try:
                    _req("GET", base + "/healthz")
                    break
                except OSError:
                    time.sleep(0.2)
            # 1. latency while a worker is busy OCRing a backlog
            backlog = create_app(base)
            for img in ID_IMAGES * 3:
                upload(base, backlog, img)
            procs.append(start(["worker"], env))
            time.sleep(3)  # let it load the engine and start on the backlog
            app_id = create_app(base)
            with ThreadPoolExecutor(args.clients) as pool:
                lat = sorted(pool.map(lambda _: upload(base, app_id, SMALL_PDF), range(args.uploads)))
            p50, p99 = statistics.median(lat), lat[int(0.99 * (len(lat) - 1))]
            print(f"upload latency, {args.clients} clients, {args.uploads} uploads, 1 worker busy: "
                  f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
            wait_all_done(base, [backlog, app_id])
            # 2. throughput with 1, then 2 workers, on the same batch
            files = (ID_IMAGES * 4)[: args.batch]
            for n in (1, 2):
                for p in procs[1:]:
                    p.terminate()
                    p.wait(timeout=60)
                procs = procs[:1]
                a = create_app(base)
                for f in files:
                    upload(base, a, f)
                threads = str(max(1, (os.cpu_count() or 2) // n))  # cores / workers
                wenv = dict(env, LOANDOCS_OCR__THREADS=threads)
                t0 = time.perf_counter()
                procs += [start(["worker"], wenv) for _ in range(n)]
                wait_all_done(base, [a])
                dt = time.perf_counter() - t0
                print(f"{n} worker(s), {threads} OCR thread(s) each: {len(files)} ID images in {dt:.1f} s "
                      f"= {len(files) / dt * 60:.1f} documents/min (incl. engine load)")
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
    if schema:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
