"""Per-client rate limits on the calls anyone can make in bulk: uploads, the public status
lookup, application creation and sign-in.

Why in Redis: the API runs as several processes (and machines) behind one address, so a count
kept in one process would let a client through N times. Why a fixed window: one INCR and one
EXPIRE per request, atomic in a MULTI, and a Retry-After that is simply the window's end; the
burst at a window edge (at most twice the limit) is acceptable for these limits.

Why an ASGI middleware and not a route dependency: FastAPI reads (and spools) the whole request
body before dependencies run, so a dependency would refuse an upload flood only after taking
in every 25 MB body. Here the refusal happens before the body is read.

The client is ``request.client.host``. Behind a reverse proxy run uvicorn with
``--forwarded-allow-ips`` so that is the real client, not the proxy. If Redis is unreachable the
limit fails open: uploads must keep working when only the limiter's store is down. Then it
stops asking Redis for ``RETRY_AFTER_FAILURE_S`` (one warning per outage), because the client's
own retries take seconds per call and would slow every request down.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Callable

from starlette.concurrency import run_in_threadpool

from loandocs.api.errors import error_response

log = logging.getLogger("loandocs.api.ratelimit")

PREFIX = "loandocs:ratelimit"
RETRY_AFTER_FAILURE_S = 30.0

# (method, route path) -> bucket. The paths are the routes' own templates.
LIMITED: dict[tuple[str, str], str] = {
    ("POST", "/v1/applications/{app_id}/documents"): "upload",
    ("GET", "/v1/status/{application_no}"): "status",
    ("GET", "/apply/status"): "status",
    ("POST", "/v1/applications"): "application",
    ("POST", "/apply"): "application",
    ("POST", "/review/login"): "login",
    ("POST", "/apply/login"): "login",
}


@dataclass(frozen=True)
class Rule:
    method: str
    pattern: re.Pattern[str]
    bucket: str


def _compile(limited: dict[tuple[str, str], str]) -> list[Rule]:
    rules = []
    for (method, path), bucket in limited.items():
        regex = "".join(r"[^/]+" if part.startswith("{") else re.escape(part)
                        for part in re.split(r"(\{[^}]+\})", path))
        rules.append(Rule(method, re.compile(f"^{regex}$"), bucket))
    return rules


_RULES = _compile(LIMITED)


def bucket_of(method: str, path: str) -> str | None:
    for rule in _RULES:
        if rule.method == method and rule.pattern.match(path):
            return rule.bucket
    return None


def hit(redis, bucket: str, client: str, limit: int, window_s: int, now: float | None = None) -> int:
    """Count one request; 0 when allowed, else the seconds until the window ends."""
    now = time.time() if now is None else now
    window = int(now // window_s)
    key = f"{PREFIX}:{bucket}:{client}:{window}"
    pipe = redis.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, window_s + 1)
    count, _ = pipe.execute()
    if int(count) <= limit:
        return 0
    return max(1, int((window + 1) * window_s - now + 0.999))


class RateLimit:
    """ASGI middleware. ``settings_of()`` gives the current settings (limits per bucket and the
    window), ``redis_of()`` the Redis client; both are callables so tests can swap services."""

    def __init__(self, app, settings_of: Callable, redis_of: Callable):  # type: ignore[no-untyped-def]
        self.app = app
        self.settings_of = settings_of
        self.redis_of = redis_of
        self._down_until = 0.0  # monotonic time until which Redis is not asked

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        bucket = bucket_of(scope["method"], scope["path"])
        settings = self.settings_of()
        limit = _limit(settings, bucket) if bucket else 0
        if limit > 0:
            client = (scope.get("client") or ("unknown", 0))[0]
            retry_after = await run_in_threadpool(self._check, bucket, client, limit, settings.rate_limit_window_s)
            if retry_after:
                response = error_response(
                    429, "rate_limited",
                    f"too many {bucket} requests from this address; retry in {retry_after} s",
                    headers={"Retry-After": str(retry_after)},
                )
                return await response(scope, receive, send)
        await self.app(scope, receive, send)

    def _check(self, bucket: str, client: str, limit: int, window_s: int) -> int:
        if time.monotonic() < self._down_until:
            return 0
        try:
            return hit(self.redis_of(), bucket, client, limit, window_s)
        except Exception as exc:  # noqa: BLE001 - Redis down: fail open, uploads keep working
            self._down_until = time.monotonic() + RETRY_AFTER_FAILURE_S
            log.warning("rate limiting is off for %.0f s: Redis is unreachable (%s: %s)",
                        RETRY_AFTER_FAILURE_S, type(exc).__name__, exc)
            return 0


def _limit(settings, bucket: str) -> int:  # type: ignore[no-untyped-def]
    return int(getattr(settings, f"rate_limit_{bucket}", 0) or 0)


__all__ = ["LIMITED", "RateLimit", "bucket_of", "hit"]
