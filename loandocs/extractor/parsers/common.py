"""Helpers shared by the parsers: building fields from spans."""

from __future__ import annotations

from loandocs.extractor.layout import Span
from loandocs.models import ExtractedField


def field_from(value: object, span: Span | None, page: int, confidence: float | None = None, source: str = "ocr") -> ExtractedField:
    """A field whose box and confidence come from the characters it was read from."""
    if confidence is None:
        confidence = span.confidence if span is not None and span.chars else 0.0
    bbox = [round(v, 1) for v in span.bbox] if span is not None and span.chars else None
    return ExtractedField(value=value, confidence=round(max(0.0, min(1.0, confidence)), 4), page=page, bbox=bbox, source=source)  # type: ignore[arg-type]
