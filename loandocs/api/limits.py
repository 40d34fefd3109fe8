"""Request body limit enforced while the body streams in.

Starlette spools a multipart body to a temporary file before a route runs, so a check in
the route only happens after everything arrived. This ASGI middleware refuses an upload by
its Content-Length up front and, for bodies without one (chunked), counts bytes as they
arrive and stops at the limit: a 10 GB upload costs the server the limit, not 10 GB.
"""

from __future__ import annotations

import json

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
