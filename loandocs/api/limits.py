"""Request body limit enforced while the body streams in.

Starlette spools a multipart body to a temporary file before a route runs, so a check in
the route only happens after everything arrived. This ASGI middleware refuses an upload by
its Content-Length up front and, for bodies without one (chunked), counts bytes as they
arrive and stops at the limit: a 10 GB upload costs the server the limit, not 10 GB.
"""

from __future__ import annotations

import json

from loandocs.api.errors import error_response
from loandocs.errors import FileTooLarge

# Multipart framing (boundaries, part headers) on top of the file itself.
OVERHEAD = 64 * 1024


class BodyLimit:
    def __init__(self, app, max_bytes_of):  # type: ignore[no-untyped-def]
        self.app = app
        self.max_bytes_of = max_bytes_of  # a callable, so tests can change settings per app

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        limit = self.max_bytes_of() + OVERHEAD
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await _refuse(send, limit)
        seen = 0
        refused = False

        async def counted_receive():  # type: ignore[no-untyped-def]
            # Raising here would surface as a parse error (400) from the multipart parser, so
            # the middleware answers 413 itself and tells the app the client went away.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    await _refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):  # type: ignore[no-untyped-def]
            if not refused:  # after a refusal the app's own answer is dropped
                await send(message)

        await self.app(scope, counted_receive, guarded_send)


async def _refuse(send, limit: int) -> None:  # type: ignore[no-untyped-def]
    err = FileTooLarge(f"The upload is larger than the limit of {limit - OVERHEAD} bytes")
    body = json.dumps({"error": {"code": err.code, "message": err.message}}).encode()
    try:
        await send({"type": "http.response.start", "status": err.http_status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
    except RuntimeError:
        pass  # a response had already started; the connection is closed anyway


# ----------------------------------------------------------------- headers and multipart

MAX_HEADER_BYTES = 16 * 1024  # all request headers together, as uvicorn's h11 default
MAX_HEADERS = 100


class RequestGuard:
    """Refuses requests with oversized or too many headers (431 ``headers_too_large``), whatever
    server runs the app, and marks every response ``X-Content-Type-Options: nosniff`` so no
    browser second-guesses a declared type (a polyglot upload never becomes HTML)."""

    def __init__(self, app):  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = scope.get("headers") or []
        size = sum(len(k) + len(v) + 4 for k, v in headers)
        if len(headers) > MAX_HEADERS or size > MAX_HEADER_BYTES:
            response = error_response(431, "headers_too_large",
                                      f"request headers are limited to {MAX_HEADERS} fields and {MAX_HEADER_BYTES} bytes")
            return await response(scope, receive, send)

        async def nosniff_send(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                if b"x-content-type-options" not in names:
                    message = {**message, "headers": [*message.get("headers", []), (b"x-content-type-options", b"nosniff")]}
            await send(message)

        await self.app(scope, receive, nosniff_send)


# Form parsing limits for every route (FastAPI ``form_limits``): an upload is one file; no form
# of ours has more than a dozen fields or a text field near 64 KiB. Starlette's defaults (1000
# files, 1000 fields, 1 MiB per field) let one request make a thousand temporary files.
FORM_LIMITS = {"max_files": 1, "max_fields": 32, "max_part_size": 64 * 1024}

# Starlette answers a refused multipart body with HTTPException(400, message); the message is
# the only thing that tells the cases apart. python-multipart's own limits (8 headers per part,
# 4 KiB per header line, 256-byte boundary) surface as "Invalid multipart data."
_MULTIPART_CODES = (
    ("Too many files", "too_many_parts"),
    ("Too many fields", "too_many_parts"),
    ("exceeded maximum size", "field_too_large"),
    ("multipart", "invalid_multipart"),
    ("Content-Disposition", "invalid_multipart"),
)


def multipart_code(detail: str) -> str | None:
    """The stable code for a form-parsing refusal, or None for any other 400."""
    for needle, code in _MULTIPART_CODES:
        if needle in detail:
            return code
    return None
