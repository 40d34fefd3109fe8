"""Typed-in values (a reviewer's correction) turned into the canonical form of their field's
type, so the re-run checks read them as they read machine values."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from loandocs import kinds
from loandocs.errors import LoanDocsError
from loandocs.kinds.base import FieldSpec, FieldType


class InvalidCorrection(LoanDocsError):
    code = "invalid_correction"
    http_status = 422


_ID = re.compile(r"\d{17}[\dX]")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_TRUE = {"true", "1", "yes", "是", "有"}
_FALSE = {"false", "0", "no", "否", "无"}

# One label per field name, for pages that show fields of several kinds (first kind wins).
FIELD_LABELS: dict[str, str] = {}
for _kind in kinds.KINDS:
    for _spec in _kind.fields:
        FIELD_LABELS.setdefault(_spec.name, _spec.label_zh)


def _bad(field: str, what: str) -> InvalidCorrection:
    return InvalidCorrection(f"{field}: {what}", field=field)


def _date(field: str, text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise _bad(field, "expected a date YYYY-MM-DD") from None


def coerce(spec: FieldSpec, value: Any) -> Any:
    """The stored value of a correction in the canonical form of DESIGN (ISO dates, yuan as a
    number, 男/女). None or "" clears the field (the reviewer saw it is not on the document)."""
    field, kind = spec.name, spec.type
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        return None
    if kind is FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise _bad(field, "expected true or false")
    if isinstance(value, bool):
        raise _bad(field, "expected text or a number, not true/false")
    if kind is FieldType.MONEY:
        try:
            number = Decimal(str(value).replace(",", "").replace("，", "").removeprefix("¥").removeprefix("￥"))
        except InvalidOperation:
            raise _bad(field, "expected an amount in yuan") from None
        if not number.is_finite() or (spec.non_negative and number < 0) or abs(number) >= Decimal(10) ** 12:
            raise _bad(field, "amount out of range")
        # Half-up to the fen, as amounts are written by hand (round() would go half-even).
        return float(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if kind in (FieldType.COUNT, FieldType.NUMBER):
        try:
            number = Decimal(str(value).replace(",", "").replace("，", ""))
        except InvalidOperation:
            raise _bad(field, "expected a number") from None
        if not number.is_finite() or number < 0 or number >= Decimal(10) ** 12:
            raise _bad(field, "number out of range")
        if kind is FieldType.COUNT:
            if number != number.to_integral_value():
                raise _bad(field, "expected a whole number")
            return int(number)
        return float(number)
    text = str(value)
    if kind is FieldType.DATE:
        return _date(field, text)
    if kind is FieldType.DATE_OR_LONG_TERM:
        return "long_term" if text in ("long_term", "长期") else _date(field, text)
    if kind is FieldType.MONTH:
        m = _MONTH.fullmatch(text[:7]) if len(text) in (7, 10) else None
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise _bad(field, "expected a month YYYY-MM")
        return m.group(0)
    if kind is FieldType.ENUM:
        if text not in spec.choices:
            raise _bad(field, f"expected {' or '.join(spec.choices)}")
        return text
    if kind is FieldType.ID_NUMBER:
        text = re.sub(r"\s", "", text).upper()
        if not _ID.fullmatch(text):
            raise _bad(field, "expected 17 digits and a digit or X")
        return text
    if kind is FieldType.ACCOUNT_NUMBER:
        text = re.sub(r"[\s-]", "", text)
        if not re.fullmatch(r"\d{8,30}", text):
            raise _bad(field, "expected 8 to 30 digits")
        return text
    if kind is FieldType.CURRENCY:
        if not re.fullmatch(r"[A-Za-z]{3}", text):
            raise _bad(field, "expected a 3-letter currency code")
        return text.upper()
    if len(text) > 500:
        raise _bad(field, "at most 500 characters")
    return text


def spec_named(name: str, doc_type: str | None = None) -> FieldSpec:
    """The spec of field ``name`` on ``doc_type`` (or on the first kind that has such a field)."""
    for kind in kinds.KINDS if doc_type is None else [k for k in kinds.KINDS if k.name == doc_type]:
        spec = kind.spec(name)
        if spec is not None:
            return spec
    raise _bad(name, f"no such field{' on ' + doc_type if doc_type else ''}")


def coerce_field(name: str, value: Any, doc_type: str | None = None) -> Any:
    return coerce(spec_named(name, doc_type), value)
