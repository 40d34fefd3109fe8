"""The one place that turns failures into HTTP answers.

Every error body is ``{"error": {"code", "message"}}`` (plus ``details`` where useful) with a
stable ``code``:

- ``LoanDocsError`` (and subclasses) -> its own ``http_status`` and ``code``;
- request validation -> 422 ``invalid_request`` (``consent_required`` when the consent is absent);
- Starlette/FastAPI ``HTTPException`` (unknown route, wrong method) -> its status, ``not_found`` /
  ``method_not_allowed`` / ``http_error``;
- anything else -> 500 ``internal_error``, logged with its traceback, never sent to the client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from loandocs.errors import LoanDocsError
from loandocs.logs import request_id_var

log = logging.getLogger("loandocs.api")


class ApiError(LoanDocsError):
    """Errors only the API raises (request-level rules); ``http_status`` set per subclass."""

    http_status = 400


class UnsupportedMediaType(ApiError):
    code = "unsupported_type"
    http_status = 415



_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "file_too_large"}


def error_response(status: int, code: str, message: str, details: object | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _loandocs_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LoanDocsError)
    if exc.http_status >= 500:
        log.error("request failed: %s: %s", exc.code, exc.message)
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    # Only loc/msg/type: the raw errors can carry exception objects that are not JSON.
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()]


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    if any(e["loc"][:2] == ["body", "consent"] for e in errors):
        # DESIGN "consent before upload": no consent is its own stable code, not a shape error.
        return error_response(422, "consent_required", "consent with agreed=true is required", errors)
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return error_response(422, "invalid_request", f"{where}: {first['msg']}" if where else str(first["msg"]), errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 400:  # Starlette's form parser: too many parts, bad multipart framing
        from loandocs.api.limits import multipart_code

        code = multipart_code(str(exc.detail)) or code
    return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    # This answer is sent by Starlette's outermost middleware, outside RequestId, which left the
    # id set for exactly this: the caller can quote it and support finds the traceback.
    rid = request_id_var.get()
    return error_response(500, "internal_error", "internal server error",
                          headers={"X-Request-ID": rid} if rid else None)


def install(app: FastAPI) -> None:
    app.add_exception_handler(LoanDocsError, _loandocs_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
