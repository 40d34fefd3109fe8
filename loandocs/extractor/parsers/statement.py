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
from collections.abc import Callable
from decimal import Decimal

from loandocs.extractor.amounts import parse_amount, parse_date, to_float
from loandocs.extractor.layout import Char, Flat, Row, Span, union
from loandocs.extractor.ocr.base import OcrLine
from loandocs.extractor.parsers.common import field_from
from loandocs.extractor.tables import Cell, Table, find_table
from loandocs.models import ExtractedField, Transaction

FIELDS = ("bank_name", "account_holder", "account_number", "period_start", "period_end", "currency", "opening_balance", "closing_balance", "total_credits", "total_debits")

HEADER_CUES: dict[str, list[str]] = {
    "date": ["交易日期", "记账日期", "入账日期", "日期", "Date", "Transaction Date", "Trans Date", "Posting Date"],
    # a time of day in its own column, or date and time together (支付宝/微信 交易时间)
    "time": ["交易时间", "记账时间", "时间", "Time"],
    "description": ["摘要", "交易摘要", "业务摘要", "交易说明", "交易名称", "商品说明", "商品",
                    "Description", "Particulars", "Summary", "Narrative", "Details"],
    # less specific than a summary: the description only when there is no summary
    "type": ["交易类型", "业务类型", "交易分类", "Transaction Type", "Type"],
    "remark": ["备注", "附言", "用途", "交易附言", "Remark", "Remarks", "Memo"],
    "amount": ["交易金额", "发生额", "金额", "记账金额", "Amount", "Transaction Amount"],
    "credit": ["收入金额", "收入", "存入", "存入金额", "贷方发生额", "贷方金额", "贷方",
               "Credit", "Credit Amount", "Deposit", "Deposits"],
    "debit": ["支出金额", "支出", "支取", "支取金额", "借方发生额", "借方金额", "借方",
              "Debit", "Debit Amount", "Withdrawal", "Withdrawals"],
    "dc": ["借/贷", "借贷", "借贷标志", "借贷方向", "收/支", "收支", "收支方向", "+/-", "Dr/Cr", "D/C", "CR/DR"],
    "balance": ["账户余额", "交易后余额", "余额", "联机余额", "本次余额", "可用余额", "Balance"],
    "counterparty": ["对方户名", "对方账户名", "对方账户名称", "对方名称", "对手信息", "对方信息", "交易对手",
                     "交易对方", "对方账号与户名", "Counterparty", "Counter Party", "Payee", "Payer"],
    "cp_account": ["对方账号", "对方卡号", "对方卡号/账号", "对方账户"],
    "currency": ["币种", "币别", "货币", "Currency"],
}
_AMOUNT = r"[:]?\s*(?:人民币|CNY|RMB|¥)?\s*([-+]?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|[-+]?\d+(?:\.\d{1,2})?)"
# A page subtotal (本页收入合计) or a 小计 is not the statement's total.
_NOT_PAGE = r"(?<!本页)(?<!页)(?<!小计)"
_OPENING = re.compile(r"(?:期初余额|上期余额|起始余额|期初金额|上期结余|OpeningBalance|BalanceB/F)" + _AMOUNT, re.I)
_CLOSING = re.compile(r"(?:期末余额|本期余额|截止余额|期末金额|本期结余|ClosingBalance|BalanceC/F)" + _AMOUNT, re.I)
_CREDITS = re.compile(_NOT_PAGE + r"(?:收入合计|贷方合计|存入合计|贷方发生额合计|收入总额|总收入|收入总计|贷方发生总额|TotalCredits?|TotalDeposits)" + _AMOUNT, re.I)
_DEBITS = re.compile(_NOT_PAGE + r"(?:支出合计|借方合计|支取合计|借方发生额合计|支出总额|总支出|支出总计|借方发生总额|TotalDebits?|TotalWithdrawals)" + _AMOUNT, re.I)
_PAGE_CREDITS = re.compile(r"本页(?:收入|贷方|存入)(?:发生额)?合计" + _AMOUNT)
_PAGE_DEBITS = re.compile(r"本页(?:支出|借方|支取)(?:发生额)?合计" + _AMOUNT)
_BANK = re.compile(r"([\u4e00-\u9fff]{2,12}?银行)(?:股份有限公司)?")
# Values stop at a tab: ``_gap_flat`` puts one wherever a row has a gap between two fields.
_HOLDER = re.compile(r"(?:户名|账户名称|账户名|客户姓名|客户名称|姓名|持卡人)(?:[A-Za-z]+)?[:]?([\u4e00-\u9fff·]{2,5}?)(?=账号|卡号|帐号|账户|币种|证件|身份|开户|[^\u4e00-\u9fff·]|$)"
                     r"|(?:AccountName|AccountHolder|Name)[:]([\u4e00-\u9fff·]{2,5}?)(?=[^\u4e00-\u9fff·]|$)", re.I)
_ACCOUNT = re.compile(r"(?:账号|卡号|账户号码|帐号|借记卡号|账户|AccountNo\.?|AccountNumber|CardNo\.?|CardNumber)(?:[A-Za-z.]+)?[:]?"
                      r"([0-9*]{4,}(?:-?[0-9*]{2,}){0,5})", re.I)
_DATE_TEXT = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?|\d{8}"
_PERIOD_LABEL = r"(?:起止日期|查询期间|交易期间|账单周期|账单期间|对账期间|查询时间|起始日期|起止时间|交易时间段|查询日期|StatementPeriod|Period)"
_PERIOD_BODY = r"(" + _DATE_TEXT + r")(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*(?:至|到|~|-{1,2}|—|to)\s*(" + _DATE_TEXT + r")"
_PERIOD = re.compile(_PERIOD_LABEL + r"[:]?" + _PERIOD_BODY, re.I)
_PERIOD_BARE = re.compile(_PERIOD_BODY, re.I)  # a period printed without a label (招商银行)
_CURRENCY = re.compile(r"(?:币种|币别|货币|Currency)(?:[A-Za-z]+)?[:]?(人民币元|人民币|CNY|RMB|美元|USD|港币|HKD|欧元|EUR)", re.I)
# a currency printed beside a balance ("Opening Balance: CNY 38500.00", "期初余额：人民币 ...")
_CURRENCY_NEAR = re.compile(r"(?:余额|Balance)[:]?(人民币|CNY|RMB)", re.I)
_CURRENCY_CODES = {"人民币": "CNY", "人民币元": "CNY", "RMB": "CNY", "CNY": "CNY", "美元": "USD", "USD": "USD",
                   "港币": "HKD", "HKD": "HKD", "欧元": "EUR", "EUR": "EUR"}
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


def _text(cells: dict[str, Cell], *keys: str) -> str | None:
    """The first of ``keys`` whose cell has text: several text columns may describe a row
    (类型, 摘要, 备注) and the most specific one is asked for first."""
    for key in keys:
        if key in cells and cells[key].text:
            return cells[key].text
    return None


def transactions_from(table: Table) -> tuple[list[Transaction], Decimal | None]:
    """Transactions in table order, and an opening balance row if the table has one. Rows whose
    direction marker was not read get the sign their balance change shows."""
    out: list[Transaction] = []
    opening: Decimal | None = None
    unsigned: set[int] = set()
    header = _typed_header(table)
    for row in table.rows:
        cells = {key: cell for key, cell in zip(header, row)}
        text = "".join(c.text for c in row)
        date = parse_date(_text(cells, "date", "time") or "")
        amount = _row_amount(cells)
        balance = parse_amount(cells["balance"].text) if "balance" in cells else None
        if amount is None and balance is not None and (_OPENING_ROW.search(text) or not out):
            opening = balance if _OPENING_ROW.search(text) else opening
            continue
        if date is None or amount is None:
            continue
        bbox, conf = _cell_span(row)
        if "dc" in cells and not cells["dc"].text.strip() and "amount" in cells:
            # the 借/贷 marker was not read (a lone "-" or "+" is easily lost on a scan): the
            # sign then comes from the running balance (below), at a confidence that says so
            conf = min(conf, _UNSIGNED)
            unsigned.add(len(out))
        out.append(
            Transaction(
                date=date.isoformat(),
                description=_text(cells, "description", "type", "remark"),
                amount=to_float(amount),
                balance=to_float(balance),
                counterparty=_text(cells, "counterparty"),
                page=row[0].page,
                bbox=bbox,
                confidence=round(conf, 4),
            )
        )
    _sign_from_balance(out, unsigned, opening)
    return out, opening


_DC_MARKS = set("借贷收支+-DC") | {"DR", "CR", "收入", "支出"}


def _typed_header(table: Table) -> list[str]:
    """The header, with an unnamed column (a misread label such as "+1-" for "+/-") named
    ``dc`` when its cells hold only direction markers: the label names a column, the data
    tell what it is when the label cannot."""
    header = list(table.header)
    if "dc" in header or "amount" not in header:
        return header
    for i, key in enumerate(header):
        if key in HEADER_CUES:
            continue
        texts = [r[i].text.strip().upper() for r in table.rows]
        filled = [t for t in texts if t]
        if filled and len(filled) >= 0.3 * len(texts) and all(_DC.get(t, t) in _DC_MARKS for t in filled):
            header[i] = "dc"
            break
    return header


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


def _gap_flat(rows: list[Row]) -> Flat:
    """All rows as one text (``Flat``) with a tab wherever a row has a gap wider than a
    character between two characters: header blocks print several label:value pairs on a
    row, and a value must stop where the next field begins (户名：张三   借记卡号：…)."""
    out: list[Row] = []
    for row in rows:
        chars: list[Char] = []
        for c in row.chars:
            if chars:
                prev = chars[-1]
                h = max(prev.bbox[3] - prev.bbox[1], c.bbox[3] - c.bbox[1], 1e-6)
                if c.bbox[0] - prev.bbox[2] > 1.2 * h:
                    chars.append(Char("\t", 1.0, (prev.bbox[2], prev.bbox[1], c.bbox[0], prev.bbox[3])))
            chars.append(c)
        out.append(Row(chars))
    flat = Flat(out)
    flat.chars = [None if c is not None and c.ch == "\t" else c for c in flat.chars]
    return flat


def _first(flat: Flat, *patterns: re.Pattern[str]) -> re.Match[str] | None:
    for pattern in patterns:
        m = pattern.search(flat.text)
        if m:
            return m
    return None


def parse_statement(
    pages: list[tuple[int, list[Row], list[OcrLine]]],
    source: str = "ocr",
    reread: Callable[[list[Transaction], float | None], object] | None = None,
) -> tuple[dict[str, ExtractedField], list[Transaction], dict]:
    """``pages``: (page number, rows, lines) for each page of one statement. ``reread``, on an
    OCR read, may mend rows that break the running balance (given the rows and the printed
    opening balance) before totals, breaks and the salary estimate are worked out.
    Returns fields, transactions and extras: ``balance_breaks``, ``salary_rows``,
    ``monthly_salary``, ``account_masked`` (the number is printed partly masked),
    ``table_found`` (False: no transaction table was recognised), ``subtotal_breaks``
    (pages whose printed 本页合计 differ from their rows) and ``suspect_rows`` (rows whose
    confidence was cut because their figures break the running balance on an OCR read)."""
    first_page = pages[0][0]
    flat = _gap_flat([r for _, rows, _ in pages for r in rows])
    page_of = {id(c): p for p, rows, _ in pages for r in rows for c in r.chars}
    fields: dict[str, ExtractedField] = {}
    extras: dict = {}

    def put(name: str, value: object, span: Span, conf: float | None = None) -> None:
        page = page_of.get(id(span.chars[0]), first_page) if span.chars else first_page
        fields[name] = field_from(value, span, page, conf, source)

    def group(m: re.Match[str]) -> int:  # the alternative that matched
        return next(i for i in range(1, (m.re.groups or 0) + 1) if m.group(i) is not None)

    m = _BANK.search(flat.text)
    if m:
        put("bank_name", m.group(1), flat.group(m, 1))
    m = _HOLDER.search(flat.text)
    if m:
        put("account_holder", m.group(group(m)), flat.group(m, group(m)))
    m = _ACCOUNT.search(flat.text)
    if m:
        put("account_number", re.sub(r"[\s-]", "", m.group(1)), flat.group(m, 1))
        extras["account_masked"] = "*" in m.group(1)
    m = _first(flat, _PERIOD, _PERIOD_BARE)
    if m:
        a, b = parse_date(m.group(1)), parse_date(m.group(2))
        if a and b and a <= b:
            put("period_start", a.isoformat(), flat.group(m, 1))
            put("period_end", b.isoformat(), flat.group(m, 2))
    m = _first(flat, _CURRENCY, _CURRENCY_NEAR)
    if m:
        put("currency", _CURRENCY_CODES[m.group(1).upper() if m.group(1).isascii() else m.group(1)], flat.group(m, 1))
    for name, pattern in (("opening_balance", _OPENING), ("closing_balance", _CLOSING), ("total_credits", _CREDITS), ("total_debits", _DEBITS)):
        m = pattern.search(flat.text)
        if m:
            value = parse_amount(m.group(1))
            if value is not None:
                put(name, to_float(abs(value) if name.startswith("total") else value), flat.group(m, 1))

    table = find_table([(p, lines) for p, _, lines in pages], HEADER_CUES)
    txs: list[Transaction] = []
    table_opening = None
    extras["table_found"] = table is not None
    if table is not None:
        txs, table_opening = transactions_from(table)
        if reread is not None and source == "ocr":
            printed = fields["opening_balance"].value if "opening_balance" in fields else to_float(table_opening)
            reread(txs, printed)
        if "currency" not in fields:
            _currency_column(fields, table, source)
    _derive_totals(fields, txs, table_opening, first_page)
    opening = fields["opening_balance"].value if "opening_balance" in fields else None
    sal = salary_rows(txs)
    breaks = balance_breaks(opening, txs)
    extras.update({"balance_breaks": breaks, "salary_rows": sal, "monthly_salary": monthly_salary(txs, sal),
                   "subtotal_breaks": _subtotal_breaks(pages, txs),
                   "suspect_rows": _distrust_breaks(txs, breaks) if source == "ocr" else []})
    if extras["monthly_salary"] is not None:
        fields["monthly_salary_estimate"] = ExtractedField(value=extras["monthly_salary"], confidence=0.9, page=first_page, source="derived")
    return fields, txs, extras


_UNSIGNED = 0.79  # just under the default review threshold: a sign inferred, not read


def _sign_from_balance(txs: list[Transaction], unsigned: set[int], opening: Decimal | None) -> None:
    """Rows whose direction marker was not read: a debit when the balance fell by the amount
    (otherwise left as read; the row then breaks the balance and is named)."""
    prev = to_float(opening) if opening is not None else None
    for i, t in enumerate(txs):
        if i in unsigned and prev is not None and t.amount is not None and t.balance is not None:
            if abs(round(prev - abs(t.amount), 2) - t.balance) <= 0.005:
                t.amount = -abs(t.amount)
        prev = t.balance


def _currency_column(fields: dict[str, ExtractedField], table: Table, source: str) -> None:
    """The currency from a 币种 column, when the header block names none: the most common
    value, with the confidence of the weakest cell that says it."""
    if "currency" not in table.header:
        return
    col = table.header.index("currency")
    cells = [r[col] for r in table.rows if r[col].text in _CURRENCY_CODES or r[col].text.upper() in _CURRENCY_CODES]
    if not cells:
        return
    codes = [_CURRENCY_CODES.get(c.text) or _CURRENCY_CODES[c.text.upper()] for c in cells]
    code = max(set(codes), key=codes.count)
    mine = [c for c, k in zip(cells, codes) if k == code]
    fields["currency"] = ExtractedField(value=code, confidence=round(min(c.confidence for c in mine), 4), page=mine[0].page,
                                        bbox=[round(v, 1) for v in mine[0].bbox] if mine[0].bbox else None, source=source)  # type: ignore[arg-type]


def _subtotal_breaks(pages: list[tuple[int, list[Row], list[OcrLine]]], txs: list[Transaction]) -> list[int]:
    """Pages whose printed page subtotals (本页收入合计 / 本页支出合计) differ from the sum of
    the rows read on that page: a row lost or misread, or a figure edited."""
    out = []
    for page, rows, _ in pages:
        text = "\n".join(r.text for r in rows)
        mine = [t.amount for t in txs if t.page == page and t.amount is not None]
        for pattern, sign in ((_PAGE_CREDITS, 1), (_PAGE_DEBITS, -1)):
            m = pattern.search(text)
            value = parse_amount(m.group(1)) if m else None
            if value is not None and abs(float(abs(value)) - sum(a * sign for a in mine if a * sign > 0)) > 0.005:
                out.append(page)
                break
    return out


def _distrust_breaks(txs: list[Transaction], breaks: list[int]) -> list[int]:
    """On an OCR read, a row whose figures break the running balance is as likely a misread
    (a dropped decimal point: -996.95 read as -969665.0) as an edit. Its confidence is cut
    below any review threshold so that nobody takes the figure as read; balance_inconsistent
    still names the row."""
    for i in breaks:
        txs[i].confidence = min(txs[i].confidence, 0.5)
    return list(breaks)


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
