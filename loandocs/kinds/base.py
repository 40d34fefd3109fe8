"""What a document kind declares: its names, how it is recognised, its fields and their types,
how it is parsed and which checks it runs on itself.

Everything outside ``loandocs.kinds`` loops over the registry (``loandocs.kinds.KINDS``) and
asks a kind these questions instead of comparing document-type strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from loandocs.extractor.layout import Row
from loandocs.extractor.ocr.base import OcrEngine, OcrLine
from loandocs.models import Check, DocumentResult, ExtractedField, Transaction
from loandocs.models.policy import Thresholds


class FieldType(StrEnum):
    """The canonical form of a value (DESIGN: ISO dates, months ``YYYY-MM``, yuan as numbers)."""

    TEXT = "text"
    DATE = "date"  # YYYY-MM-DD
    DATE_OR_LONG_TERM = "date_or_long_term"  # YYYY-MM-DD or ``long_term`` (长期)
    MONTH = "month"  # YYYY-MM
    MONEY = "money"  # yuan, a number
    ID_NUMBER = "id_number"  # 18 characters, GB 11643
    ACCOUNT_NUMBER = "account_number"
    CURRENCY = "currency"  # ISO 4217 code
    ENUM = "enum"  # one of ``FieldSpec.choices``
    BOOLEAN = "boolean"
    COUNT = "count"  # a whole number >= 0 (accounts, months, inquiries)
    NUMBER = "number"  # a plain decimal number (a ratio, an area in m²)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    label_zh: str
    # Required fields are the ones the kind promises: their confidence is checked
    # (``low_confidence``) and their absence may make a photo unreadable.
    required: bool = True
    non_negative: bool = False  # money that cannot be below zero (income, totals)
    choices: tuple[str, ...] = ()  # ENUM values
    # The value comes from pixels (a seal), not from text: a text-layer page does not make it
    # ``text_layer``.
    from_pixels: bool = False


@dataclass
class PagePart:
    """One page (or card) of a document as the reading stages left it."""

    page: int
    rows: list[Row]
    lines: list[OcrLine]
    text_layer: bool
    image: Callable[[], np.ndarray]  # the page image of the boxes; renders a text-layer page on demand


@dataclass
class ParseInput:
    """The one argument of every ``parse``: the document's parts, in page order, and the OCR
    engine for a second look at a region (a seal's ring)."""

    parts: list[PagePart]
    ocr: Callable[[], OcrEngine]

    @property
    def first(self) -> PagePart:
        return self.parts[0]

    @property
    def source(self) -> str:
        return "text_layer" if self.first.text_layer else "ocr"


@dataclass
class Parsed:
    fields: dict[str, ExtractedField]
    transactions: list[Transaction] | None = None
    tables: dict[str, list[dict[str, Any]]] | None = None  # DocumentResult.tables
    notes: dict[str, Any] | None = None  # DocumentResult.notes


@dataclass(frozen=True)
class CheckContext:
    """What a kind's own checks may use besides the document: the thresholds in force and the
    application date."""

    thresholds: Thresholds
    today: dt.date


Values = dict[str, Any]  # a document's non-empty field values by name


@dataclass(frozen=True)
class DocumentKind:
    name: str  # the ``doc_type`` of DESIGN
    name_zh: str
    name_en: str
    # Classification: phrases with weights, summed over the page text (spaces removed); a
    # kind's ``extra_score`` may add evidence that is not a phrase (an ID number's shape).
    cues: tuple[tuple[str, float], ...]
    fields: tuple[FieldSpec, ...]
    parse: Callable[[ParseInput], Parsed]
    checks: Callable[[DocumentResult, Values, CheckContext], list[Check]] = lambda doc, values, ctx: []
    extra_score: Callable[[str], float] | None = None
    # Without these the document is of no use; their absence makes the image "unreadable".
    key_fields: tuple[str, ...] = ()
    needs_transactions: bool = False  # a statement without rows is unreadable too
    # Fields that identify "the same document" when the bytes differ (a re-scan, a re-export).
    duplicate_keys: tuple[str, ...] = ()
    # Cross-document identity: where the kind carries the applicant's name and ID number, and
    # its rank as an authority (lower wins: the other document is the one to redo).
    name_field: str | None = None
    id_field: str | None = None
    identity_rank: int = 100
    # Income: the kind states it (a certificate) or shows it being paid (a statement).
    stated_income_field: str | None = None
    paid_income_field: str | None = None
    # Organisations: the employer a kind names (a certificate's issuer) and the company a kind
    # is about (a licence); where both are read they should be the same (review if not).
    employer_field: str | None = None
    company_field: str | None = None
    # Holders: a field listing the people the document belongs to (a property's 权利人, "、"
    # between names); the applicant should be among them (review if not).
    holders_field: str | None = None
    # Compares a duplicate key's value (a masked account number: its last four digits).
    key_value: Callable[[str, Any], Any] | None = None
    is_card: bool = False  # an ID card side: found as a card-shaped region on a page
    multi_page: bool = False  # consecutive pages (and table-only pages after it) form one document

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def spec(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def score(self, compact_text: str) -> float:
        s = sum(w for cue, w in self.cues if cue in compact_text)
        return s + (self.extra_score(compact_text) if self.extra_score else 0.0)


def fields_of(*specs: FieldSpec) -> tuple[FieldSpec, ...]:
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"a field is declared twice: {names}")
    return tuple(specs)
