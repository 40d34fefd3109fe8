"""Domain models: the JSON contract of DESIGN.md, kept apart from storage tables."""

from loandocs.models.document import (
    BBox,
    Check,
    DocumentResult,
    ExtractedField,
    FieldSource,
    PageQuality,
    Severity,
    Transaction,
)

__all__ = [
    "BBox",
    "Check",
    "DocumentResult",
    "ExtractedField",
    "FieldSource",
    "PageQuality",
    "Severity",
    "Transaction",
]
