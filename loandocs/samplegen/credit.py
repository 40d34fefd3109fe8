"""Synthetic PBOC credit reports (个人信用报告, second generation) with ground truth.

Two templates: ``detail`` (详版: a summary table, one block of labelled values and a 24-month
repayment grid per account, the 查询记录 table) and ``brief`` (简版: one sentence per
account, the grid written into it). Institutions are bank names used as headings; people and
numbers are invented. The reviewer figures of the ground truth are computed here, from the
generated accounts, independently of the parser.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from loandocs.samplegen.financial import A4, bold_text, money, pick_font, wrap_text

LOAN_TYPES = ("个人住房商业贷款", "个人消费贷款", "个人经营性贷款", "个人汽车消费贷款")
CARD_TYPE = "贷记卡"
BANKS = ("中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行", "招商银行", "兴业银行", "浦发银行", "中信银行",
         "平安银行", "民生银行", "光大银行")  # fmt: skip
BRANCHES = ("北京分行", "上海分行", "杭州分行", "南京分行", "成都分行", "武汉分行", "深圳分行", "苏州分行")
HARD = ("贷款审批", "信用卡审批", "担保资格审查", "保前审查")
SOFT = ("贷后管理", "贷后管理", "本人查询")
# Printed with full-width brackets; the ground truth keeps the canonical (NFKC) form.
SELF_REASONS = ("本人查询(互联网个人信用信息服务平台)", "本人查询(临柜)", "本人查询(自助查询机)")


@dataclass
class Account:
    institution: str
    account_type: str
    opened: dt.date
    limit_or_principal: int  # cents
    balance: int
    status: str
    five_class: str
    overdue_periods: int
    overdue_amount: int
    grid: str  # 24 symbols, oldest month first

    @property
    def is_card(self) -> bool:
        return "卡" in self.account_type

    def truth(self) -> dict:
        return {"institution": self.institution, "account_type": self.account_type, "opened": self.opened.isoformat(),
                "limit_or_principal": self.limit_or_principal / 100, "balance": self.balance / 100, "status": self.status,
                "five_class": self.five_class, "overdue_periods": self.overdue_periods,
                "overdue_amount": self.overdue_amount / 100, "repayment_24m": self.grid}  # fmt: skip


@dataclass
class Query:
    date: dt.date
    institution: str
    reason: str


@dataclass
class CreditReport:
    report_no: str
    report_time: dt.datetime
    name: str
    id_number: str
    query_reason: str
    accounts: list[Account]
    queries: list[Query]
    recovered: int = 0
    bad_debt: int = 0
    guarantee_amount: int = 0
    guarantee_balance: int = 0
    template: str = "detail"
    not_printed: list[str] = field(default_factory=list)

    def _kind(self, key: str) -> list[Account]:
        return [a for a in self.accounts if a.is_card] if key == "card" else [a for a in self.accounts if not a.is_card] if key == "loan" else []

    def summary_rows(self) -> list[tuple[str, list[str]]]:
        out = []
        for label, key in (("贷款", "loan"), ("贷记卡", "card"), ("其他", "other")):
            accs = self._kind(key)
            open_ = [a for a in accs if a.status not in ("结清", "销户")]
            late = [a for a in accs if any(c in "1234567" for c in a.grid)]
            out.append((label, [str(len(accs)), str(len(open_)), str(len(late)), money(sum(a.balance for a in accs)),
                                money(sum(a.limit_or_principal for a in accs))]))  # fmt: skip
        return out

    def fields(self) -> dict:
        loans, cards = self._kind("loan"), self._kind("card")
        f: dict = {
            "report_no": self.report_no, "report_time": self.report_time.date().isoformat(), "name": self.name,
            "id_type": "身份证", "id_number": self.id_number, "query_reason": self.query_reason,
            "loan_accounts": len(loans), "loan_balance": sum(a.balance for a in loans) / 100,
            "card_accounts": len(cards), "card_limit": sum(a.limit_or_principal for a in cards) / 100,
            "card_used": sum(a.balance for a in cards) / 100, "other_accounts": 0, "other_balance": 0.0,
            "overdue_accounts": sum(1 for a in self.accounts if any(c in "1234567" for c in a.grid)),
            "recovered_accounts": self.recovered, "bad_debt_accounts": self.bad_debt,
            "guarantee_amount": self.guarantee_amount / 100, "guarantee_balance": self.guarantee_balance / 100,
        }  # fmt: skip
        f.update(self.derived())
        return f

    def derived(self) -> dict:
        runs = []
        for a in self.accounts:
            best = cur = 0
            for c in a.grid:
                cur = cur + 1 if c.isdigit() else 0
                best = max(best, cur)
            runs.append(best)
        on = self.report_time.date()
        y, m = (on.year, on.month - 6) if on.month > 6 else (on.year - 1, on.month + 6)
        since = dt.date(y, m, min(on.day, calendar.monthrange(y, m)[1]))
        cards = [a for a in self.accounts if a.is_card and a.status != "销户" and a.limit_or_principal]
        out = {
            "overdue_months_24m": sum(sum(c.isdigit() for c in a.grid) for a in self.accounts),
            "longest_overdue_run": max(runs, default=0),
            "accounts_not_normal": sum(1 for a in self.accounts if a.five_class != "正常" or a.status in ("呆账", "冻结", "止付", "逾期")),
            "hard_inquiries_6m": sum(1 for q in self.queries if q.reason in HARD and since <= q.date <= on),
            "total_outstanding": sum(a.balance for a in self.accounts) / 100,
        }
        if cards:
            ratio = Decimal(sum(a.balance for a in cards)) / Decimal(sum(a.limit_or_principal for a in cards))
            out["card_utilisation"] = float(ratio.quantize(Decimal("0.0001")))
        return out


# ---------------------------------------------------------------- random reports


def _grid(rng: random.Random, opened_months_ago: int, overdue: int, closed: bool) -> str:
    n_star = max(0, 24 - opened_months_ago)
    cells = ["*"] * n_star + ["N"] * (24 - n_star)
    live = list(range(n_star, 24 - (1 if closed else 0)))
    if overdue and live:
        start = rng.choice(live[: max(1, len(live) - overdue - 1)])
        run = min(overdue, 24 - start - (2 if closed else 1))
        for k in range(max(1, run)):
            cells[start + k] = str(min(7, k + 1))
    if closed:
        cells[-1] = "C"
    return "".join(cells)


def random_account(rng: random.Random, on: dt.date, card: bool, overdue: int = 0, bad: bool = False, closed: bool = False) -> Account:
    months_ago = rng.randint(6, 96)
    opened = on - dt.timedelta(days=months_ago * 30 + rng.randint(0, 25))
    inst = rng.choice(BANKS) + ("信用卡中心" if card and rng.random() < 0.5 else rng.choice(BRANCHES))
    if card:
        limit = rng.choice((10_000, 20_000, 30_000, 50_000, 80_000, 100_000)) * 100
        balance = 0 if closed else rng.randint(0, limit // 100) * 100 + rng.randint(0, 99)
        kind = CARD_TYPE
    else:
        kind = rng.choice(LOAN_TYPES)
        limit = rng.choice((50_000, 100_000, 200_000, 300_000, 500_000, 800_000)) * 100
        balance = 0 if closed else int(limit * rng.uniform(0.1, 0.95)) // 100 * 100
    grid = _grid(rng, months_ago, overdue, closed)
    current = int(grid[-1]) if grid[-1].isdigit() else 0
    status = "结清" if closed and not card else "销户" if closed else "逾期" if current else "正常"
    klass = "正常"
    if bad:
        klass, status = rng.choice((("次级", "逾期"), ("关注", "正常"), ("损失", "呆账")))
        if status == "逾期" and not current:
            grid, current = grid[:-1] + "1", 1
    od_amount = current * rng.randint(800, 6000) * 100 if current else 0
    return Account(inst, kind, opened, limit, balance, status, klass, current, od_amount, grid)


def random_report(rng: random.Random, name: str, id_number: str, on: dt.date, scenario: str = "clean", template: str = "detail",
                  n_accounts: tuple[int, int] = (2, 4), n_queries: tuple[int, int] = (3, 9)) -> CreditReport:  # fmt: skip
    """``scenario``: clean, overdue, bad_class, many_inquiries, stale (pulled long before ``on``)."""
    pulled = on - dt.timedelta(days=rng.randint(60, 120) if scenario == "stale" else rng.randint(1, 20))
    at = dt.datetime.combine(pulled, dt.time(rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59)))
    n = rng.randint(*n_accounts)
    accounts = []
    for i in range(n):
        card = i % 2 == 1 or rng.random() < 0.3
        overdue = rng.randint(1, 3) if scenario == "overdue" and i == 0 else 0
        accounts.append(random_account(rng, pulled, card, overdue=overdue, bad=scenario == "bad_class" and i == n - 1,
                                       closed=i == n - 1 and n > 2 and scenario == "clean"))  # fmt: skip
    queries = []
    k = rng.randint(8, 11) if scenario == "many_inquiries" else rng.randint(*n_queries)
    for j in range(k):
        recent = scenario == "many_inquiries" and j < 8
        days = rng.randint(3, 170) if recent else rng.randint(3, 700)
        reason = rng.choice(HARD) if recent or rng.random() < 0.4 else rng.choice(SOFT)
        inst = "本人" if reason == "本人查询" else rng.choice(BANKS) + rng.choice(BRANCHES + ("",))
        queries.append(Query(pulled - dt.timedelta(days=days), inst, reason))
    queries.sort(key=lambda q: q.date, reverse=True)
    guarantee = rng.choice((0, 0, 0, 100_000, 200_000)) * 100
    report_no = at.strftime("%Y%m%d%H%M%S") + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return CreditReport(report_no, at, name, id_number, rng.choice(SELF_REASONS), accounts, queries,
                        guarantee_amount=guarantee, guarantee_balance=guarantee // 2 if guarantee else 0, template=template)  # fmt: skip


# ---------------------------------------------------------------- rendering


class _Pages:
    """A cursor down A4 pages: ``row`` draws cells at x positions and moves down, starting a
    new page (with the report's running header) when the bottom is reached."""

    def __init__(self, cv, rep: CreditReport, font: str, size: float):
        self.cv, self.rep, self.font, self.size = cv, rep, font, size
        self.left, self.right = 46.0, A4[0] - 46.0
        self.top, self.bottom = A4[1] - 50.0, 50.0
        self.y = self.top
        self.pages = 1

    def need(self, h: float) -> None:
        if self.y - h < self.bottom:
            self.cv.showPage()
            self.pages += 1
            self.y = self.top
            self.cv.setFont(self.font, self.size * 0.9)
            self.cv.drawString(self.left, self.y, f"个人信用报告    报告编号：{self.rep.report_no}")
            self.y -= self.size * 2.4

    def row(self, cells: list[tuple[float, str]], size: float | None = None, lead: float = 1.75) -> float:
        size = size or self.size
        self.need(size * lead)
        self.cv.setFont(self.font, size)
        for x, text in cells:
            self.cv.drawString(self.left + x, self.y, text)
        y = self.y
        self.y -= size * lead
        return y

    def heading(self, text: str, size: float) -> None:
        self.need(size * 2.6)
        self.y -= size * 0.6
        bold_text(self.cv, self.left, self.y, text, self.font, size)
        self.y -= size * 2.0


def render_report(cv, rep: CreditReport, rng: random.Random) -> int:
    """Draw the report on ``cv`` (A4 pages); returns the page count."""
    font = pick_font(rng, "sans", "serif")
    size = rng.uniform(8.6, 9.6)
    p = _Pages(cv, rep, font, size)
    W = A4[0]
    bold_text(cv, W / 2, p.y, "个人信用报告", font, 18, align="centre")
    p.y -= 22
    cv.setFont(font, size)
    cv.drawCentredString(W / 2, p.y, "（本人查询版）" if rep.template == "detail" else "（简版）")
    p.y -= size * 3
    p.row([(0, f"报告编号：{rep.report_no}"), (290, f"报告时间：{rep.report_time:%Y-%m-%d %H:%M:%S}")])
    p.row([(0, f"被查询者姓名：{rep.name}"), (290, "被查询者证件类型：身份证")])
    p.row([(0, f"被查询者证件号码：{rep.id_number}")])
    p.row([(0, "查询机构：中国人民银行征信中心"), (290, "")])
    p.row([(0, "查询原因：" + rep.query_reason.replace("(", "（").replace(")", "）"))])
    p.heading("一 信息概要", size * 1.2)
    p.row([(0, "信贷交易信息概要")], size * 1.05)
    xs = (0, 62, 128, 218, 318, 418)
    p.row(list(zip(xs, ("账户类型", "账户数", "未结清/未销户", "发生过逾期", "余额/已用额度", "授信总额/借款总额"))), size * 0.95)
    for label, values in rep.summary_rows():
        p.row(list(zip(xs, [label, *values])))
    p.row([(0, f"被追偿账户数：{rep.recovered}"), (150, f"呆账账户数：{rep.bad_debt}")])
    p.row([(0, f"相关还款责任（为个人担保）  担保金额：{money(rep.guarantee_amount)}"), (300, f"担保余额：{money(rep.guarantee_balance)}")])
    p.heading("二 信贷交易信息明细", size * 1.2)
    if rep.template == "detail":
        _detail_accounts(p, rep)
    else:
        _brief_accounts(p, rep)
    p.heading("三 查询记录", size * 1.2)
    qx = (0, 40, 130, 360)
    p.row(list(zip(qx, ("编号", "查询日期", "查询机构", "查询原因"))), size * 0.95)
    for i, q in enumerate(rep.queries, start=1):
        p.row(list(zip(qx, (str(i), q.date.isoformat(), q.institution, q.reason))))
    p.y -= size
    p.row([(0, "说明：本报告仅供本人了解自己的信用状况，请妥善保管。")], size * 0.85)
    cv.showPage()
    return p.pages


def _detail_accounts(p: _Pages, rep: CreditReport) -> None:
    for i, a in enumerate(rep.accounts, start=1):
        p.need(p.size * 1.75 * 8)
        p.row([(0, f"账户{i}")], p.size * 1.05)
        p.row([(0, f"管理机构：{a.institution}"), (250, f"账户类型：{a.account_type}")])
        amount_label = "授信额度" if a.is_card else "借款金额"
        balance_label = "已用额度" if a.is_card else "余额"
        p.row([(0, f"开立日期：{a.opened.isoformat()}"), (160, f"{amount_label}：{money(a.limit_or_principal)}"),
               (330, f"{balance_label}：{money(a.balance)}")])  # fmt: skip
        p.row([(0, f"账户状态：{a.status}"), (160, f"五级分类：{a.five_class}"), (330, f"当前逾期期数：{a.overdue_periods}")])
        p.row([(0, f"当前逾期总额：{money(a.overdue_amount)}")])
        first = dt.date(rep.report_time.year, rep.report_time.month, 1) - dt.timedelta(days=1)
        start = (first.replace(day=1) - dt.timedelta(days=700)).replace(day=1)
        p.row([(0, f"最近24个月还款记录（{start:%Y-%m}至{first:%Y-%m}）")])
        for half in (a.grid[:12], a.grid[12:]):
            p.need(p.size * 2.2)
            cw = 20.0
            for k, sym in enumerate(half):
                x = p.left + 20 + k * cw
                p.cv.rect(x, p.y - p.size * 0.45, cw, p.size * 1.6, stroke=1, fill=0)
                p.cv.setFont(p.font, p.size)
                p.cv.drawCentredString(x + cw / 2, p.y, sym)
            p.y -= p.size * 1.6
        p.y -= p.size * 0.9


def _brief_accounts(p: _Pages, rep: CreditReport) -> None:
    asof = rep.report_time.date().replace(day=1) - dt.timedelta(days=1)
    width = p.right - p.left
    for i, a in enumerate(rep.accounts, start=1):
        if a.is_card:
            what = f"{a.account_type}，授信额度{money(a.limit_or_principal)}元，截至{asof.year}年{asof.month}月{asof.day}日，已用额度{money(a.balance)}元"
        else:
            what = f"{money(a.limit_or_principal)}元（人民币）{a.account_type}，截至{asof.year}年{asof.month}月{asof.day}日，余额{money(a.balance)}元"
        text = (f"{i}.{a.opened.year}年{a.opened.month}月{a.opened.day}日{a.institution}发放的{what}，账户状态为{a.status}，"
                f"五级分类为{a.five_class}，当前逾期{a.overdue_periods}期，逾期金额{money(a.overdue_amount)}元，"
                f"最近24个月还款记录为{a.grid}。")  # fmt: skip
        for line in wrap_text(text, p.font, p.size, width):
            p.row([(0, line)], lead=1.6)
        p.y -= p.size * 0.5


__all__ = ["Account", "CreditReport", "Query", "random_account", "random_report", "render_report"]
