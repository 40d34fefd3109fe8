"""The API while workers OCR: upload and status-lookup latency with the workers idle and with
them saturated, on SQLite and (with ``--postgres``) PostgreSQL, in one run; optionally
documents per minute with 1 and 2 workers.

For each database: ``loandocs serve`` (one uvicorn process) and ``loandocs worker
--concurrency N`` (the pool: niced children, OCR threads = cores / N) on the machine's Redis.

1. idle: the workers run and have nothing to do (they listen on a queue nothing is sent to, so
   the uploads of this phase wait in the document queue); ``--clients`` clients each upload a
   small PDF and look up the application's status, in turn, ``--requests`` times in all.
2. saturated: a backlog of scans and photos is queued first and the pool is moved to the
   document queue; once every worker is reading, the same requests again. The workers' CPU
   share during the phase is reported, so "saturated" is measured, not assumed.

Both phases run on the same API process, side by side. ``--json`` prints one JSON object
(the PostgreSQL figures at the top level when ``--postgres`` is given, else SQLite's; every
database's under its name).

    .venv/bin/python benchmarks/bench_service.py [--postgres] [--clients 20] [--requests 300] [--json] [--throughput]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/11"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ID_IMAGES = sorted((ROOT / "samples" / "idcards").glob("*_photo_*.jpg"))
SCANS = sorted((ROOT / "samples" / "financial").glob("statement_scan_pdf_*.pdf")) + sorted(
    (ROOT / "samples" / "financial").glob("income_*scan*.jpg"))
SMALL_PDF = ROOT / "samples" / "financial" / "income_pdf_001.pdf"
IDLE_QUEUE = "bench-idle"  # a queue nothing is sent to: workers that listen there are idle

TOKENS: dict[str, str] = {}  # application id -> its applicant token


def _req(method: str, url: str, body: bytes | None = None, ctype: str | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": ctype} if ctype else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


def create_app(base: str) -> tuple[str, str]:
    body = {"applicant_name": "基准测试", "loan_type": "personal_consumer", "amount": 10000, "term_months": 12,
            "purpose": "benchmark", "consent": {"agreed": True, "version": "bench"}}
    out = _req("POST", base + "/v1/applications", json.dumps(body).encode(), "application/json")
    TOKENS[out["id"]] = out["applicant_token"]
    return out["id"], out["application_no"]


def multipart(path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n\r\n").encode()
    body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(base: str, app_id: str, body: tuple[bytes, str]) -> float:
    t0 = time.perf_counter()
    _req("POST", f"{base}/v1/applications/{app_id}/documents", body[0], body[1], TOKENS[app_id])
    return time.perf_counter() - t0


def lookup(base: str, number: str) -> float:
    t0 = time.perf_counter()
    _req("GET", f"{base}/v1/status/{number}")
    return time.perf_counter() - t0


def statuses(base: str, app_ids: list[str]) -> list[str]:
    return [d["status"] for a in app_ids for d in _req("GET", f"{base}/v1/applications/{a}", token=TOKENS[a])["documents"]]


def wait_all_done(base: str, app_ids: list[str], timeout: float = 1800) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = statuses(base, app_ids)
        if states and all(s in ("extracted", "failed") for s in states):
            return
        time.sleep(0.5)
    raise TimeoutError("documents did not finish")


def start(cmd: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "loandocs.cli", *cmd], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=90)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] * 1000


def summary(lat: list[float]) -> dict:
    return {"n": len(lat), "p50_ms": round(pct(lat, 0.5), 1), "p95_ms": round(pct(lat, 0.95), 1),
            "p99_ms": round(pct(lat, 0.99), 1)}


class CpuWatch:
    """CPU share (of the whole machine) used by a process tree while the watch runs."""

    def __init__(self, root: subprocess.Popen):
        self.root = psutil.Process(root.pid)

    def _tree(self) -> float:
        total = 0.0
        for p in [self.root, *self.root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def __enter__(self) -> CpuWatch:
        self.t0, self.c0 = time.perf_counter(), self._tree()
        return self

    def __exit__(self, *exc: object) -> None:
        self.share = (self._tree() - self.c0) / ((time.perf_counter() - self.t0) * (psutil.cpu_count() or 1))


def phase(base: str, app_id: str, number: str, clients: int, requests: int) -> dict:
    body = multipart(SMALL_PDF)
    up: list[float] = []
    look: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        if i % 2 == 0:
            t = upload(base, app_id, body)
            with lock:
                up.append(t)
        else:
            t = lookup(base, number)
            with lock:
                look.append(t)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(2 * requests)))
    return {"seconds": round(time.perf_counter() - t0, 1), "upload": summary(up), "status": summary(look)}


def wait_api(base: str) -> None:
    for _ in range(300):
        try:
            _req("GET", base + "/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the API did not start")


def run_database(name: str, url: str | None, args: argparse.Namespace) -> dict:
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    base = f"http://127.0.0.1:{args.port}"
    workers = args.workers or max(1, psutil.cpu_count() or 1)
    out: dict = {"database": name, "workers": workers}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LOANDOCS_DATA_DIR=tmp, LOANDOCS_REDIS_URL=REDIS, LOANDOCS_LOG_LEVEL="WARNING",
                   LOANDOCS_RATE_LIMIT_UPLOAD="0", LOANDOCS_RATE_LIMIT_STATUS="0", LOANDOCS_RATE_LIMIT_APPLICATION="0")
        if url:
            env["LOANDOCS_DATABASE_URL"] = url
        api = start(["serve", "--port", str(args.port)], env)
        procs = [api]
        try:
            wait_api(base)
            app_id, number = create_app(base)
            # workers up and idle: their engine loaded, listening where nothing comes
            pool = start(["worker", "--concurrency", str(workers), "--queue", IDLE_QUEUE], env)
            procs.append(pool)
            time.sleep(args.settle)
            phase(base, app_id, number, args.clients, 20)  # warm-up: connections, imports
            with CpuWatch(pool) as idle_cpu:
                out["idle"] = phase(base, app_id, number, args.clients, args.requests)
            out["idle"]["worker_cpu_share"] = round(idle_cpu.share, 2)
            stop([pool])
            procs.remove(pool)
            # saturated: a backlog of OCR work, then the pool on the document queue
            backlog, _ = create_app(base)
            for f in SCANS * args.backlog_repeat + ID_IMAGES:
                upload(base, backlog, multipart(f))
            pool = start(["worker", "--concurrency", str(workers)], env)
            procs.append(pool)
            deadline = time.time() + 120
            while sum(s == "processing" for s in statuses(base, [backlog])) < workers and time.time() < deadline:
                time.sleep(0.5)
            time.sleep(2)
            with CpuWatch(pool) as busy_cpu:
                out["saturated"] = phase(base, app_id, number, args.clients, args.requests)
            out["saturated"]["worker_cpu_share"] = round(busy_cpu.share, 2)
            left = statuses(base, [backlog])
            out["saturated"]["backlog_unfinished_at_end"] = sum(s not in ("extracted", "failed") for s in left)
            if args.throughput:
                stop([pool])
                procs.remove(pool)
                out["throughput"] = throughput(base, env)
        finally:
            stop(procs)
    return out


def throughput(base: str, env: dict) -> dict:
    """Documents per minute for the same batch of ID card photos with 1, then 2 workers (incl.
    engine load)."""
    res = {}
    files = (ID_IMAGES * 4)[:16]
    for n in (1, 2):
        a, _ = create_app(base)
        for f in files:
            upload(base, a, multipart(f))
        t0 = time.perf_counter()
        pool = start(["worker", "--concurrency", str(n)], env)
        try:
            wait_all_done(base, [a])
        finally:
            stop([pool])
        dt = time.perf_counter() - t0
        res[f"{n}_workers_docs_per_min"] = round(len(files) / dt * 60, 1)
    return res


def flat(res: dict) -> dict:
    out = {}
    for ph in ("idle", "saturated"):
        for what in ("upload", "status"):
            for q in ("p50", "p95", "p99"):
                out[f"{what}_{q}_ms_{ph}"] = res[ph][what][f"{q}_ms"]
        out[f"worker_cpu_share_{ph}"] = res[ph]["worker_cpu_share"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", nargs="?", const=PG_URL, default=None, metavar="URL",
                    help=f"also PostgreSQL (default {PG_URL}; a fresh schema is made and dropped)")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=300, help="uploads per phase (and as many status lookups)")
    ap.add_argument("--workers", type=int, default=0, help="worker processes (default: one per core)")
    ap.add_argument("--backlog-repeat", type=int, default=4)
    ap.add_argument("--settle", type=float, default=8.0, help="seconds for idle workers to load their engine")
    ap.add_argument("--throughput", action="store_true", help="also documents/min with 1 and 2 workers")
    ap.add_argument("--port", type=int, default=8791)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    results = {}
    if not args.no_sqlite:
        results["sqlite"] = run_database("sqlite", None, args)
    if args.postgres:
        from sqlalchemy import create_engine, text

        from loandocs.store.db import normalize_url

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalize_url(args.postgres))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            results["postgresql"] = run_database("postgresql", f"{args.postgres}?options=-csearch_path%3D{schema}", args)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    main_db = "postgresql" if "postgresql" in results else "sqlite"
    out = {"database": main_db, **flat(results[main_db]), "clients": args.clients, "requests": args.requests,
           "cores": psutil.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2),
           "wall_s": round(time.perf_counter() - t0, 1), **results}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    for name, res in results.items():
        print(f"{name}: {res['workers']} workers")
        for ph in ("idle", "saturated"):
            r = res[ph]
            print(f"  {ph:<9} upload p50/p95/p99 {r['upload']['p50_ms']}/{r['upload']['p95_ms']}/{r['upload']['p99_ms']} ms"
                  f"  status {r['status']['p50_ms']}/{r['status']['p95_ms']}/{r['status']['p99_ms']} ms"
                  f"  workers' CPU share {r['worker_cpu_share']:.0%}")
        if "throughput" in res:
            print(f"  throughput: {res['throughput']}")
    print(f"wall {out['wall_s']} s, load average {out['load_average_1m']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
