"""银行流水: a bank statement, one document over consecutive pages, with its transactions."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import cv2

from loandocs.extractor.amounts import parse_amount
from loandocs.extractor.parsers import statement
from loandocs.kinds.base import CheckContext, DocumentKind, FieldSpec, FieldType, PagePart, Parsed, ParseInput, Values, fields_of
from loandocs.models import Check, DocumentResult, ExtractedField, Transaction
from loandocs.rules.catalog import make_check

FIELDS = fields_of(
    FieldSpec("bank_name", FieldType.TEXT, "开户银行"),
    FieldSpec("account_holder", FieldType.TEXT, "户名"),
    FieldSpec("account_number", FieldType.ACCOUNT_NUMBER, "账号"),
    FieldSpec("period_start", FieldType.DATE, "起始日期"),
    FieldSpec("period_end", FieldType.DATE, "截止日期"),
    FieldSpec("currency", FieldType.CURRENCY, "币种"),
    FieldSpec("opening_balance", FieldType.MONEY, "期初余额"),
    FieldSpec("closing_balance", FieldType.MONEY, "期末余额"),
    FieldSpec("total_credits", FieldType.MONEY, "收入合计", non_negative=True),
    FieldSpec("total_debits", FieldType.MONEY, "支出合计", non_negative=True),
    FieldSpec("monthly_salary_estimate", FieldType.MONEY, "月均工资（估算）", required=False, non_negative=True),
)


# What the parser observed that the checks need again at re-assessment (JSON-safe).
_NOTES = ("table_found", "subtotal_breaks", "account_masked")


def parse(doc: ParseInput) -> Parsed:
    pages = [(p.page, p.rows, p.lines) for p in doc.parts]
    fields, txs, extras = statement.parse_statement(pages, doc.source, reread=lambda rows, opening: _reread_breaks(doc, rows, opening))
    if doc.source == "ocr":
        _doubt_disagreeing_totals(fields, txs)
    _doubt_short_account(fields)
    return Parsed(fields, txs, notes={k: extras[k] for k in _NOTES if k in extras})


def _doubt_disagreeing_totals(fields: dict[str, ExtractedField], txs: list[Transaction]) -> None:
    """A printed figure read by OCR that disagrees with the rows (a dropped digit in 期末余额,
    a page subtotal taken for the total) is not shown as sure: its confidence goes below the
    review threshold. balance_inconsistent still says where the figures disagree."""
    rows = [t for t in txs if t.amount is not None]
    if not rows:
        return
    implied = {
        "total_credits": round(sum(t.amount for t in rows if t.amount and t.amount > 0), 2),
        "total_debits": round(-sum(t.amount for t in rows if t.amount and t.amount < 0), 2),
    }
    if txs[-1].balance is not None:
        implied["closing_balance"] = txs[-1].balance
    if txs[0].balance is not None and txs[0].amount is not None:
        implied["opening_balance"] = round(txs[0].balance - txs[0].amount, 2)
    for name, value in implied.items():
        f = fields.get(name)
        if f is not None and f.source == "ocr" and isinstance(f.value, (int, float)) and abs(f.value - value) > 0.005:
            f.confidence = min(f.confidence, DISAGREEING_CONFIDENCE)


DISAGREEING_CONFIDENCE = 0.5


def _doubt_short_account(fields: dict[str, ExtractedField]) -> None:
    """An account or card number has at least 8 digits, or is printed partly masked: fewer
    digits and no mask means part of it was lost (OCR drops the asterisks of 6275 **** 7126)."""
    f = fields.get("account_number")
    if f is not None and isinstance(f.value, str) and "*" not in f.value and len(re.sub(r"\D", "", f.value)) < 8:
        f.confidence = min(f.confidence, DISAGREEING_CONFIDENCE)


_ROW_PAD = 6  # pixels around a row's box, so the re-read sees whole glyphs
REREAD_CONFIDENCE = 0.85  # believed (the balance chain holds on both sides), but read twice


def _reread_breaks(doc: ParseInput, txs: list[Transaction], opening: float | None) -> bool:
    """On a scan, a row that breaks the running balance is read again, enlarged, before it is
    believed: a dropped digit or decimal point is the likely cause. A pair of figures from the
    second read is taken only when the balance then follows on both sides of the row; a row
    edited on paper reads the same the second time and stays a break."""
    pages = {p.page: p for p in doc.parts}
    mended = False
    for i in statement.balance_breaks(opening, txs):
        t = txs[i]
        part = pages.get(t.page)
        if part is None or t.bbox is None or t.amount is None:
            continue
        prev = opening if i == 0 else txs[i - 1].balance
        nxt = txs[i + 1] if i + 1 < len(txs) else None
        if prev is None:
            continue
        found = _consistent_pair(_row_numbers(part, t.bbox, doc), prev, t.amount, nxt)
        if found is not None:
            t.amount, t.balance = found
            t.confidence = min(t.confidence, REREAD_CONFIDENCE)
            mended = True
    return mended


def _row_numbers(part: PagePart, bbox: list[float], doc: ParseInput) -> list[Decimal]:
    image = part.image()
    h, w = image.shape[:2]
    x0, y0 = max(0, int(bbox[0]) - _ROW_PAD), max(0, int(bbox[1]) - _ROW_PAD)
    x1, y1 = min(w, int(bbox[2]) + _ROW_PAD), min(h, int(bbox[3]) + _ROW_PAD)
    if x1 - x0 < 8 or y1 - y0 < 4:
        return []
    crop = cv2.resize(image[y0:y1, x0:x1], None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    numbers = []
    for line in doc.ocr().read(crop):
        for m in _MONEY.finditer(line.text):
            value = parse_amount(m.group(0))
            if value is not None:
                numbers.append(abs(value))
    return numbers


_MONEY = re.compile(r"\d[\d,，]*\.\d{2}")  # figures with fen: amounts and balances, not dates


def _consistent_pair(numbers: list[Decimal], prev: float, amount: float, nxt: Transaction | None) -> tuple[float, float] | None:
    sign = -1 if amount < 0 else 1
    cents = round(prev * 100)
    for a in numbers:
        for b in numbers:
            if round(b * 100) != cents + sign * round(a * 100):
                continue
            if nxt is not None and nxt.amount is not None and nxt.balance is not None:
                if round(b * 100) + round(nxt.amount * 100) != round(nxt.balance * 100):
                    continue
            return float(sign * a), float(b)
    return None


def _last_four(name: str, value: Any) -> Any:
    # A statement may print its account number partly masked (6222 **** **** 5505): only the
    # last four digits identify it across two uploads.
    if name == "account_number" and isinstance(value, str):
        return re.sub(r"\D", "", value)[-4:]
    return value


def checks(doc: DocumentResult, f: Values, ctx: CheckContext) -> list[Check]:
    out = []
    txs = doc.transactions or []
    notes = doc.notes or {}
    breaks = statement.balance_breaks(f.get("opening_balance"), txs)
    where = [f"第{i + 1}行 {txs[i].date} {txs[i].amount:+.2f}" for i in breaks]
    fields = [f"transactions[{i}]" for i in breaks]
    o, c, d, close = (f.get(k) for k in ("opening_balance", "total_credits", "total_debits", "closing_balance"))
    if o is not None and c is not None and d is not None and close is not None:
        if abs(round(o + c - d, 2) - close) > 0.005:
            where.append(f"期初{o:.2f}+收入{c:.2f}-支出{d:.2f}≠期末{close:.2f}")
            fields.extend(["opening_balance", "total_credits", "total_debits", "closing_balance"])
    for page in notes.get("subtotal_breaks") or []:
        where.append(f"第{page}页本页合计与明细不符")
    out.append(make_check("balance_inconsistent", not where, fields, where="; ".join(where)))
    if notes.get("table_found") is False:
        out.append(make_check("table_not_found", False, ["transactions"]))
    start, end = f.get("period_start"), f.get("period_end")
    if start and end:
        t = ctx.thresholds
        days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1
        out.append(make_check("statement_period_short", days >= t.statement_min_days, ["period_start", "period_end"], days=days))
        stale = (ctx.today - dt.date.fromisoformat(end)).days > t.statement_max_age_days
        out.append(make_check("statement_stale", not stale, ["period_end"], period_end=end))
    return out


KIND = DocumentKind(
    name="bank_statement",
    name_zh="银行流水",
    name_en="bank statement",
    cues=(
        ("交易明细", 3),
        ("流水", 3),
        ("对账单", 3),
        ("明细", 1),
        ("余额", 2),
        ("交易日期", 2),
        ("记账日期", 2),
        ("账号", 1),
        ("卡号", 1),
        ("户名", 1),
        ("借方", 1),
        ("贷方", 1),
        ("借/贷", 1),
        ("摘要", 1),
        ("交易类型", 1),
        ("对方户名", 1),
        ("对手信息", 1),
        ("币种", 1),
    ),
    fields=FIELDS,
    parse=parse,
    checks=checks,
    key_fields=("account_number",),
    needs_transactions=True,
    duplicate_keys=("account_number", "period_start", "period_end"),
    name_field="account_holder",
    identity_rank=2,
    paid_income_field="monthly_salary_estimate",
    key_value=_last_four,
    multi_page=True,
)
