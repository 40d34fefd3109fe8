"""Request ids and the access log (ASGI middleware, outermost).

Each request gets an id: the caller's ``X-Request-ID`` when it is a sane token (a proxy or the
bank's app already made one), otherwise a new one. It is returned in the ``X-Request-ID``
response header, put on every log line written while the request is handled
(``loandocs.logs.request_id_var``), and stored with the jobs the request enqueues, so an
upload can be followed from the API into the worker that read it. One access-log line per
request (method, path, status, duration) replaces uvicorn's, which has no request id.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from loandocs.logs import request_id_var

log = logging.getLogger("loandocs.access")
HEADER = b"x-request-id"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # anything else (CR/LF, long strings) would pollute logs


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == HEADER:
            text = value.decode("latin-1")
            if _SANE.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestId:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_from(scope.get("headers") or [])
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = dict(message, headers=[*message.get("headers", []), (HEADER, rid.encode())])
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info("%s %s %s", scope.get("method"), scope.get("path"), status,
                     extra={"method": scope.get("method"), "path": scope.get("path"), "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        # Reset only after a normal return: an exception goes on to Starlette's outermost error
        # handler, whose "unhandled error" log line should still carry this request's id (each
        # request runs in a task of its own, so the value cannot leak into the next request).
        request_id_var.reset(token)
