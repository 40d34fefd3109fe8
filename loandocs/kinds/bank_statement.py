"""银行流水: a bank statement, one document over consecutive pages, with its transactions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from loandocs.extractor.parsers import statement
from loandocs.kinds.base import CheckContext, DocumentKind, FieldSpec, FieldType, Parsed, ParseInput, Values, fields_of
from loandocs.models import Check, DocumentResult
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
    fields, txs, extras = statement.parse_statement([(p.page, p.rows, p.lines) for p in doc.parts], doc.source)
    return Parsed(fields, txs, notes={k: extras[k] for k in _NOTES if k in extras})


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
