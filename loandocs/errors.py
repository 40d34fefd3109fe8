"""One error hierarchy with stable codes.

Every failure a user can cause (a bad file, a limit) or an operator can hit (a missing
model) is a ``LoanDocsError`` with a ``code`` that never changes once published. The CLI
prints it in the JSON output; the API turns it into ``{"error": {"code", "message"}}`` in
one place using ``http_status``.
"""

from __future__ import annotations


class LoanDocsError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``message`` is for people."""

    code: str = "internal_error"
    http_status: int = 500

    def __init__(self, message: str | None = None, *, code: str | None = None, **details: object):
        if code is not None:
            self.code = code
        self.message = message or self.code.replace("_", " ")
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class InputError(LoanDocsError):
    """The uploaded bytes cannot be used. Codes:

    ``empty_file``, ``unsupported_type``, ``corrupt_file``, ``file_too_large``,
    ``too_many_pixels``, ``too_many_pages``, ``page_too_large``, ``encrypted_pdf``,
    ``no_pages``. OFD files (``extractor.ofd``) add ``too_many_entries`` (the ZIP's entry
    count), ``unsafe_entry_name`` (an absolute or ``..`` entry name, or a reference leaving the
    archive), ``archive_too_large`` (an entry inflating past its budget: a ZIP bomb) and
    ``unsafe_xml`` (a DTD or entity declaration: billion laughs, external entities).
    """

    code = "corrupt_file"
    http_status = 422


class FileTooLarge(InputError):
    code = "file_too_large"
    http_status = 413


class OcrEngineError(LoanDocsError):
    """The OCR engine cannot be loaded or run (``ocr_models_missing``, ``ocr_engine_unavailable``,
    ``ocr_failed``)."""

    code = "ocr_engine_unavailable"
    http_status = 503


class ConfigError(LoanDocsError):
    code = "invalid_configuration"
    http_status = 500


__all__ = ["LoanDocsError", "InputError", "FileTooLarge", "OcrEngineError", "ConfigError"]
