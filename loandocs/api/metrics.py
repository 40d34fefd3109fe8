"""``GET /metrics``: Prometheus text format, for admins.

Everything is read at scrape time from the shared stores, never from this process's memory, so
any API replica answers for the whole deployment and workers on other machines are counted:

- queue depth per queue and state, from rq's queues and registries in Redis;
- worker count by state, from rq's worker registry (``rq.Worker.all``);
- job outcomes, failure codes, documents by type, failed checks by code, and the stage and job
  duration histograms, from the ``loandocs:metrics:*`` hashes the workers keep
  (``loandocs.worker.metrics``);
- documents by status and type, and applications by status, from the database;
- HTTP requests and their latency per method, route template and status, which every API
  process adds to Redis hashes the same way (``RequestMetrics``, below).

A source that cannot be reached is skipped and reported in ``loandocs_metrics_source_up``, so
a scrape still returns what it can.

Prometheus authenticates with an admin token (``loandocs token create --role admin --name
prometheus``) sent as a bearer token; in ``prometheus.yml``::

    scrape_configs:
      - job_name: loandocs
        metrics_path: /metrics
        authorization:
          type: Bearer
          credentials_file: /etc/prometheus/loandocs.token
        static_configs:
          - targets: ["loandocs-api:8000"]
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterator

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from rq import Queue, Worker
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path

from loandocs.api.auth import ADMIN
from loandocs.api.deps import ServicesDep, SessionDep
from loandocs.services import Services
from loandocs.store import batches
from loandocs.worker import metrics as wm
from loandocs.worker.queue import QUEUES

log = logging.getLogger(__name__)
router = APIRouter()
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_REQUESTS = wm.Metric("loandocs_http_requests", "counter",
                          "HTTP requests answered, by method, route template (unmatched: no route) and status.",
                          ("method", "route", "status"))
HTTP_DURATION = wm.Metric("loandocs_http_request_duration_seconds", "histogram",
                          "Time from a request's arrival to the end of its answer, by method, route template and status.",
                          ("method", "route", "status"))
HTTP = (HTTP_REQUESTS, HTTP_DURATION)
UNMATCHED = "unmatched"  # one label for every path no route serves: scanners must not make new series


class LoanDocsCollector(Collector):
    def __init__(self, services: Services, session: Session):
        self.services = services
        # The request's own session: on SQLite every transaction takes the write lock (BEGIN
        # IMMEDIATE), so a second session here would wait on the request's first one.
        self.session = session

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("loandocs_metrics_source_up", "Whether a metrics source answered this scrape.",
                               labels=["source"])
        for source, part in (("redis_queues", self._queues), ("redis_workers", self._workers),
                             ("redis_counters", self._counters), ("redis_http", self._http), ("database", self._database)):
            try:
                families = list(part())
            except Exception:  # noqa: BLE001 - a scrape reports what it can; the gap shows in _up
                log.warning("metrics source %s failed", source, exc_info=True)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    def _queues(self) -> Iterator[Metric]:
        g = GaugeMetricFamily("loandocs_queue_jobs", "Jobs per rq queue and state.", labels=["queue", "state"])
        redis = self.services.redis
        for name in QUEUES:
            q = Queue(name, connection=redis)
            g.add_metric([name, "queued"], q.count)
            g.add_metric([name, "started"], q.started_job_registry.count)
            g.add_metric([name, "scheduled"], q.scheduled_job_registry.count)
            g.add_metric([name, "deferred"], q.deferred_job_registry.count)
            g.add_metric([name, "failed"], q.failed_job_registry.count)
        yield g

    def _workers(self) -> Iterator[Metric]:
        g = GaugeMetricFamily("loandocs_workers", "rq workers registered in Redis, by state.", labels=["state"])
        counts = {"idle": 0, "busy": 0, "suspended": 0}
        for w in Worker.all(connection=self.services.redis):
            state = w.get_state()
            state = str(getattr(state, "value", state) or "unknown")  # an enum in-process, text from Redis
            counts[state] = counts.get(state, 0) + 1
        for state, n in sorted(counts.items()):
            g.add_metric([state], n)
        yield g

    def _counters(self, metrics: tuple[wm.Metric, ...] = wm.ALL) -> Iterator[Metric]:
        redis = self.services.redis
        for metric in metrics:
            if metric.kind == "counter":
                c = CounterMetricFamily(metric.name, metric.help, labels=list(metric.labels))
                for labels, value in sorted(wm.read_counter(redis, metric).items()):
                    c.add_metric(list(labels), value)
                yield c
            else:
                h = HistogramMetricFamily(metric.name, metric.help, labels=list(metric.labels))
                for labels, (buckets, total) in sorted(wm.read_histogram(redis, metric).items()):
                    h.add_metric(list(labels), buckets, total)
                yield h

    def _http(self) -> Iterator[Metric]:
        return self._counters(HTTP)

    def _database(self) -> Iterator[Metric]:
        documents = batches.document_counts(self.session)
        applications = batches.application_counts(self.session)
        d = GaugeMetricFamily("loandocs_documents", "Uploaded files by status and doc_type (of the first document "
                              "found in the file; none before extraction).", labels=["status", "doc_type"])
        for (status, doc_type), n in sorted(documents.items()):
            d.add_metric([status, doc_type], n)
        a = GaugeMetricFamily("loandocs_applications", "Applications by status.", labels=["status"])
        for status, n in sorted(applications.items()):
            a.add_metric([status], n)
        yield d
        yield a


def render(services: Services, session: Session) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LoanDocsCollector(services, session))
    return generate_latest(registry)


@router.get("/metrics", tags=["ops"], dependencies=[Depends(ADMIN)], response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"},
                       401: {"description": "auth_required, invalid_token"}, 403: {"description": "forbidden"}})
def metrics(services: ServicesDep, session: SessionDep) -> Response:
    return Response(render(services, session), media_type=CONTENT_TYPE)


def _templates(routes: Any, prefix: str = "") -> list[tuple[Any, str]]:
    """(compiled path pattern, template) of every route, included routers walked into (FastAPI
    wraps them; their leaves only know their own path, without the include prefix)."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            out += _templates(inner.routes, prefix + str(getattr(context, "prefix", "") or ""))
        elif isinstance(getattr(route, "path", None), str):
            path = prefix + route.path
            out.append((compile_path(path)[0], path))
    return out


def route_template(app: Any, scope: dict[str, Any]) -> str:
    """The path template of the route that served (or would serve) the request: ``scope["route"]``
    once FastAPI routed it; else (refused by a middleware before routing: 429, 413, 431) the
    first route whose pattern matches the path; else ``unmatched``."""
    route = scope.get("route")
    if route is not None and isinstance(getattr(route, "path", None), str):
        return str(route.path)
    if app is None:
        return UNMATCHED
    templates = getattr(app.state, "route_templates", None)
    if templates is None:  # routes are fixed once the app serves: walk them once
        templates = app.state.route_templates = _templates(app.router.routes)
    path = scope.get("path", "")
    for pattern, template in templates:
        if pattern.match(path):
            return template
    return UNMATCHED


class RequestMetrics:
    """ASGI middleware: counts each request and its latency into Redis (``HTTP``), after the
    answer has gone out, so a slow Redis never delays a response. Redis trouble costs the
    metrics, never the request: after a failure nothing is recorded for 30 s (no log flood)."""

    PAUSE_S = 30.0

    def __init__(self, app: Any, *, redis_of: Callable[[], Any], fastapi_app: Any = None):
        self.app = app
        self.redis_of = redis_of
        self.fastapi_app = fastapi_app
        self._paused_until = 0.0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            if time.monotonic() >= self._paused_until:
                labels = (str(scope.get("method", "")), route_template(self.fastapi_app, scope), str(status))
                await run_in_threadpool(self._record, labels, elapsed)

    def _record(self, labels: tuple[str, str, str], elapsed: float) -> None:
        try:
            pipe = self.redis_of().pipeline(transaction=False)
            pipe.hincrby(HTTP_REQUESTS.key, wm._field(labels), 1)
            pipe.hincrby(HTTP_DURATION.key, wm._field((*labels, wm.bucket_of(elapsed))), 1)
            pipe.hincrbyfloat(HTTP_DURATION.key, wm._field((*labels, "sum")), elapsed)
            pipe.execute()
        except Exception:  # noqa: BLE001 - metrics must not fail or slow requests
            self._paused_until = time.monotonic() + self.PAUSE_S
            log.warning("could not record request metrics; not trying again for %.0f s", self.PAUSE_S, exc_info=True)
