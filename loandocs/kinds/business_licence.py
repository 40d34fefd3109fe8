"""营业执照: the business licence, with its unified social credit code (GB 32100)."""

from __future__ import annotations

import datetime as dt

from loandocs.extractor.parsers.licence import parse_licence, uscc_valid
from loandocs.kinds.base import CheckContext, DocumentKind, FieldSpec, FieldType, Parsed, ParseInput, Values, fields_of
from loandocs.models import Check, DocumentResult
from loandocs.rules.catalog import make_check

FIELDS = fields_of(
    FieldSpec("uscc", FieldType.TEXT, "统一社会信用代码"),
    FieldSpec("company_name", FieldType.TEXT, "名称"),
    FieldSpec("company_type", FieldType.TEXT, "类型"),
    FieldSpec("legal_representative", FieldType.TEXT, "法定代表人/经营者"),
    FieldSpec("registered_capital", FieldType.MONEY, "注册资本", required=False, non_negative=True),
    FieldSpec("established", FieldType.DATE, "成立日期"),
    FieldSpec("term_from", FieldType.DATE, "营业期限自", required=False),
    FieldSpec("term_until", FieldType.DATE_OR_LONG_TERM, "营业期限至", required=False),
    FieldSpec("address", FieldType.TEXT, "住所"),
    FieldSpec("registration_authority", FieldType.TEXT, "登记机关", required=False),
)


def parse(doc: ParseInput) -> Parsed:
    return Parsed(parse_licence(doc.first.rows, doc.first.page))


def checks(doc: DocumentResult, f: Values, ctx: CheckContext) -> list[Check]:
    out = []
    code = f.get("uscc")
    if code:
        out.append(make_check("uscc_invalid", uscc_valid(str(code)), ["uscc"]))
    until = f.get("term_until")
    if until and until != "long_term":
        out.append(make_check("licence_expired", dt.date.fromisoformat(until) >= ctx.today, ["term_until"], term_until=until))
    return out


KIND = DocumentKind(
    name="business_licence",
    name_zh="营业执照",
    name_en="business licence",
    cues=(
        ("营业执照", 5),
        ("统一社会信用代码", 4),
        ("法定代表人", 1.5),
        ("注册资本", 1.5),
        ("营业期限", 1.5),
        ("经营范围", 1.5),
        ("登记机关", 1.5),
        ("成立日期", 1),
        ("经营者", 1),
        ("住所", 0.5),
    ),
    fields=FIELDS,
    parse=parse,
    checks=checks,
    key_fields=("uscc", "company_name"),
    duplicate_keys=("uscc",),
    company_field="company_name",
)
