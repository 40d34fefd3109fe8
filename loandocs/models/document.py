"""Pydantic v2 models for one extracted document, as DESIGN.md names them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

FieldSource = Literal["ocr", "text_layer", "derived", "reviewer"]
Severity = Literal["supplement", "review"]

# [x0, y0, x1, y1] in pixels of the page image the pipeline produced (after rectification).
BBox = list[float]


class ExtractedField(BaseModel):
    value: Any = None
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    page: int = 1
    bbox: BBox | None = None
    source: FieldSource = "ocr"


class Check(BaseModel):
    code: str
    ok: bool
    severity: Severity
    message_zh: str
    message_en: str
    fields: list[str] = Field(default_factory=list)
    # Set when a reviewer overruled a failing check on this document (then ``ok`` is true).
    waived_by: str | None = None
    waived_reason: str | None = None


class Transaction(BaseModel):
    date: str | None = None
    description: str | None = None
    amount: float | None = None  # signed, + is a credit
    balance: float | None = None
    counterparty: str | None = None
    page: int = 1
    bbox: BBox | None = None
    confidence: float = 0.0


class PageQuality(BaseModel):
    """Image quality signals of one page; ``problems`` names those past their limit."""

    page: int = 1
    width: int = 0
    height: int = 0
    blur: float | None = None  # variance of the Laplacian on the normalised page; low = blurry
    glare: float | None = None  # share of blown-out pixels
    brightness: float | None = None  # mean grey level 0-255
    card_detected: bool = False
    card_cut_off: bool = False
    source_card_width: int | None = None  # card width in source pixels, when a card was found
    rotation: int = 0  # degrees clockwise that were undone
    problems: list[str] = Field(default_factory=list)
    # Read from a PDF/OFD text layer (born-digital): there was no photo, so no photo problem.
    text_layer: bool = False


class DocumentResult(BaseModel):
    file: str
    # A document kind's name (``loandocs.kinds.DocType``, derived from the registry) or "unknown".
    doc_type: str = "unknown"
    pages: list[int] = Field(default_factory=list)  # 1-based page numbers of the file
    fields: dict[str, ExtractedField] = Field(default_factory=dict)
    transactions: list[Transaction] | None = None
    # Lists a kind reads besides transactions, by name (a credit report's ``accounts`` and
    # ``queries``): plain JSON rows whose keys the kind documents (DESIGN, field schema).
    tables: dict[str, list[dict[str, Any]]] | None = None
    # What a kind's parse observed for its own checks, kept so a re-assessment can re-run them
    # (a statement: table_found, subtotal_breaks, account_masked).
    notes: dict[str, Any] | None = None
    checks: list[Check] = Field(default_factory=list)
    quality: list[PageQuality] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    error: dict[str, Any] | None = None  # {code, message} when the file could not be read
    # Storage keys of the page images the boxes refer to (one per entry of ``quality``), set
    # by the service when it stores an extraction; the CLI leaves them out.
    page_images: list[str] | None = None

    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]
