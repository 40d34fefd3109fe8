"""Synthetic bank statements (银行流水), drawn as multi-page A4 PDFs with reportlab.

Bank names are real public institutions (only as headings); account numbers, holders,
counterparties and merchants are invented. Three column layouts (signed amount; separate
收入/支出 columns; 借/贷 flag plus amount), four rulings, three date styles, two header
styles and the summary placement are drawn per sample. The table header repeats on every page
and long descriptions/counterparties wrap inside their cells.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import numpy as np

from loandocs.samplegen.financial import (
    A4,
    bold_text,
    draw_seal,
    money,
    pick_font,
    random_employer,
    seal_image,
    string_width,
    wrap_text,
)
from loandocs.samplegen.identity import REFERENCE_DATE, random_name

LAYOUTS = ("signed", "split", "drcr")  # (a), (b), (c) in the brief
BANKS = {  # name -> (colour, titles, account label)
    "中国建设银行": ((0.0, 0.27, 0.58), ("个人活期账户交易明细", "个人账户交易明细"), "账号"),
    "中国工商银行": ((0.76, 0.05, 0.1), ("个人账户历史明细清单", "银行流水"), "卡号"),
    "招商银行": ((0.72, 0.08, 0.12), ("交易流水", "个人账户对账单"), "账号"),
    "中国银行": ((0.6, 0.04, 0.1), ("交易流水明细", "对账单"), "卡号"),
    "交通银行": ((0.0, 0.2, 0.5), ("对账单", "个人活期账户交易明细"), "账号"),
}
_SHOPS = ("便利店", "超市", "餐厅", "大药房", "加油站", "书店", "影城", "服装店", "面包房", "水果店")
_SHOP_WORDS = ("优品", "惠民", "佳家", "鲜丰", "好邻居", "乐购", "百味", "金穗", "悦享", "星光", "万家福")
_DISTRICTS = ("文三路", "中关村", "天河北", "徐家汇", "五一广场", "解放碑", "高新区", "建设路")


@dataclass
class Txn:
    date: dt.date
    description: str
    amount: int  # cents, + credit; what the bank booked
    counterparty: str
    balance: int = 0
    printed: int | None = None  # amount as printed when it was altered afterwards

    @property
    def shown(self) -> int:
        return self.amount if self.printed is None else self.printed


@dataclass
class Statement:
    bank: str
    holder: str
    account: str
    period_start: dt.date
    period_end: dt.date
    opening: int
    txns: list[Txn]
    salary: int
    employer: str
    edited_row: int | None = None
    not_printed: list[str] = field(default_factory=list)

    @property
    def closing(self) -> int:
        return self.txns[-1].balance if self.txns else self.opening

    @property
    def credits(self) -> int:  # the bank's totals: an after-the-fact edit does not change them
        return sum(t.amount for t in self.txns if t.amount > 0)

    @property
    def debits(self) -> int:
        return -sum(t.amount for t in self.txns if t.amount < 0)

    def fields(self) -> dict:
        return {"bank_name": self.bank, "account_holder": self.holder, "account_number": self.account,
                "period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(),
                "currency": "CNY", "opening_balance": self.opening / 100, "closing_balance": self.closing / 100,
                "total_credits": self.credits / 100, "total_debits": self.debits / 100}

    def transactions(self) -> list[dict]:
        return [{"date": t.date.isoformat(), "description": t.description, "amount": t.shown / 100,
                 "balance": t.balance / 100, "counterparty": t.counterparty} for t in self.txns]


def _account(rng: random.Random) -> str:
    """16-19 digits, UnionPay-style 62 prefix, valid Luhn check digit (invented number)."""
    body = "62" + "".join(str(rng.randint(0, 9)) for _ in range(rng.choice((14, 16, 17)) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def _merchant(rng: random.Random) -> str:
    city, word = rng.choice(("杭州", "上海", "北京", "广州", "成都", "南京")), rng.choice(_SHOP_WORDS)
    if rng.random() < 0.3:  # legal-entity names are long and wrap in the counterparty column
        return f"{city}市{word}商贸有限公司{rng.choice(_DISTRICTS)}{rng.choice(_SHOPS)}"
    return city + word + rng.choice(_SHOPS)


def _other(rng: random.Random, holder: str, salary: int) -> tuple[str, int, str]:
    """One non-salary transaction: (description, signed cents, counterparty)."""
    r = rng.random()
    if r < 0.42:
        return (rng.choice(("消费", "POS消费", "快捷支付", "网上支付", "银联在线支付-生活缴费及日常消费")),
                -rng.randint(1500, 150000), _merchant(rng))
    if r < 0.56:
        return (rng.choice(("转账", "跨行转账", "手机银行转账", "网银转账-房租及物业管理费")),
                -rng.randint(200, 8000) * 100, random_name(rng))
    if r < 0.68:
        return rng.choice(("转账", "转账存入", "他行汇入")), rng.randint(100, 5000) * 100, random_name(rng)
    if r < 0.78:
        return rng.choice(("取现", "ATM取款", "跨行ATM取款")), -rng.randint(1, 30) * 10000, ""
    if r < 0.88:
        return (rng.choice(("还款", "信用卡还款", "自动还款")), -rng.randint(50000, max(60000, salary // 2)),
                holder if rng.random() < 0.5 else "信用卡中心")
    desc, payee = rng.choice((("代扣", "城市供水有限公司"), ("水电燃气费", "燃气集团有限公司"),
                              ("代扣电费", "供电服务中心"), ("话费充值", "通信服务营业厅")))
    return desc, -rng.randint(3000, 40000), payee


def random_statement(rng: random.Random, holder: str, employer: str | None = None, salary: int | None = None,
                     rows: tuple[int, int] = (45, 120), edited: bool = False,
                     bank: str | None = None) -> Statement:
    """6-7 months ending shortly before REFERENCE_DATE. Salary (cents) is credited by
    ``employer`` around the same day every month. ``edited``: one salary credit is printed
    larger than booked while the printed balances stay the booked ones."""
    employer = employer or random_employer(rng)[0]
    salary = salary or rng.randint(3500, 45000) * 100 + rng.choice((0, 0, rng.randint(1, 99)))
    if rng.random() < 0.5:  # whole calendar months
        end = REFERENCE_DATE.replace(day=1) - dt.timedelta(days=1)
        m = end.month - rng.choice((5, 6))
        start = dt.date(end.year + (m - 1) // 12, (m - 1) % 12 + 1, 1)
    else:
        end = REFERENCE_DATE - dt.timedelta(days=rng.randint(1, 20))
        start = end - dt.timedelta(days=rng.randint(183, 212))
    pay_day = rng.randint(5, 25)
    desc = rng.choice(("代发工资", "工资", "批量代发工资", "代发薪资"))
    txns: list[Txn] = []
    y, m = start.year, start.month
    while dt.date(y, m, 1) <= end:
        d = dt.date(y, m, pay_day)
        d -= dt.timedelta(days=max(0, d.weekday() - 4))  # a weekend payday moves to Friday
        if start <= d <= end:
            txns.append(Txn(d, desc, salary, employer))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    for q in (3, 6, 9, 12):  # quarterly interest (结息) on the 21st
        for year in {start.year, end.year}:
            d = dt.date(year, q, 21)
            if start <= d <= end:
                txns.append(Txn(d, rng.choice(("利息", "结息", "利息存入")), 0, ""))
    n = rng.randint(*rows) - len(txns)
    days = (end - start).days
    for _ in range(max(0, n)):
        d = start + dt.timedelta(days=rng.randint(0, days))
        txns.append(Txn(d, *_other(rng, holder, salary)))
    txns.sort(key=lambda t: (t.date, -t.amount))  # credits first on a day: fewer overdrafts
    bal = opening = rng.randint(salary // 4, salary * 3) + rng.randint(0, 99)
    kept = []
    for t in txns:
        if t.description in ("利息", "结息", "利息存入"):
            t.amount = max(1, bal * rng.randint(5, 9) // 10000)  # ~0.25-0.35 % a year, quarterly
        if bal + t.amount < 1000:  # would overdraw: a smaller debit (still round if it was) or none
            step = 10000 if t.amount % 10000 == 0 else 1
            if bal < 1000 + 2 * max(step, 2000):
                continue
            t.amount = -rng.randint(max(1, 1000 // step), (bal - 1000) // step) * step
        bal += t.amount
        t.balance = bal
        kept.append(t)
    st = Statement(bank or rng.choice(list(BANKS)), holder, _account(rng), start, end, opening, kept,
                   salary, employer)
    if edited:
        idx = [i for i, t in enumerate(kept) if t.amount == salary and i > 0]
        st.edited_row = rng.choice(idx)
        kept[st.edited_row].printed = salary + rng.choice((1000, 2000, 5000, 10000)) * 100
    return st


# ---------------------------------------------------------------- drawing

def _date(d: dt.date, style: str) -> str:
    return {"iso": d.isoformat(), "slash": d.strftime("%Y/%m/%d"), "compact": d.strftime("%Y%m%d")}[style]


def _columns(layout: str, rng: random.Random) -> list[tuple[str, str, str]]:
    """(key, header, align) per column."""
    date = rng.choice(("交易日期", "记账日期", "日期")) if layout != "split" else "日期"
    cp = rng.choice(("对方户名", "对方账户名称")) if layout != "drcr" else rng.choice(("对手信息", "对方信息"))
    if layout == "signed":
        cols = [("date", date, "c"), ("desc", rng.choice(("摘要", "交易摘要")), "l"),
                ("amount", rng.choice(("交易金额", "发生额")), "r"), ("balance", rng.choice(("账户余额", "余额")), "r")]
    elif layout == "split":
        cols = [("date", date, "c"), ("desc", "摘要", "l"), ("credit", rng.choice(("收入", "收入金额")), "r"),
                ("debit", rng.choice(("支出", "支出金额")), "r"), ("balance", "余额", "r")]
    else:
        cols = [("date", date, "c"), ("desc", "交易类型", "l"), ("dc", "借/贷", "c"),
                ("amount", "金额", "r"), ("balance", "余额", "r")]
    if rng.random() < 0.4:
        cols.insert(2, ("channel", rng.choice(("交易渠道", "渠道")), "c"))
    cols.append(("cp", cp, "l"))
    if rng.random() < 0.3:
        cols.insert(0, ("no", "序号", "c"))
    return cols


def _channel(desc: str) -> str:
    for key, ch in (("代发", "批量代发"), ("工资", "批量代发"), ("息", "系统"), ("ATM", "ATM"), ("取现", "柜面"),
                    ("POS", "POS"), ("手机", "手机银行"), ("网银", "网上银行"), ("还款", "自动扣款"),
                    ("代扣", "自动扣款"), ("他行", "跨行清算")):
        if key in desc:
            return ch
    return "网上支付" if "支付" in desc or "消费" in desc else "手机银行"


def _cells(st: Statement, layout: str, style: dict) -> list[dict]:
    out = []
    for i, t in enumerate(st.txns):
        a = t.shown
        c = {"no": str(i + 1), "date": _date(t.date, style["date"]), "desc": t.description,
             "channel": _channel(t.description),
             "balance": money(t.balance), "cp": t.counterparty}
        if layout == "signed":
            c["amount"] = money(a, sign=style["plus"])
        elif layout == "split":
            c["credit"], c["debit"] = (money(a), "") if a > 0 else ("", money(-a))
        else:
            c["dc"] = style["dc"][0] if a < 0 else style["dc"][1]
            c["amount"] = money(abs(a))
        out.append(c)
    return out


def render_statement(cv, st: Statement, rng: random.Random, nprng: np.random.Generator,
                     layout: str | None = None, compact: bool = False, totals: bool | None = None) -> int:
    """Draw all pages of ``st`` on ``cv``; returns the number of pages. ``compact``: small type
    and tight rows, for the one-page scan of a short statement. Sets ``st.not_printed`` when
    this rendering leaves the credit/debit totals out (``totals`` False, or by chance when None)."""
    layout = layout or rng.choice(LAYOUTS)
    colour, titles, acc_label = BANKS[st.bank]
    W, H = A4
    font = pick_font(rng, "sans", "sans", "serif")
    hfont = rng.choice((font, pick_font(rng, "sans", "bold")))
    size = rng.uniform(6.6, 7.4) if compact else rng.uniform(7.6, 9.2)
    lead, pad = size * rng.uniform(1.18, 1.3), size * rng.uniform(0.35, 0.6)
    left = rng.uniform(30, 42) if compact else rng.uniform(34, 58)
    right, top, bottom = W - left, H - rng.uniform(34, 56), rng.uniform(40, 56)
    style = {"date": rng.choice(("iso", "slash", "compact")), "plus": rng.choice(("+", "+", "")),
             "dc": rng.choice((("借", "贷"), ("DR", "CR"))),
             "ruling": rng.choice(("grid", "grid", "hlines", "zebra", "none"))}
    cols = _columns(layout, rng)
    cells = _cells(st, layout, style)
    # Fixed columns as wide as their widest entry; text columns share the rest.
    widths = {}
    for key, head, _ in cols:
        if key not in ("desc", "cp"):
            widest = max([string_width(c[key], font, size) for c in cells] + [string_width(head, font, size)])
            widths[key] = widest + 2 * pad + rng.uniform(2, 12)
    rest = (right - left) - sum(widths.values())
    share = rng.uniform(0.36, 0.45)
    widths["desc"], widths["cp"] = rest * share, rest * (1 - share)
    # Keep the longest counterparties wrapping onto a second line; the space this frees
    # widens the other columns.
    widest_cp = max(string_width(c["cp"], font, size) for c in cells) + 2 * pad
    spare = widths["cp"] - widest_cp * rng.uniform(0.7, 0.9)
    if spare > 0:
        widths["cp"] -= spare
        for key in widths:
            if key != "cp":
                widths[key] += spare / (len(widths) - 1)
    xs, x = {}, left
    for key, _, _ in cols:
        xs[key] = x
        x += widths[key]
    wrapped = [{k: wrap_text(c[k], font, size, widths[k] - 2 * pad) for k, _, _ in cols} for c in cells]
    heights = [max(len(v) for v in w.values()) * lead + 2 * pad for w in wrapped]
    head_lines = {k: wrap_text(h, font, size, widths[k] - 2 * pad) for k, h, _ in cols}
    head_h = max(len(v) for v in head_lines.values()) * lead + 2 * pad

    summary_top = rng.random() < 0.45
    if not (rng.random() >= 0.2 if totals is None else totals):
        st.not_printed = ["total_credits", "total_debits"]
    account = st.account if rng.random() < 0.7 else \
        " ".join(st.account[i:i + 4] for i in range(0, len(st.account), 4))
    period = _date(st.period_start, style["date"]) + rng.choice((" 至 ", " - ", "至")) + \
        _date(st.period_end, style["date"])
    info = [("户名", st.holder), (acc_label, account), ("币种", rng.choice(("人民币", "CNY", "人民币元"))),
            (rng.choice(("起止日期", "查询期间", "交易期间")), period)]
    summary = [("期初余额", money(st.opening)), ("期末余额", money(st.closing))]
    if not st.not_printed:
        summary[1:1] = [(rng.choice(("收入合计", "贷方发生额合计", "收入总额")), money(st.credits)),
                        (rng.choice(("支出合计", "借方发生额合计", "支出总额")), money(st.debits))]
    if summary_top:
        info += summary
    info.append(("打印日期", _date(st.period_end + dt.timedelta(days=rng.randint(1, 8)), style["date"])))
    info_cols = 2 if rng.random() < 0.6 else 3
    info_cols = _info_columns([f"{a}：{b}" for a, b in info], font, size, right - left, info_cols)[0]
    info_h = ((len(info) + info_cols - 1) // info_cols) * size * 2.0
    first_top = top - (size * 6.2 + info_h)

    # Paginate: the first page carries the header block; every page the column header.
    pages, cur, y = [], [], first_top - head_h
    for i, h in enumerate(heights):
        if y - h < bottom + 18 and cur:
            pages.append(cur)
            cur, y = [], top - size * 2.6 - head_h
        cur.append(i)
        y -= h
    pages.append(cur)
    if not summary_top and y - size * 2.4 * (1 + len(summary) // 2) < bottom + 18:
        pages.append([])  # the summary does not fit under the last rows
    n_pages = len(pages)
    footer = rng.choice(("第 {i} 页 共 {n} 页", "第{i}页 共{n}页", "第 {i} 页 / 共 {n} 页"))
    foot_x = rng.choice(("c", "r"))

    def table_header(y: float) -> float:
        cv.setFillColorRGB(*[min(1.0, c * 0.15 + 0.85) for c in colour])
        cv.rect(left, y - head_h, right - left, head_h, stroke=0, fill=1)
        cv.setFillGray(0)
        for key, _, _ in cols:
            draw_cell(cv, head_lines[key], xs[key], widths[key], y, head_h, "c", hfont, size, lead, pad)
        cv.setLineWidth(0.8)
        cv.line(left, y - head_h, right, y - head_h)
        if style["ruling"] != "none":
            cv.line(left, y, right, y)
        return y - head_h

    for p, idx in enumerate(pages):
        if p == 0:
            _masthead(cv, st, rng, colour, titles, font, hfont, size, left, right, top, info, info_cols)
            y = first_top
        else:
            cv.setFont(font, size)
            cv.drawString(left, top - size, f"户名：{st.holder}    {acc_label}：{st.account}")
            cv.drawRightString(right, top - size, st.bank)
            y = top - size * 2.6
        y0 = y
        if idx:
            y = table_header(y)
        for k, i in enumerate(idx):
            h = heights[i]
            if style["ruling"] == "zebra" and k % 2:
                cv.setFillGray(0.94)
                cv.rect(left, y - h, right - left, h, stroke=0, fill=1)
                cv.setFillGray(0)
            for key, _, align in cols:
                draw_cell(cv, wrapped[i][key], xs[key], widths[key], y, h, align, font, size, lead, pad)
            if style["ruling"] in ("grid", "hlines"):
                cv.setLineWidth(0.4)
                cv.line(left, y - h, right, y - h)
            y -= h
        if idx and style["ruling"] == "grid":
            cv.setLineWidth(0.5)
            for key, _, _ in cols:
                cv.line(xs[key], y0, xs[key], y)
            cv.line(right, y0, right, y)
        if p == n_pages - 1:
            if not summary_top:
                y = _summary(cv, summary, font, size, left, right, y - size * 2.2)
            if rng.random() < 0.5:  # the bank's e-statement seal next to the last rows
                img = seal_image(st.bank + "股份有限公司", rng, nprng, rng.choice(("电子回单专用章", "业务专用章")))
                draw_seal(cv, img, right - 75, max(bottom + 60, y - 55), rng.uniform(95, 110))
        cv.setFont(font, size)
        text = footer.format(i=p + 1, n=n_pages)
        if foot_x == "c":
            cv.drawCentredString(W / 2, bottom - size, text)
        else:
            cv.drawRightString(right, bottom - size, text)
        cv.showPage()
    return n_pages


def draw_cell(cv, lines, x, w, y, h, align, font, size, lead, pad) -> None:
    """Text lines in a table cell, aligned left (l), right (r) or centred (c); the zoo's families share it."""
    cv.setFont(font, size)
    ty = y - pad - size * 0.88
    for ln in lines:
        if align == "r":
            cv.drawRightString(x + w - pad, ty, ln)
        elif align == "c":
            cv.drawCentredString(x + w / 2, ty, ln)
        else:
            cv.drawString(x + pad, ty, ln)
        ty -= lead


def _masthead(cv, st, rng, colour, titles, font, hfont, size, left, right, top, info, ncols) -> None:
    """Bank name (with a plain coloured mark, not a real logo), title, account information."""
    cv.setFillColorRGB(*colour)
    bs = size * rng.uniform(1.7, 2.1)
    if rng.random() < 0.5:
        cv.circle(left + bs * 0.5, top - bs * 0.4, bs * 0.5, stroke=0, fill=1)
        bold_text(cv, left + bs * 1.3, top - bs * 0.75, st.bank, hfont, bs)
    else:
        bold_text(cv, left, top - bs * 0.75, st.bank, hfont, bs)
    cv.setFillGray(0)
    ts = size * rng.uniform(1.5, 1.9)
    bold_text(cv, (left + right) / 2, top - size * 3.6, rng.choice(titles), hfont, ts, "centre")
    cv.setStrokeColorRGB(*colour)
    cv.setLineWidth(1.2)
    cv.line(left, top - size * 4.4, right, top - size * 4.4)
    cv.setStrokeGray(0)
    fs = size * 1.05
    cv.setFont(font, fs)
    texts = [f"{lab}：{val}" for lab, val in info]
    n, colw = _info_columns(texts, font, size, right - left, ncols)
    spread = max(0.0, (right - left - sum(colw)) / max(1, n - 1))
    y = top - size * 6.0
    for k, text in enumerate(texts):
        j = k % n
        cv.drawString(left + sum(colw[:j]) + spread * j, y, text)
        if j == n - 1:
            y -= size * 2.0


def _info_columns(texts: list[str], font: str, size: float, width: float, ncols: int):
    """Columns as wide as their longest entry; fewer columns when they would not fit."""
    for n in range(ncols, 0, -1):
        colw = [max(string_width(t, font, size * 1.05) for t in texts[j::n]) + size * 2 for j in range(n)]
        if sum(colw) - size * 2 <= width:
            break
    return n, colw


def _summary(cv, summary, font, size, left, right, y) -> float:
    cv.setFont(font, size * 1.05)
    colw = (right - left) / 2
    for k, (lab, val) in enumerate(summary):
        cv.drawString(left + (k % 2) * colw, y, f"{lab}：{val}")
        if k % 2:
            y -= size * 2.0
    return y
