"""Process logging: one JSON object per line, with the request or job it belongs to.

``setup_logging()`` is called once by ``serve`` and ``worker``. Every line carries
``request_id`` (the API's ``X-Request-ID``, also handed to the jobs an upload enqueues) and
``job_id`` (inside a worker job) when they are known, taken from context variables, so code that
logs never has to pass them. ID and account numbers are masked in the message, in the
traceback and in any ``extra=`` value by ``loandocs.masking.mask_text``: a log line is read by
more people, and kept longer, than the documents it talks about.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from contextvars import ContextVar
from typing import Any, TextIO

from loandocs.masking import mask_text

request_id_var: ContextVar[str | None] = ContextVar("loandocs_request_id", default=None)
job_id_var: ContextVar[str | None] = ContextVar("loandocs_job_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_CONTEXT = ("request_id", "job_id")


class ContextFilter(logging.Filter):
    """Puts the current request and job id on each record (``%(request_id)s`` in text format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("request_id", request_id_var), ("job_id", job_id_var)):
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return mask_text(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": mask_text(record.getMessage()),
        }
        for name in _CONTEXT:
            value = getattr(record, name, None)
            if value:
                out[name] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _CONTEXT and not key.startswith("_"):
                out[key] = _masked(value)
        if record.exc_info:
            out["exc"] = mask_text(self.formatException(record.exc_info))
        if record.stack_info:
            out["stack"] = mask_text(self.formatStack(record.stack_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class MaskingFormatter(logging.Formatter):
    """The plain-text format for people at a terminal; masked like the JSON one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s %(job_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


def setup_logging(fmt: str = "json", level: str | int = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Replace the root logger's handlers with one that writes ``fmt`` (json|text) to ``stream``
    (stderr). rq sees the root handler and does not add its own coloured one."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else MaskingFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    # rq (if imported earlier) may have attached handlers that would bypass ours; route through root.
    for name in ("rq.worker", "rq.job", "rq.scheduler", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
    # Alembic reports every plugin and revision at INFO on each start; only its problems matter.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return handler
