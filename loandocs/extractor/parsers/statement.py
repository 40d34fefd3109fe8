"""Bank statement (银行流水) parser: header fields, every transaction across pages, the
balance invariants and the salary estimate.

Amounts come in three shapes and are all turned into one signed amount (+ is a credit):
one signed 金额 column; separate 收入/支出 (贷方/借方) columns; or an amount with a 借/贷
(DR/CR) column.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from decimal import Decimal

from loandocs.extractor.amounts import parse_amount, parse_date, to_float
from loandocs.extractor.layout import Flat, Row, Span, union
from loandocs.extractor.ocr.base import OcrLine
from loandocs.extractor.parsers.common import field_from
from loandocs.extractor.tables import Cell, Table, find_table
from loandocs.models import ExtractedField, Transaction

FIELDS = ("bank_name", "account_holder", "account_number", "period_start", "period_end", "currency", "opening_balance", "closing_balance", "total_credits", "total_debits")

HEADER_CUES: dict[str, list[str]] = {
    "date": ["交易日期", "记账日期", "交易时间", "日期"],
    "description": ["摘要", "交易摘要", "业务摘要", "交易类型", "交易说明", "用途"],
    "amount": ["交易金额", "发生额", "金额"],
    "credit": ["收入金额", "收入", "存入", "贷方发生额", "贷方金额"],
    "debit": ["支出金额", "支出", "支取", "借方发生额", "借方金额"],
    "dc": ["借/贷", "借贷", "借贷标志", "收/支", "收支"],
    "balance": ["账户余额", "交易后余额", "余额"],
    "counterparty": ["对方户名", "对方账户名", "对方名称", "对手信息", "对方信息", "交易对手"],
}
_AMOUNT = r"[:]?\s*(?:人民币|CNY|RMB|¥)?\s*([-+]?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|[-+]?\d+(?:\.\d{1,2})?)"
_OPENING = re.compile(r"(?:期初余额|上期余额|起始余额|期初金额|上期结余)" + _AMOUNT)
_CLOSING = re.compile(r"(?:期末余额|本期余额|截止余额|期末金额|本期结余)" + _AMOUNT)
_CREDITS = re.compile(r"(?:收入合计|贷方合计|存入合计|贷方发生额合计|收入总额|总收入|收入总计|贷方发生总额)" + _AMOUNT)
_DEBITS = re.compile(r"(?:支出合计|借方合计|支取合计|借方发生额合计|支出总额|总支出|支出总计|借方发生总额)" + _AMOUNT)
_BANK = re.compile(r"([\u4e00-\u9fff]{2,12}?银行)(?:股份有限公司)?")
_HOLDER = re.compile(r"(?:户名|账户名称|账户名|客户姓名|客户名称|姓名)[:]?([\u4e00-\u9fff·]{2,5}?)(?=账号|卡号|帐号|账户|币种|证件|身份|开户|[^\u4e00-\u9fff·]|$)")
_ACCOUNT = re.compile(r"(?:账号|卡号|账户号码|账户|帐号)[:]?([0-9*]{4,}(?:[\s-]?[0-9*]{2,}){0,5})")
_PERIOD = re.compile(r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?|\d{8})\s*(?:至|到|~|-|—)\s*(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?|\d{8})")
_CURRENCY = re.compile(r"(?:币种|货币)[:]?(人民币|CNY|RMB|美元|USD|港币|HKD|欧元|EUR)")
_CURRENCY_CODES = {"人民币": "CNY", "RMB": "CNY", "CNY": "CNY", "美元": "USD", "USD": "USD", "港币": "HKD", "HKD": "HKD", "欧元": "EUR", "EUR": "EUR"}
_OPENING_ROW = re.compile(r"期初|上期结转|承前|上日余额")
_SALARY = re.compile(r"工资|代发|薪|PAYROLL|SALARY|劳务报酬", re.I)


def _cell_span(cells: list[Cell]) -> tuple[list[float] | None, float]:
    boxes = [c.bbox for c in cells if c.bbox]
    conf = min((c.confidence for c in cells if c.text), default=0.0)
    return ([round(v, 1) for v in union(boxes)] if boxes else None), conf


# The 借/贷 column holds one of two characters; OCR confuses 贷 with 货/袋 and 借 with 惜.
_DC = {"货": "贷", "袋": "贷", "岱": "贷", "惜": "借", "错": "借", "措": "借"}


def _row_amount(cells: dict[str, Cell]) -> Decimal | None:
    if "amount" in cells and cells["amount"].text:
        dc = cells["dc"].text.strip() if "dc" in cells else None
        dc = _DC.get(dc, dc) if dc else None
        return parse_amount(cells["amount"].text, dc=dc or None)
    credit = parse_amount(cells["credit"].text) if "credit" in cells else None
    debit = parse_amount(cells["debit"].text) if "debit" in cells else None
    if credit:
        return abs(credit)
    if debit:
        return -abs(debit)
    if credit is not None or debit is not None:
        return Decimal(0)
    return None


def transactions_from(table: Table) -> tuple[list[Transaction], Decimal | None]:
    """Transactions in table order, and an opening balance row if the table has one."""
    out: list[Transaction] = []
    opening: Decimal | None = None
    for row in table.rows:
        cells = {key: cell for key, cell in zip(table.header, row)}
        text = "".join(c.text for c in row)
        date = parse_date(cells["date"].text) if "date" in cells else None
        amount = _row_amount(cells)
        balance = parse_amount(cells["balance"].text) if "balance" in cells else None
        if amount is None and balance is not None and (_OPENING_ROW.search(text) or not out):
            opening = balance if _OPENING_ROW.search(text) else opening
            continue
        if date is None or amount is None:
            continue
        bbox, conf = _cell_span(row)
        out.append(
            Transaction(
                date=date.isoformat(),
                description=cells["description"].text if "description" in cells else None,
                amount=to_float(amount),
                balance=to_float(balance),
                counterparty=(cells["counterparty"].text or None) if "counterparty" in cells else None,
                page=row[0].page,
                bbox=bbox,
                confidence=round(conf, 4),
            )
        )
    return out, opening


def balance_breaks(opening: float | None, txs: list[Transaction]) -> list[int]:
    """0-based indices of rows whose balance does not follow from the previous balance and
    the row's amount (to the cent)."""
    breaks = []
    prev = opening
    for i, t in enumerate(txs):
        if prev is not None and t.amount is not None and t.balance is not None:
            if abs(round(prev + t.amount, 2) - t.balance) > 0.005:
                breaks.append(i)
        prev = t.balance if t.balance is not None else None
    return breaks


def salary_rows(txs: list[Transaction]) -> list[int]:
    """Credits that are salary: named so (代发工资, 工资...), or else the same payer paying a
    similar amount in at least three different months."""
    named = [i for i, t in enumerate(txs) if (t.amount or 0) > 0 and _SALARY.search(f"{t.description or ''}{t.counterparty or ''}")]
    if named:
        return named
    by_payer: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(txs):
        if (t.amount or 0) > 0 and t.counterparty:
            by_payer[t.counterparty].append(i)
    best: list[int] = []
    for rows in by_payer.values():
        months = {txs[i].date[:7] for i in rows if txs[i].date}
        amounts = [txs[i].amount for i in rows]
        med = statistics.median(amounts)
        if len(months) >= 3 and all(abs(a - med) <= 0.25 * med for a in amounts) and len(rows) > len(best):
            best = rows
    return best


def monthly_salary(txs: list[Transaction], rows: list[int]) -> float | None:
    per_month: dict[str, float] = defaultdict(float)
    for i in rows:
        if txs[i].date:
            per_month[txs[i].date[:7]] += txs[i].amount or 0
    return round(statistics.median(per_month.values()), 2) if per_month else None


def parse_statement(pages: list[tuple[int, list[Row], list[OcrLine]]], source: str = "ocr") -> tuple[dict[str, ExtractedField], list[Transaction], dict]:
    """``pages``: (page number, rows, lines) for each page of one statement.
    Returns fields, transactions and extras (breaks, salary rows)."""
    first_page = pages[0][0]
    flat = Flat([r for _, rows, _ in pages for r in rows])
    page_of = {id(c): p for p, rows, _ in pages for r in rows for c in r.chars}
    fields: dict[str, ExtractedField] = {}

    def put(name: str, value: object, span: Span, conf: float | None = None) -> None:
        page = page_of.get(id(span.chars[0]), first_page) if span.chars else first_page
        fields[name] = field_from(value, span, page, conf, source)

    m = _BANK.search(flat.text)
    if m:
        put("bank_name", m.group(1), flat.group(m, 1))
    m = _HOLDER.search(flat.text)
    if m:
        put("account_holder", m.group(1), flat.group(m, 1))
    m = _ACCOUNT.search(flat.text)
    if m:
        put("account_number", re.sub(r"[\s-]", "", m.group(1)), flat.group(m, 1))
    m = _PERIOD.search(flat.text)
    if m:
        a, b = parse_date(m.group(1)), parse_date(m.group(2))
        if a and b:
            put("period_start", a.isoformat(), flat.group(m, 1))
            put("period_end", b.isoformat(), flat.group(m, 2))
    m = _CURRENCY.search(flat.text)
    if m:
        put("currency", _CURRENCY_CODES[m.group(1)], flat.group(m, 1))
    for name, pattern in (("opening_balance", _OPENING), ("closing_balance", _CLOSING), ("total_credits", _CREDITS), ("total_debits", _DEBITS)):
        m = pattern.search(flat.text)
        if m:
            value = parse_amount(m.group(1))
            if value is not None:
                put(name, to_float(abs(value) if name.startswith("total") else value), flat.group(m, 1))

    table = find_table([(p, lines) for p, _, lines in pages], HEADER_CUES)
    txs: list[Transaction] = []
    table_opening = None
    if table is not None:
        txs, table_opening = transactions_from(table)
    _derive_totals(fields, txs, table_opening, first_page)
    if "currency" not in fields and txs:
        fields["currency"] = ExtractedField(value="CNY", confidence=0.6, page=first_page, source="derived")
    opening = fields["opening_balance"].value if "opening_balance" in fields else None
    sal = salary_rows(txs)
    extras = {"balance_breaks": balance_breaks(opening, txs), "salary_rows": sal, "monthly_salary": monthly_salary(txs, sal)}
    if extras["monthly_salary"] is not None:
        fields["monthly_salary_estimate"] = ExtractedField(value=extras["monthly_salary"], confidence=0.9, page=first_page, source="derived")
    return fields, txs, extras


def _derive_totals(fields: dict[str, ExtractedField], txs: list[Transaction], table_opening: Decimal | None, page: int) -> None:
    """Fill what the statement does not print from its transactions, marked ``derived``."""
    if not txs:
        return
    derived = {}
    if table_opening is not None:
        derived["opening_balance"] = to_float(table_opening)
    elif txs[0].balance is not None and txs[0].amount is not None:
        derived["opening_balance"] = round(txs[0].balance - txs[0].amount, 2)
    if txs[-1].balance is not None:
        derived["closing_balance"] = txs[-1].balance
    derived["total_credits"] = round(sum(t.amount for t in txs if t.amount and t.amount > 0), 2)
    derived["total_debits"] = round(-sum(t.amount for t in txs if t.amount and t.amount < 0), 2)
    derived["period_start"] = min(t.date for t in txs if t.date)
    derived["period_end"] = max(t.date for t in txs if t.date)
    for name, value in derived.items():
        if name not in fields and value is not None:
            fields[name] = ExtractedField(value=value, confidence=0.9, page=page, source="derived")
