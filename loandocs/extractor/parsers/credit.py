"""个人信用报告 (PBOC credit report, second generation) parser: header, 信贷交易信息概要,
accounts (详版: a block of labelled values and a 24-month repayment grid per account; 简版: one
sentence per account), 查询记录, and the figures a reviewer derives from them.

The report spans pages; every page's rows are read as one sequence, each row remembering its
page, so an account block cut by a page break reads whole.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loandocs.extractor.amounts import parse_amount, to_float
from loandocs.extractor.layout import Flat, Row, Span
from loandocs.extractor.parsers.common import field_from
from loandocs.extractor.parsers.labels import DATE, iso_date, labelled, sub_span
from loandocs.models import ExtractedField

GRID_SYMBOLS = "N*1234567CGDB#"
OVERDUE_SYMBOLS = "1234567"
HARD_REASONS = ("贷款审批", "信用卡审批", "担保资格审查", "保前审查")
REASONS = HARD_REASONS + ("贷后管理", "本人查询", "资信审查", "融资审批", "法人代表、负责人、高管等资信审查", "特约商户实名审查", "异议查询")
BAD_STATUS = ("呆账", "冻结", "止付", "逾期")
CLOSED_STATUS = ("结清", "销户")
FIVE_CLASSES = ("正常", "关注", "次级", "可疑", "损失", "未知")
# OCR readings of grid symbols that are not symbols themselves.
_GRID_LOOKALIKE = str.maketrans({"n": "N", "c": "C", "x": "*", "X": "*", "×": "*", "※": "*", "l": "1", "I": "1", "|": "1",
                                 "8": "B", "O": "D", "0": "D", "g": "G", "b": "B"})  # fmt: skip
_GRID_ROW = re.compile(r"[N*1-7CGDB#]{3,24}")
_MONEY = r"(\d{1,3}(?:,\d{3})*(?:\.\d{2})|\d+\.\d{2}|\d+)"

HEADER_LABELS = {
    "report_no": ("报告编号",),
    "report_time": ("报告时间",),
    "name": ("被查询者姓名", "姓名"),
    "id_type": ("被查询者证件类型", "证件类型"),
    "id_number": ("被查询者证件号码", "证件号码"),
    "query_reason": ("查询原因",),
}
ACCOUNT_LABELS = {
    "institution": ("管理机构", "发卡机构", "业务管理机构"),
    "account_type": ("账户类型", "业务种类"),
    "opened": ("开立日期",),
    "limit_or_principal": ("借款金额", "授信额度", "信用额度"),
    "balance": ("已用额度", "余额"),
    "status": ("账户状态",),
    "five_class": ("五级分类",),
    "overdue_periods": ("当前逾期期数",),
    "overdue_amount": ("当前逾期总额", "逾期金额"),
}
SUMMARY_ROWS = {"贷款": "loan", "贷记卡": "card", "信用卡": "card", "其他": "other"}
OTHER_LABELS = ("账户数", "余额", "担保金额", "担保余额", "还款记录", "到期日期", "币种", "账户")
_ALL = tuple(lab for labs in list(HEADER_LABELS.values()) + list(ACCOUNT_LABELS.values()) for lab in labs) + OTHER_LABELS
_QUERY = re.compile(r"^\d{0,3}(\d{4}[-./年]\d{1,2}[-./月]\d{1,2}日?)(.{2,40}?)(" + "|".join(sorted(REASONS, key=len, reverse=True)) + r")$")
_BRIEF = re.compile(
    r"(\d{4}年\d{1,2}月\d{1,2}日)(.{2,30}?)(?:发放|办理)的(?:" + _MONEY + r"元(?:\(人民币\))?)?([^,]{2,16}?),"
    r"(?:(?:授信|信用)额度" + _MONEY + r"元,)?截至\d{4}年\d{1,2}月\d{1,2}日,(?:余额|已用额度)" + _MONEY + r"元,"
    r"账户状态(?:为)?([^,]{2,4}),五级分类(?:为)?([^,]{2,2}),当前逾期(\d+)期,逾期金额" + _MONEY + r"元"
    r"(?:,最近24个月还款记录(?:为)?([N*1-7CGDB#]{24}))?"
)


@dataclass
class PageRows:
    page: int
    rows: list[Row]


def _amount(text: str) -> float | None:
    return to_float(parse_amount(text)) if re.search(r"\d", text) else None


def _count(text: str) -> int | None:
    m = re.search(r"\d+", text)
    return int(m.group()) if m else None


def parse_credit_report(pages: list[PageRows]) -> tuple[dict[str, ExtractedField], dict[str, list[dict[str, Any]]]]:
    rows = [r for p in pages for r in p.rows]
    page_of = [p.page for p in pages for _ in p.rows]
    fields: dict[str, ExtractedField] = {}
    stops = _ALL
    for name, labels in HEADER_LABELS.items():
        hit = labelled(rows, labels, tuple(s for s in stops if s not in labels and not any(s in lab for lab in labels)))
        if hit is None or not hit.text:
            continue
        value: Any = hit.text
        span = hit.span
        if name == "report_time":
            m = DATE.search(hit.text)
            value = iso_date(hit.text)
            span = sub_span(hit.span, hit.text, m) if m else span
        elif name == "id_number":
            m = re.search(r"\d{17}[\dX]", hit.text.upper())
            value, span = (m.group(), sub_span(hit.span, hit.text, m)) if m else (None, span)
        elif name == "report_no":
            m = re.search(r"\d{12,30}", hit.text)
            value, span = (m.group(), sub_span(hit.span, hit.text, m)) if m else (None, span)
        if value:
            fields[name] = field_from(value, span, page_of[hit.row])
    _summary(rows, page_of, fields)
    accounts = _detail_accounts(rows, page_of) or _brief_accounts(rows, page_of)
    queries = _queries(rows, page_of)
    fields.update(derive(accounts, queries, fields.get("report_time")))
    return fields, {"accounts": accounts, "queries": queries}


# ---------------------------------------------------------------- summary


def _cells(row: Row) -> list[Span]:
    """The row cut where the gap between characters is wider than their height: table cells."""
    out: list[list] = [[]]
    for prev, ch in zip([None, *row.chars], row.chars):
        if prev is not None and ch.bbox[0] - prev.bbox[2] > 0.9 * max(1.0, ch.bbox[3] - ch.bbox[1]):
            out.append([])
        out[-1].append(ch)
    return [Span(c) for c in out if c]


def _summary(rows: list[Row], page_of: list[int], fields: dict[str, ExtractedField]) -> None:
    start = next((i for i, r in enumerate(rows) if "信贷交易信息概要" in r.text), None)
    if start is None:
        return
    for i in range(start + 1, min(len(rows), start + 12)):
        cells = _cells(rows[i])
        key = SUMMARY_ROWS.get(cells[0].text) if cells else None
        if key is None or len(cells) < 6:
            continue
        # 账户数 | 未结清/未销户账户数 | 发生过逾期的账户数 | 余额/已用额度 | 授信总额/借款总额
        values = cells[1:6]
        page = page_of[i]
        n = _count(values[0].text)
        if n is not None:
            fields[f"{key}_accounts"] = field_from(n, values[0], page)
        late = _count(values[2].text)
        if late is not None:
            prev = fields.get("overdue_accounts")
            total = late + (prev.value if prev else 0)
            conf = min(values[2].confidence, prev.confidence if prev else 1.0)
            fields["overdue_accounts"] = field_from(total, values[2], page, conf)
        balance = _amount(values[3].text)
        if balance is not None:
            fields["card_used" if key == "card" else f"{key}_balance"] = field_from(balance, values[3], page)
        if key == "card" and (limit := _amount(values[4].text)) is not None:
            fields["card_limit"] = field_from(limit, values[4], page)
    for name, labels in (("recovered_accounts", ("被追偿账户数",)), ("bad_debt_accounts", ("呆账账户数",))):
        hit = labelled(rows, labels, ("余额", "呆账", "被追偿"), start_row=start)
        if hit and (n := _count(hit.text)) is not None:
            fields[name] = field_from(n, hit.span, page_of[hit.row])
    for name, labels in (("guarantee_amount", ("担保金额", "相关还款责任金额")), ("guarantee_balance", ("担保余额", "相关还款责任余额"))):
        hit = labelled(rows, labels, ("担保", "相关还款责任", "余额"), start_row=start)
        if hit and (v := _amount(hit.text)) is not None:
            fields[name] = field_from(v, hit.span, page_of[hit.row])


# ---------------------------------------------------------------- accounts


def _account_from(values: dict[str, tuple[Any, Span | None]], page: int, grid: str | None, grid_span: Span | None) -> dict[str, Any]:
    acc: dict[str, Any] = {k: v for k, (v, _) in values.items()}
    acc["repayment_24m"] = grid
    spans = [s for _, s in values.values() if s is not None and s.chars] + ([grid_span] if grid_span is not None and grid_span.chars else [])
    acc["confidence"] = round(min((s.confidence for s in spans), default=0.0), 4)
    boxes = [s.bbox for s in spans if s.bbox]
    acc["page"] = page
    acc["bbox"] = (
        [round(v, 1) for v in (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))] if boxes else None
    )
    return acc


def _typed(name: str, text: str) -> Any:
    if name in ("limit_or_principal", "balance", "overdue_amount"):
        return _amount(text)
    if name == "overdue_periods":
        return _count(text)
    if name == "opened":
        return iso_date(text)
    if name == "five_class":
        return next((c for c in FIVE_CLASSES if c in text), text[:2] or None)
    if name == "status":
        return text[:4] or None
    return text or None


def _detail_accounts(rows: list[Row], page_of: list[int]) -> list[dict[str, Any]]:
    starts = [i for i, r in enumerate(rows) if any(lab in r.text for lab in ACCOUNT_LABELS["institution"])]
    end_all = next((i for i, r in enumerate(rows) if "查询记录" in r.text and i > (starts[0] if starts else 0)), len(rows))
    out = []
    for k, s in enumerate(starts):
        e = min(starts[k + 1] if k + 1 < len(starts) else len(rows), end_all)
        values: dict[str, tuple[Any, Span | None]] = {}
        for name, labels in ACCOUNT_LABELS.items():
            own = tuple(x for x in _ALL if x not in labels and not any(x in lab for lab in labels))
            if name == "balance":
                own = tuple(x for x in own if x != "余额")
            hit = labelled(rows, labels, own, start_row=s, end_row=e)
            values[name] = (_typed(name, hit.text), hit.span) if hit else (None, None)
        grid, grid_span = _grid(rows, s, e)
        out.append(_account_from(values, page_of[s], grid, grid_span))
    return out


def _grid(rows: list[Row], s: int, e: int) -> tuple[str | None, Span | None]:
    head = next((i for i in range(s, e) if "还款记录" in rows[i].text), None)
    if head is None:
        return None, None
    symbols = ""
    chars = []
    for row in rows[head + 1 : e]:
        text = row.text.translate(_GRID_LOOKALIKE)
        if not _GRID_ROW.fullmatch(text):
            if symbols:
                break
            continue
        symbols += text
        chars.extend(row.chars)
        if len(symbols) >= 24:
            break
    return (symbols, Span(chars)) if len(symbols) == 24 else (None, None)


def _brief_accounts(rows: list[Row], page_of: list[int]) -> list[dict[str, Any]]:
    flow = Flat(rows, separate_rows=False)
    out = []
    starts = [0]
    for r in rows[:-1]:
        starts.append(starts[-1] + len(r.chars))
    for m in _BRIEF.finditer(flow.text):
        opened, inst, principal, kind, limit, balance, status, klass, periods, od_amount, grid = m.groups()
        values: dict[str, tuple[Any, Span | None]] = {
            "institution": (inst, flow.group(m, 2)),
            "account_type": (kind, flow.group(m, 4)),
            "opened": (iso_date(opened), flow.group(m, 1)),
            "limit_or_principal": (_amount(principal or limit or ""), flow.group(m, 3 if principal else 5)),
            "balance": (_amount(balance), flow.group(m, 6)),
            "status": (status, flow.group(m, 7)),
            "five_class": (klass, flow.group(m, 8)),
            "overdue_periods": (int(periods), flow.group(m, 9)),
            "overdue_amount": (_amount(od_amount), flow.group(m, 10)),
        }
        row_index = max(i for i, st in enumerate(starts) if st <= m.start())
        out.append(_account_from(values, page_of[row_index], grid, flow.group(m, 11) if grid else None))
    return out


# ---------------------------------------------------------------- queries


_QUERY_HEAD = re.compile(r"编号|查询日期|查询机构|查询原因")


def _without(row: Row, words: re.Pattern[str]) -> Row:
    keep = [True] * len(row.chars)
    for m in words.finditer(row.text):
        keep[m.start() : m.end()] = [False] * (m.end() - m.start())
    return Row([c for c, k in zip(row.chars, keep) if k])


def _queries(rows: list[Row], page_of: list[int]) -> list[dict[str, Any]]:
    start = next((i for i, r in enumerate(rows) if "查询记录" in r.text and "概要" not in r.text), None)
    if start is None:
        return []
    out = []
    for i in range(start + 1, len(rows)):
        row = _without(rows[i], _QUERY_HEAD)  # a tilted photo can merge the header into row 1
        m = _QUERY.match(row.text)
        if not m:
            continue
        span = row.span(m.start(1), m.end(3))
        box = span.bbox
        out.append({"date": iso_date(m.group(1)), "institution": m.group(2), "reason": m.group(3), "confidence": round(span.confidence, 4),
                    "page": page_of[i], "bbox": [round(v, 1) for v in box] if box else None})  # fmt: skip
    return out


# ---------------------------------------------------------------- derived figures


def _months_before(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    day = min(d.day, [31, 29 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m])
    return dt.date(y, m + 1, day)


def hard_inquiries(queries: list[dict[str, Any]], on: dt.date, months: int = 6) -> int:
    """Loan, card and guarantee approval inquiries in the ``months`` before ``on`` (inclusive)."""
    since = _months_before(on, months)
    return sum(1 for q in queries if q.get("reason") in HARD_REASONS and q.get("date") and since <= dt.date.fromisoformat(q["date"]) <= on)


def longest_run(grid: str) -> int:
    best = cur = 0
    for c in grid:
        cur = cur + 1 if c in OVERDUE_SYMBOLS else 0
        best = max(best, cur)
    return best


def not_normal(acc: dict[str, Any]) -> bool:
    return (acc.get("five_class") not in (None, "正常")) or acc.get("status") in BAD_STATUS


def is_card(acc: dict[str, Any]) -> bool:
    return "卡" in str(acc.get("account_type") or "")


def derive(accounts: list[dict[str, Any]], queries: list[dict[str, Any]], report_time: ExtractedField | None) -> dict[str, ExtractedField]:
    """Reviewer figures from the accounts and queries read; confidence is the weakest input's."""

    def derived(value: Any, inputs: list[dict[str, Any]]) -> ExtractedField:
        conf = min((float(x.get("confidence", 0.0)) for x in inputs), default=1.0)
        return ExtractedField(value=value, confidence=round(conf, 4), page=1, source="derived")

    out: dict[str, ExtractedField] = {}
    grids = [a for a in accounts if a.get("repayment_24m")]
    if grids:
        out["overdue_months_24m"] = derived(sum(sum(c in OVERDUE_SYMBOLS for c in a["repayment_24m"]) for a in grids), grids)
        out["longest_overdue_run"] = derived(max(longest_run(a["repayment_24m"]) for a in grids), grids)
    if accounts:
        out["accounts_not_normal"] = derived(sum(not_normal(a) for a in accounts), accounts)
        balances = [a for a in accounts if a.get("balance") is not None]
        total = sum((Decimal(str(a["balance"])) for a in balances), Decimal(0))
        out["total_outstanding"] = derived(to_float(total), balances)
        cards = [a for a in accounts if is_card(a) and a.get("status") not in CLOSED_STATUS and a.get("limit_or_principal")]
        if cards:
            used = sum(Decimal(str(a.get("balance") or 0)) for a in cards)
            limit = sum(Decimal(str(a["limit_or_principal"])) for a in cards)
            out["card_utilisation"] = derived(float((used / limit).quantize(Decimal("0.0001"))), cards)
    if report_time is not None and report_time.value:
        on = dt.date.fromisoformat(report_time.value)
        f = derived(hard_inquiries(queries, on), queries)
        f.confidence = round(min(f.confidence, report_time.confidence), 4)
        out["hard_inquiries_6m"] = f
    return out


__all__ = ["GRID_SYMBOLS", "HARD_REASONS", "PageRows", "derive", "hard_inquiries", "is_card", "longest_run", "not_normal", "parse_credit_report"]
