"""营业执照 (business licence) parser, and the GB 32100 unified social credit code.

Companies, branches, partnerships and 个体工商户 print the same frame with different labels
(法定代表人 / 负责人 / 执行事务合伙人 / 经营者; 住所 / 营业场所 / 经营场所), in one column
(older licences) or two (the 2016+ style, two pairs on one row). The code's alphabet and check
character are used to read it: letters it cannot contain (I, O, S, V, Z) are lookalikes of
digits, and among candidate readings a valid one is preferred; a wrong check character is
reported by the kind's check, never repaired.
"""

from __future__ import annotations

import re
from decimal import Decimal

from loandocs.extractor.amounts import parse_upper_amount, to_float
from loandocs.extractor.layout import Row, Span
from loandocs.extractor.parsers.common import field_from
from loandocs.extractor.parsers.labels import DATE, iso_date, labelled, sub_span
from loandocs.models import ExtractedField

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_LOOKALIKE = str.maketrans({"O": "0", "I": "1", "S": "5", "Z": "2", "V": "U", "o": "0"})
_USCC_RUN = re.compile(r"[0-9A-Z]{18}")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """18 characters of the alphabet with the right check character (GB 32100-2015)."""
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


NAME_LABELS = ("名称",)
TYPE_LABELS = ("类型",)
PERSON_LABELS = ("法定代表人", "执行事务合伙人", "负责人", "经营者", "投资人")
CAPITAL_LABELS = ("注册资本", "出资额", "资金数额")
ESTABLISHED_LABELS = ("成立日期", "注册日期")
TERM_LABELS = ("营业期限", "经营期限", "合伙期限")
ADDRESS_LABELS = ("主要经营场所", "住所", "营业场所", "经营场所")
AUTHORITY_LABELS = ("登记机关",)
CODE_LABELS = ("统一社会信用代码",)
SCOPE_LABELS = ("经营范围", "组成形式")
ALL_LABELS = (NAME_LABELS + TYPE_LABELS + PERSON_LABELS + CAPITAL_LABELS + ESTABLISHED_LABELS + TERM_LABELS + ADDRESS_LABELS
              + AUTHORITY_LABELS + CODE_LABELS + SCOPE_LABELS)  # fmt: skip
_TERM = re.compile(r"(\d{4}\D{1,2}\d{1,2}\D{1,2}\d{1,2}日?)?\s*(?:至|-|~|到)\s*(\d{4}\D{1,2}\d{1,2}\D{1,2}\d{1,2}日?|长期|永久|不约定期限)")
# 500万元, 人民币500万元, 500.000000万人民币 (the 人民币 is dropped before matching), 5,000,000元
_CAPITAL = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(?:(万)元?|元)")


def _stops(own: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(lab for lab in ALL_LABELS if lab not in own)


def find_uscc(rows: list[Row]) -> tuple[str, Span] | None:
    """The 18-character code, preferring the row of its label and a valid check character."""
    best: tuple[int, str, Span] | None = None
    for row in rows:
        text = row.text.upper().translate(_USCC_LOOKALIKE)
        for m in _USCC_RUN.finditer(text):
            code = m.group()
            # Real codes start with the registering authority's kind: 1-9, A, N, Y.
            score = 2 * uscc_valid(code) + ("代码" in row.text) + (code[0] in "123456789ANY")
            if best is None or score > best[0]:
                best = (score, code, row.span(m.start(), m.end()))
    return (best[1], best[2]) if best else None


def parse_licence(rows: list[Row], page: int = 1) -> dict[str, ExtractedField]:
    fields: dict[str, ExtractedField] = {}
    code = find_uscc(rows)
    if code:
        fields["uscc"] = field_from(code[0], code[1], page)
    for name, labels in (("company_name", NAME_LABELS), ("company_type", TYPE_LABELS), ("legal_representative", PERSON_LABELS)):
        hit = labelled(rows, labels, _stops(labels), wrap=name == "company_name")
        if hit and hit.text:
            fields[name] = field_from(hit.text, hit.span, page)
    hit = labelled(rows, ADDRESS_LABELS, _stops(ADDRESS_LABELS), wrap=True)
    if hit and hit.text:
        fields["address"] = field_from(hit.text, hit.span, page)
    hit = labelled(rows, AUTHORITY_LABELS, _stops(AUTHORITY_LABELS))
    if hit and hit.text:
        text = DATE.split(hit.text)[0]
        fields["registration_authority"] = field_from(text, Span(hit.span.chars[: len(text)]), page)
    capital = _capital(rows, page)
    if capital:
        fields["registered_capital"] = capital
    hit = labelled(rows, ESTABLISHED_LABELS, _stops(ESTABLISHED_LABELS))
    if hit and (d := iso_date(hit.text)):
        m = DATE.search(hit.text)
        assert m is not None
        fields["established"] = field_from(d, sub_span(hit.span, hit.text, m), page)
    hit = labelled(rows, TERM_LABELS, _stops(TERM_LABELS))
    if hit:
        m = _TERM.search(hit.text)
        if m:
            if m.group(1) and (d := iso_date(m.group(1))):
                fields["term_from"] = field_from(d, sub_span(hit.span, hit.text, m, 1), page)
            until = m.group(2)
            value = iso_date(until) if until[0].isdigit() else "long_term"
            if value:
                fields["term_until"] = field_from(value, sub_span(hit.span, hit.text, m, 2), page)
        elif "长期" in hit.text:
            i = hit.text.index("长期")
            fields["term_until"] = field_from("long_term", Span(hit.span.chars[i : i + 2]), page)
    if "term_from" not in fields and "established" in fields and "term_until" in fields:
        # "长期" alone: the term runs from the day the business was established.
        f = fields["established"]
        fields["term_from"] = f.model_copy(update={"source": "derived"})
    return fields


def _capital(rows: list[Row], page: int) -> ExtractedField | None:
    hit = labelled(rows, CAPITAL_LABELS, _stops(CAPITAL_LABELS))
    if not hit:
        return None
    text = hit.text.replace("人民币", "").replace("(", "").replace(")", "")
    m = _CAPITAL.search(text)
    value: Decimal | None = None
    if m:
        value = Decimal(m.group(1).replace(",", "")) * (10000 if m.group(2) else 1)
    else:
        upper = re.search(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿]+元整?", text)
        value = parse_upper_amount(upper.group()) if upper else None
    if value is None:
        return None
    return field_from(to_float(value), hit.span, page)


__all__ = ["find_uscc", "parse_licence", "uscc_check_char", "uscc_valid"]
