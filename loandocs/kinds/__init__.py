"""Document kinds: one module per kind, and the registry everything else loops over.

Adding a kind is one module here (its ``KIND``), one line in ``KINDS`` and its material in
``loandocs/rules/checklist.yaml`` (README, "Adding a document kind").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import StrEnum

from loandocs.extractor.layout import Row
from loandocs.kinds import (
    bank_statement,
    business_licence,
    credit_report,
    id_card_back,
    id_card_front,
    income_certificate,
    property_certificate,
)
from loandocs.kinds.base import CheckContext, DocumentKind, FieldSpec, FieldType, PagePart, Parsed, ParseInput
from loandocs.models import DocumentResult

KINDS: tuple[DocumentKind, ...] = (
    id_card_front.KIND,
    id_card_back.KIND,
    income_certificate.KIND,
    bank_statement.KIND,
    credit_report.KIND,
    business_licence.KIND,
    property_certificate.KIND,
)
UNKNOWN = "unknown"  # a document that is none of the kinds (flagged wrong_document_type)
UNKNOWN_NAME_ZH = "无法识别的文件"

_BY_NAME: dict[str, DocumentKind] = {k.name: k for k in KINDS}
if len(_BY_NAME) != len(KINDS):
    raise ValueError("two document kinds share a name")

# The doc_type values of the contract, derived from the registry (plus ``unknown``).
DocType = StrEnum("DocType", {k.name: k.name for k in KINDS} | {UNKNOWN: UNKNOWN})  # type: ignore[misc]  # functional API
DOC_TYPES: tuple[str, ...] = tuple(k.name for k in KINDS) + (UNKNOWN,)

MIN_SCORE = 3.0  # below this, a page is none of our kinds


def get(name: str) -> DocumentKind | None:
    """The kind called ``name``; None for ``unknown`` or a name no kind has."""
    return _BY_NAME.get(name)


def name_zh(doc_type: str) -> str:
    kind = get(doc_type)
    return kind.name_zh if kind else UNKNOWN_NAME_ZH


def identity_number(parts: Iterable[DocumentResult]) -> str | None:
    """The applicant's ID number as the identity authority (the kind of lowest
    ``identity_rank``: the ID card) states it; None when no such document was read."""
    authority = min((k for k in KINDS if k.id_field), key=lambda k: k.identity_rank)
    for p in parts:
        f = p.fields.get(authority.id_field or "") if p.doc_type == authority.name else None
        if f is not None and isinstance(f.value, str) and f.value:
            return f.value
    return None


def score_types(text: str) -> dict[str, float]:
    compact = re.sub(r"\s+", "", text)
    return {k.name: k.score(compact) for k in KINDS}


# A card is a card by its shape, not by holding an 18-digit number (a credit report's header,
# a contract): the kind's labels must start rows in the card's order down one left edge. Per
# kind: (evidence, labels needed on a page, labels needed on a card-shaped region).
_CARD_LAYOUT: dict[str, tuple[Callable[[list[Row]], int], int, int]] = {
    id_card_front.KIND.name: (id_card_front.layout_evidence, 3, 2),
    id_card_back.KIND.name: (id_card_back.layout_evidence, 2, 1),
}


def classify_rows(rows: list[Row], card_shaped: bool = False) -> tuple[str, float]:
    """Like ``classify_text``, but a card kind must also show its layout; a page that fits no
    kind well is ``unknown``, never the nearest kind."""
    scores = score_types("\n".join(r.text for r in rows))
    total = sum(scores.values())
    for name in sorted(scores, key=lambda k: -scores[k]):
        if scores[name] < MIN_SCORE:
            break
        gate = _CARD_LAYOUT.get(name)
        if gate is not None and gate[0](rows) < (gate[2] if card_shaped else gate[1]):
            continue
        return name, round(scores[name] / total, 3)
    return UNKNOWN, 0.0


def classify_text(text: str) -> tuple[str, float]:
    """The most likely kind's name and a 0-1 confidence (share of the best score among all);
    ``unknown`` with 0 when no kind has enough evidence."""
    scores = score_types(text)
    best = max(scores, key=lambda k: scores[k])
    if scores[best] < MIN_SCORE:
        return UNKNOWN, 0.0
    return best, round(scores[best] / sum(scores.values()), 3)


__all__ = [
    "DOC_TYPES",
    "KINDS",
    "UNKNOWN",
    "CheckContext",
    "DocType",
    "DocumentKind",
    "FieldSpec",
    "FieldType",
    "PagePart",
    "ParseInput",
    "Parsed",
    "classify_rows",
    "classify_text",
    "get",
    "identity_number",
    "name_zh",
    "score_types",
]
