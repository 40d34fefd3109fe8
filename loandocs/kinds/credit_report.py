"""个人信用报告: the PBOC credit report (second generation, 简版 and 详版), with its accounts,
inquiries and the figures a reviewer derives from them."""

from __future__ import annotations

import datetime as dt

from loandocs.extractor.parsers import credit
from loandocs.kinds.base import CheckContext, DocumentKind, FieldSpec, FieldType, Parsed, ParseInput, Values, fields_of
from loandocs.models import Check, DocumentResult
from loandocs.rules.catalog import make_check

FIELDS = fields_of(
    FieldSpec("report_no", FieldType.TEXT, "报告编号"),
    FieldSpec("report_time", FieldType.DATE, "报告时间"),
    FieldSpec("name", FieldType.TEXT, "被查询者姓名"),
    FieldSpec("id_type", FieldType.TEXT, "证件类型"),
    FieldSpec("id_number", FieldType.ID_NUMBER, "证件号码"),
    FieldSpec("query_reason", FieldType.TEXT, "查询原因"),
    # 信贷交易信息概要
    FieldSpec("loan_accounts", FieldType.COUNT, "贷款账户数", required=False),
    FieldSpec("loan_balance", FieldType.MONEY, "贷款余额", required=False, non_negative=True),
    FieldSpec("card_accounts", FieldType.COUNT, "贷记卡账户数", required=False),
    FieldSpec("card_limit", FieldType.MONEY, "贷记卡授信总额", required=False, non_negative=True),
    FieldSpec("card_used", FieldType.MONEY, "贷记卡已用额度", required=False, non_negative=True),
    FieldSpec("other_accounts", FieldType.COUNT, "其他账户数", required=False),
    FieldSpec("other_balance", FieldType.MONEY, "其他业务余额", required=False, non_negative=True),
    FieldSpec("overdue_accounts", FieldType.COUNT, "发生过逾期的账户数", required=False),
    FieldSpec("recovered_accounts", FieldType.COUNT, "被追偿账户数", required=False),
    FieldSpec("bad_debt_accounts", FieldType.COUNT, "呆账账户数", required=False),
    FieldSpec("guarantee_amount", FieldType.MONEY, "相关还款责任金额", required=False, non_negative=True),
    FieldSpec("guarantee_balance", FieldType.MONEY, "相关还款责任余额", required=False, non_negative=True),
    # Derived from accounts and queries (source "derived").
    FieldSpec("overdue_months_24m", FieldType.COUNT, "近24个月逾期月数", required=False),
    FieldSpec("longest_overdue_run", FieldType.COUNT, "最长连续逾期月数", required=False),
    FieldSpec("accounts_not_normal", FieldType.COUNT, "非正常账户数", required=False),
    FieldSpec("hard_inquiries_6m", FieldType.COUNT, "近6个月审批查询次数", required=False),
    FieldSpec("total_outstanding", FieldType.MONEY, "未结清余额合计", required=False, non_negative=True),
    FieldSpec("card_utilisation", FieldType.NUMBER, "贷记卡使用率", required=False),
)


def parse(doc: ParseInput) -> Parsed:
    fields, tables = credit.parse_credit_report([credit.PageRows(p.page, p.rows) for p in doc.parts])
    return Parsed(fields, tables=tables)


def _describe(acc: dict[str, object]) -> str:
    return f"{acc.get('institution') or '-'} {acc.get('account_type') or ''} {acc.get('five_class') or ''}/{acc.get('status') or ''}".strip()


def checks(doc: DocumentResult, f: Values, ctx: CheckContext) -> list[Check]:
    out: list[Check] = []
    t = ctx.thresholds
    tables = doc.tables or {}
    accounts, queries = tables.get("accounts", []), tables.get("queries", [])
    if "overdue_months_24m" in f:
        months = int(f["overdue_months_24m"])
        ok = months <= t.credit_max_overdue_months_24m
        out.append(make_check("credit_overdue", ok, ["overdue_months_24m", "longest_overdue_run"], months=months, run=f.get("longest_overdue_run", "-")))
    if accounts:
        bad = [i for i, a in enumerate(accounts) if credit.not_normal(a)]
        names = "; ".join(_describe(accounts[i]) for i in bad)
        out.append(make_check("credit_bad_class", not bad, [f"accounts[{i}]" for i in bad], count=len(bad), accounts=names))
    if "report_time" in f or queries:
        # Counted back from the application date (the parse counted from the report time).
        n = credit.hard_inquiries(queries, ctx.today)
        limit = t.credit_max_hard_inquiries_6m
        out.append(make_check("credit_many_inquiries", n <= limit, ["hard_inquiries_6m"], count=n, limit=limit))
    pulled = f.get("report_time")
    if pulled:
        days = t.credit_report_max_age_days
        age = (ctx.today - dt.date.fromisoformat(pulled)).days
        out.append(make_check("credit_report_stale", age <= days, ["report_time"], report_time=pulled, days=days))
    return out


KIND = DocumentKind(
    name="credit_report",
    name_zh="个人信用报告",
    name_en="credit report",
    cues=(
        ("个人信用报告", 5),
        ("征信中心", 2),
        ("信贷交易", 2),
        ("五级分类", 2),
        ("报告编号", 2),
        ("被查询者", 2),
        ("查询记录", 1.5),
        ("还款记录", 1.5),
        ("查询原因", 1),
        ("贷记卡", 1),
    ),
    fields=FIELDS,
    parse=parse,
    checks=checks,
    key_fields=("name", "id_number"),
    duplicate_keys=("report_no",),
    name_field="name",
    id_field="id_number",
    identity_rank=3,
    multi_page=True,
)
