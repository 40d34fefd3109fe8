"""Counters and histograms that workers keep in Redis, for the API's ``/metrics`` to render.

Workers run on other machines than the API, so their in-memory counters are out of its reach;
prometheus_client's multiprocess mode only covers processes sharing one folder. Every worker
therefore adds its observations to Redis hashes under ``loandocs:metrics:*`` (HINCRBY /
HINCRBYFLOAT, one pipelined round trip per job), and ``loandocs.api.metrics`` reads them back
on each scrape. The counters survive worker restarts; if Redis is flushed they start again
from zero, which Prometheus treats as a counter reset.

A hash field is the JSON list of label values (``["loandocs-default","extracted"]``); a
histogram keeps one field per bucket (non-cumulative: one HINCRBY per observation, summed into
Prometheus' cumulative ``le`` buckets when rendered) plus ``sum``.
"""

from __future__ import annotations

import bisect
import json
import logging
from dataclasses import dataclass
from typing import Iterable, Mapping

from redis import Redis

log = logging.getLogger(__name__)

PREFIX = "loandocs:metrics:"
# Seconds; a text-layer PDF takes ~0.1-0.5 s, a photographed card ~1-3 s, a 50-page scan minutes.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
INF = "+Inf"


@dataclass(frozen=True)
class Metric:
    name: str  # Prometheus name without the _total suffix for counters
    kind: str  # "counter" | "histogram"
    help: str
    labels: tuple[str, ...]

    @property
    def key(self) -> str:
        return PREFIX + self.name


JOBS = Metric("loandocs_jobs", "counter",
              "Document jobs by queue and outcome: extracted, failed (the file's own error, e.g. corrupt_file), "
              "retried (raised, another attempt follows), error (raised, retries exhausted).", ("queue", "outcome"))
FAILURES = Metric("loandocs_job_failures", "counter",
                  "Documents that ended failed, by error code.", ("code",))
DOCUMENTS = Metric("loandocs_documents_processed", "counter",
                   "Documents found in processed files, by doc_type (one file may hold several).", ("doc_type",))
CHECKS = Metric("loandocs_checks_failed", "counter",
                "Failed checks on processed documents, by check code and severity.", ("code", "severity"))
STAGES = Metric("loandocs_stage_duration_seconds", "histogram",
                "Time per pipeline stage (load, preprocess, ocr, layout, classify, group, parse, validate) "
                "and the application assessment (assess).", ("stage",))
JOB_DURATION = Metric("loandocs_job_duration_seconds", "histogram",
                      "Wall time of one document job, by queue.", ("queue",))
ALL = (JOBS, FAILURES, DOCUMENTS, CHECKS, STAGES, JOB_DURATION)


def _field(values: Iterable[str]) -> str:
    return json.dumps([str(v) for v in values], ensure_ascii=False)


def bucket_of(seconds: float) -> str:
    i = bisect.bisect_left(BUCKETS, seconds)
    return INF if i == len(BUCKETS) else repr(BUCKETS[i])


class Recorder:
    """Collects one job's observations and writes them in one pipelined round trip."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._observations: list[tuple[Metric, tuple[str, ...], float]] = []

    def inc(self, metric: Metric, *labels: str, by: int = 1) -> None:
        assert metric.kind == "counter" and len(labels) == len(metric.labels), (metric.name, labels)
        k = (metric.key, _field(labels))
        self._counts[k] = self._counts.get(k, 0) + by

    def observe(self, metric: Metric, seconds: float, *labels: str) -> None:
        assert metric.kind == "histogram" and len(labels) == len(metric.labels), (metric.name, labels)
        self._observations.append((metric, labels, max(0.0, float(seconds))))

    def stage_timings(self, timings_ms: Mapping[str, float]) -> None:
        for stage, ms in timings_ms.items():
            if stage != "total":
                self.observe(STAGES, ms / 1000.0, stage)

    def flush(self, redis: Redis) -> None:
        """Write everything; never raises (metrics must not fail a job)."""
        if not self._counts and not self._observations:
            return
        try:
            pipe = redis.pipeline(transaction=False)
            for (key, field), n in self._counts.items():
                pipe.hincrby(key, field, n)
            for metric, labels, seconds in self._observations:
                pipe.hincrby(metric.key, _field((*labels, bucket_of(seconds))), 1)
                pipe.hincrbyfloat(metric.key, _field((*labels, "sum")), seconds)
            pipe.execute()
        except Exception:  # noqa: BLE001 - Redis trouble is the job's problem, not the metrics'
            log.warning("could not record metrics", exc_info=True)
        finally:
            self._counts.clear()
            self._observations.clear()


def read_counter(redis: Redis, metric: Metric) -> dict[tuple[str, ...], float]:
    return {tuple(json.loads(k)): float(v) for k, v in redis.hgetall(metric.key).items()}


def read_histogram(redis: Redis, metric: Metric) -> dict[tuple[str, ...], tuple[list[tuple[str, float]], float]]:
    """Per label set: (cumulative ``[(le, count)]`` ending in ``+Inf``, sum)."""
    raw: dict[tuple[str, ...], dict[str, float]] = {}
    for k, v in redis.hgetall(metric.key).items():
        *labels, slot = json.loads(k)
        raw.setdefault(tuple(labels), {})[slot] = float(v)
    out = {}
    for labels, slots in raw.items():
        running, buckets = 0.0, []
        for le in [repr(b) for b in BUCKETS] + [INF]:
            running += slots.get(le, 0.0)
            buckets.append((le, running))
        out[labels] = (buckets, slots.get("sum", 0.0))
    return out


def reset(redis: Redis) -> None:
    """Delete every metric hash (tests; an operator starting afresh)."""
    redis.delete(*(m.key for m in ALL))
