"""居民身份证国徽面: the resident ID card's emblem side (authority and validity)."""

from __future__ import annotations

import datetime as dt

from loandocs.extractor.layout import Row
from loandocs.extractor.parsers.idcard import parse_back
from loandocs.kinds import grammars
from loandocs.kinds.base import CheckContext, DocumentKind, FieldSpec, FieldType, Parsed, ParseInput, Values, fields_of
from loandocs.kinds.id_card_front import labels_in_order
from loandocs.models import Check, DocumentResult
from loandocs.rules.catalog import make_check

FIELDS = fields_of(
    FieldSpec("issuing_authority", FieldType.TEXT, "签发机关"),
    FieldSpec("valid_from", FieldType.DATE, "有效期起"),
    FieldSpec("valid_until", FieldType.DATE_OR_LONG_TERM, "有效期止"),
)


def parse(doc: ParseInput) -> Parsed:
    fields = parse_back(doc.first.rows, doc.first.page)
    grammars.enforce(fields, grammars.BACK)
    grammars.doubtful_pieces(fields, doc.first.lines)
    return Parsed(fields)


def layout_evidence(rows: list[Row]) -> int:
    """签发机关 above 有效期限 down one left edge, the title above them counting too."""
    return max(labels_in_order(rows, ("签发机关", "有效期限")), labels_in_order(rows, ("居民身份证", "有效期限")))


def checks(doc: DocumentResult, f: Values, ctx: CheckContext) -> list[Check]:
    until = f.get("valid_until")
    if not until or until == "long_term":
        return []
    expired = dt.date.fromisoformat(until) < ctx.today
    return [make_check("document_expired", not expired, ["valid_until"], valid_until=until)]


KIND = DocumentKind(
    name="id_card_back",
    name_zh="身份证国徽面",
    name_en="ID card (emblem side)",
    cues=(("签发机关", 3), ("有效期限", 3), ("居民身份证", 2), ("中华人民共和国", 1.5), ("长期", 0.5)),
    fields=FIELDS,
    parse=parse,
    checks=checks,
    key_fields=("valid_until",),
    duplicate_keys=("issuing_authority", "valid_from", "valid_until"),
    is_card=True,
)
