"""Synthetic income certificates (收入证明), drawn as one A4 page with reportlab.

Four HR styles are drawn per sample: a classic paragraph, a key/value table, a paragraph with a
salary-breakdown table, and a letter addressed to the lending bank with fill-in blanks. Within
each, title wording, fonts, sizes, margins, letterhead, date style, money style and the seal
are drawn from the caller's ``random.Random``, so a parser cannot lean on one template.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import numpy as np

from loandocs.samplegen.financial import (
    A4,
    POSITIONS,
    bold_text,
    cn_date,
    draw_seal,
    money,
    pick_font,
    random_employer,
    random_landline,
    random_mobile,
    rmb_upper,
    seal_image,
    string_width,
    wrap_text,
)
from loandocs.samplegen.identity import REFERENCE_DATE, random_date, random_name

TEMPLATES = ("paragraph", "table", "breakdown", "letter")
BANKS_ADDRESSED = ("中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "招商银行", "交通银行")
_CLOSING_PUNCT = "，。、；：）」》！？%"


@dataclass
class Certificate:
    employee_name: str
    id_number: str
    sex: str
    employer: str
    employer_city: str
    position: str
    employment_start: dt.date  # first of the month
    monthly: int  # cents
    annual_months: int  # 12, 13 or 14: what the text multiplies by
    issue_date: dt.date
    contact_name: str
    contact_phone: str
    has_seal: bool
    seal_sub_text: str
    template: str

    @property
    def annual(self) -> int:
        return self.monthly * self.annual_months

    def fields(self) -> dict:
        return {
            "employee_name": self.employee_name,
            "id_number": self.id_number,
            "employer": self.employer,
            "position": self.position,
            "employment_start": self.employment_start.strftime("%Y-%m"),
            "monthly_income": self.monthly / 100,
            "annual_income": self.annual / 100,
            "issue_date": self.issue_date.isoformat(),
            "contact_phone": self.contact_phone,
            "has_seal": self.has_seal,
        }


def random_monthly(rng: random.Random) -> int:
    """4,000-60,000 yuan, log-uniform; mostly round hundreds, sometimes with cents."""
    yuan = 4000 * (15 ** rng.random())
    r = rng.random()
    if r < 0.55:
        return int(round(yuan / 100)) * 10000
    if r < 0.75:
        return int(round(yuan / 10)) * 1000
    return min(6_000_000, int(yuan * 100))


def random_certificate(rng: random.Random, name: str, id_number: str, sex: str, birth: dt.date,
                       special: str | None = None, employer: tuple[str, str] | None = None,
                       monthly: int | None = None, template: str | None = None) -> Certificate:
    """special: ``no_seal`` or ``stale`` (issued 120+ days before REFERENCE_DATE)."""
    employer, city = employer or random_employer(rng)
    if special == "stale":
        issue = REFERENCE_DATE - dt.timedelta(days=rng.randint(125, 200))
    else:
        issue = REFERENCE_DATE - dt.timedelta(days=rng.randint(0, 60))
    earliest = max(dt.date(birth.year + 21, birth.month, 1), dt.date(2003, 1, 1))
    start = random_date(rng, earliest, issue - dt.timedelta(days=200)).replace(day=1)
    phone = random_mobile(rng) if rng.random() < 0.5 else random_landline(rng, city)
    return Certificate(
        employee_name=name, id_number=id_number, sex=sex, employer=employer, employer_city=city,
        position=rng.choice(POSITIONS), employment_start=start,
        monthly=monthly if monthly is not None else random_monthly(rng),
        annual_months=rng.choice((12, 12, 12, 13, 14)), issue_date=issue,
        contact_name=random_name(rng), contact_phone=phone, has_seal=special != "no_seal",
        seal_sub_text=rng.choice(("", "", "人力资源部", "人事专用章")),
        template=template or rng.choice(TEMPLATES))


# ---------------------------------------------------------------- text runs

class _Page:
    """Page state for one certificate: fonts, sizes, cursor."""

    def __init__(self, cv, rng: random.Random):
        self.cv, self.rng = cv, rng
        self.font = pick_font(rng, "sans", "serif", "kai")
        self.title_font = rng.choice([self.font, pick_font(rng, "bold", "sans", "kai")])
        self.size = rng.uniform(11.5, 14.0)
        self.leading = self.size * rng.uniform(1.7, 2.1)
        self.left = rng.uniform(62, 90)
        self.right = A4[0] - rng.uniform(62, 90)
        self.y = A4[1] - rng.uniform(70, 105)

    @property
    def width(self) -> float:
        return self.right - self.left

    def runs(self, runs: list[tuple[str, bool]], indent: float = 2.0, size: float | None = None) -> None:
        """A paragraph of (text, underlined) runs wrapped to the text width. Closing
        punctuation never starts a line (it may hang into the margin, as in Word)."""
        size = size or self.size
        chars = [(ch, u) for text, u in runs for ch in text]
        x0, maxw = self.left + indent * size, self.width - indent * size
        i = 0
        while i < len(chars):
            line, w = [], 0.0
            while i < len(chars):
                j = i + 1  # keep ASCII words and numbers whole
                if chars[i][0].isascii() and chars[i][0] not in " ":
                    while j < len(chars) and chars[j][0].isascii() and chars[j][0] not in " ":
                        j += 1
                tw = string_width("".join(c for c, _ in chars[i:j]), self.font, size)
                if line and w + tw > maxw and chars[i][0] not in _CLOSING_PUNCT:
                    break
                line += chars[i:j]
                w += tw
                i = j
            while i < len(chars) and chars[i][0] == " ":  # no blank at the start of a line
                i += 1
            while line and line[-1][0] == " ":
                line.pop()
            self._draw_line(x0, line, size)
            x0, maxw = self.left, self.width
            self.y -= self.leading * size / self.size

    def _draw_line(self, x: float, line: list[tuple[str, bool]], size: float) -> None:
        k = 0
        while k < len(line):
            m = k
            while m < len(line) and line[m][1] == line[k][1]:
                m += 1
            text = "".join(c for c, _ in line[k:m])
            self.cv.setFont(self.font, size)
            self.cv.drawString(x, self.y, text)
            w = string_width(text, self.font, size)
            if line[k][1]:
                self.cv.setLineWidth(0.6)
                self.cv.line(x - 2, self.y - size * 0.22, x + w + 2, self.y - size * 0.22)
            x += w
            k = m

    def text(self, text: str, indent: float = 2.0) -> None:
        self.runs([(text, False)], indent)

    def gap(self, k: float) -> None:
        self.y -= self.leading * k


def _money_style(rng: random.Random) -> tuple[bool, str, str]:
    """(thousands separator, prefix, suffix) for printed amounts."""
    return rng.choice(((True, "人民币", "元"), (True, "", "元"), (False, "人民币", "元"),
                       (True, "¥", ""), (True, "￥", "元"), (False, "", "元")))


def _fmt(c: int, style) -> str:
    sep, pre, suf = style
    return f"{pre}{money(c, sep)}{suf}"


def _start_text(d: dt.date, rng: random.Random) -> str:
    return rng.choice((f"{d.year}年{d.month}月", f"{d.year}年{d.month:02d}月", f"{d.year}年{d.month}月"))


# ---------------------------------------------------------------- templates

def _title(p: _Page, cert: Certificate) -> None:
    rng = p.rng
    if rng.random() < 0.45:  # letterhead: company name over a rule
        col = rng.choice(((0.1, 0.2, 0.5), (0.55, 0.1, 0.1), (0.15, 0.15, 0.15)))
        p.cv.setFillColorRGB(*col)
        p.cv.setStrokeColorRGB(*col)
        s = rng.uniform(13, 16)
        bold_text(p.cv, A4[0] / 2, p.y + 22, cert.employer, p.title_font, s, "centre")
        p.cv.setLineWidth(rng.choice((0.8, 1.5, 2.2)))
        p.cv.line(p.left, p.y + 12, p.right, p.y + 12)
        p.cv.setFillColorRGB(0, 0, 0)
        p.cv.setStrokeColorRGB(0, 0, 0)
        p.y -= 30
    title = {"paragraph": ("收入证明", "收入证明书", "收 入 证 明"),
             "table": ("收入证明", "工作及收入证明", "员工收入证明"),
             "breakdown": ("收入证明", "工作及收入证明", "收入证明书"),
             "letter": ("收入证明", "收入证明书", "在职及收入证明")}[cert.template]
    size = rng.uniform(20, 27)
    p.y -= size
    bold_text(p.cv, A4[0] / 2, p.y, rng.choice(title), p.title_font, size, "centre")
    p.y -= size * rng.uniform(1.4, 2.2)


def _body_paragraph(p: _Page, c: Certificate) -> dict:
    rng = p.rng
    ms = _money_style(rng)
    words = rmb_upper(c.monthly) if rng.random() < 0.8 else None
    upper = f"（大写：{words}）" if words else ""
    job = rng.choice((f"现任{c.position}职务", f"担任{c.position}一职", f"职务为{c.position}"))
    pre = rng.choice(("兹证明", "兹有", "兹证明"))
    idpart = rng.choice((f"（身份证号码：{c.id_number}）", f"，身份证号：{c.id_number}，"))
    p.text(f"{pre}{c.employee_name}{idpart}系我单位{rng.choice(('员工', '正式员工', '在职员工'))}，"
           f"自{_start_text(c.employment_start, rng)}起在我单位工作，{job}，"
           f"月收入（税前）为{_fmt(c.monthly, ms)}{upper}，"
           f"年收入约为{_fmt(c.annual, ms)}。")
    if c.annual_months != 12:
        p.text(f"（年收入含年终奖金，按{c.annual_months}个月计发。）")
    return {"monthly_income": words} if words else {}


def _cell_rows(p: _Page, rows: list[list[tuple[str, int, bool]]], colw: list[float], size: float) -> None:
    """Ruled key/value table: each cell is (text, colspan, is_label); text wraps in its cell."""
    cv, pad, lead = p.cv, 5.0, size * 1.35
    cv.setLineWidth(0.8)
    for row in rows:
        col, cells = 0, []
        for text, span, label in row:
            w = sum(colw[col:col + span])
            lines = wrap_text(text, p.font, size, w - 2 * pad)
            cells.append((sum(colw[:col]), w, lines, label))
            col += span
        h = max(len(ls) for _, _, ls, _ in cells) * lead + 2 * pad + 4
        for x, w, lines, label in cells:
            if label:
                cv.setFillGray(0.92)
                cv.rect(p.left + x, p.y - h, w, h, stroke=0, fill=1)
                cv.setFillGray(0)
            cv.rect(p.left + x, p.y - h, w, h, stroke=1, fill=0)
            ty = p.y - (h - len(lines) * lead) / 2 - size * 0.95
            cv.setFont(p.font, size)
            for ln in lines:
                if label:
                    cv.drawCentredString(p.left + x + w / 2, ty, ln)
                else:
                    cv.drawString(p.left + x + pad, ty, ln)
                ty -= lead
        p.y -= h
    p.y -= p.leading  # next baseline a full line below the table


def _body_table(p: _Page, c: Certificate) -> dict:
    rng = p.rng
    ms = _money_style(rng)
    words = rmb_upper(c.monthly) if rng.random() < 0.7 else None
    p.text(rng.choice(("兹证明以下人员为我单位正式员工，其工作及收入情况如下：",
                       "经核实，我单位员工基本情况及收入情况如下：")))
    p.gap(0.3)
    size = p.size * rng.uniform(0.88, 1.0)
    start = _start_text(c.employment_start, rng)
    month_txt = _fmt(c.monthly, ms) + (f"（大写：{words}）" if words else "")
    annual_lab = rng.choice(("年收入", "年收入（税前）", "年度总收入"))
    month_lab = rng.choice(("月均收入", "月收入（税前）", "月平均工资"))
    if rng.random() < 0.5:  # four columns
        lw = rng.uniform(0.2, 0.24)
        colw = [p.width * f for f in (lw, 0.5 - lw, lw, 0.5 - lw)]
        rows = [[("姓名", 1, True), (c.employee_name, 1, False), ("性别", 1, True), (c.sex, 1, False)],
                [("身份证号码", 1, True), (c.id_number, 3, False)],
                [("工作单位", 1, True), (c.employer, 3, False)],
                [("职务", 1, True), (c.position, 1, False), ("入职时间", 1, True), (start, 1, False)],
                [(month_lab, 1, True), (month_txt, 3, False)],
                [(annual_lab, 1, True), (_fmt(c.annual, ms), 3, False)]]
    else:
        lw = rng.uniform(0.26, 0.32)
        colw = [p.width * lw, p.width * (1 - lw)]
        rows = [[(k, 1, True), (v, 1, False)] for k, v in (
            ("姓名", c.employee_name), ("身份证号", c.id_number), ("工作单位", c.employer),
            ("职务", c.position), ("入职时间", start), (month_lab, month_txt),
            (annual_lab, _fmt(c.annual, ms)))]
    _cell_rows(p, rows, colw, size)
    p.gap(0.2)
    return {"monthly_income": words} if words else {}


def _body_breakdown(p: _Page, c: Certificate) -> dict:
    rng = p.rng
    ms = (True, "", "")
    p.text(f"兹有{c.employee_name}{rng.choice(('同志', '', ''))}，身份证号码{c.id_number}，"
           f"于{_start_text(c.employment_start, rng)}入职我公司，现任{c.position}。"
           f"该员工近十二个月月均收入构成如下（单位：人民币元，税前）：")
    p.gap(0.3)
    base = c.monthly * rng.randint(50, 70) // 100 // 100 * 100
    allow = c.monthly * rng.randint(8, 18) // 100 // 100 * 100
    rows = [[("项目", 1, True), ("金额（元）", 1, True)],
            [("基本工资", 1, False), (money(base), 1, False)],
            [(rng.choice(("岗位津贴", "补贴")), 1, False), (money(allow), 1, False)],
            [(rng.choice(("绩效奖金", "绩效工资")), 1, False), (money(c.monthly - base - allow), 1, False)],
            [("月收入合计", 1, True), (_fmt(c.monthly, ms), 1, False)]]
    half = p.width * rng.uniform(0.55, 0.75)
    left0 = p.left
    p.left += (p.width - half) / 2
    _cell_rows(p, rows, [half * 0.5, half * 0.5], p.size * 0.95)
    p.left = left0
    words = rmb_upper(c.annual)
    p.text(f"年收入合计{_fmt(c.annual, (True, '人民币', '元'))}（大写：{words}）。")
    return {"annual_income": words}  # here the capital form is the annual figure


def _body_letter(p: _Page, c: Certificate) -> dict:
    rng = p.rng
    bank = rng.choice(BANKS_ADDRESSED)
    p.runs([(f"致：{bank}{rng.choice(('股份有限公司', ''))}{c.employer_city}分行", False)], indent=0)
    p.gap(0.3)
    title = "先生" if c.sex == "男" else "女士"
    words = rmb_upper(c.monthly)
    years = (c.issue_date - c.employment_start).days // 365
    p.runs([("兹证明", False), (f" {c.employee_name} ", True), (f"{title}（身份证号码：", False),
            (f" {c.id_number} ", True), ("）自", False), (f" {_start_text(c.employment_start, rng)} ", True),
            (f"起在我单位工作{'，至今已满' + str(years) + '年' if years >= 1 else ''}，现任", False),
            (f" {c.position} ", True), ("职务。其近一年平均月收入为人民币（大写）", False),
            (f" {words} ", True), ("（¥", False), (money(c.monthly), True), ("），年收入共计人民币", False),
            (f" {money(c.annual)} ", True), ("元。", False)])
    p.text("我单位保证以上信息真实、准确，如有虚假，愿承担相应法律责任。")
    return {"monthly_income": words}


def render_certificate(cv, cert: Certificate, rng: random.Random, nprng: np.random.Generator) -> dict:
    """Draw the certificate as the current page of ``cv`` (then ``showPage``). Returns what the
    ground truth needs beyond the fields: ``amounts_in_words``, field name -> the capital form
    printed for it (monthly or annual income, whichever the template spells out)."""
    p = _Page(cv, rng)
    _title(p, cert)
    words = {"paragraph": _body_paragraph, "table": _body_table, "breakdown": _body_breakdown,
             "letter": _body_letter}[cert.template](p, cert)
    if rng.random() < 0.5:
        p.text(rng.choice(("本证明仅用于办理贷款业务，不作其他用途。", "本证明仅供申请个人贷款使用，涂改无效。",
                           "此证明仅证明该员工的收入情况，不作为我单位对该员工任何形式的担保文件。")))
    p.text("特此证明。")
    p.gap(rng.uniform(0.4, 1.2))
    contact = (f"联系人：{cert.contact_name}{rng.choice(('　', '    '))}" if rng.random() < 0.75 else "") + \
        f"{rng.choice(('联系电话', '单位电话', '电话'))}：{cert.contact_phone}"
    contact_below = rng.random() < 0.4  # contact line at the foot instead of above the signature
    if not contact_below:
        p.runs([(contact, False)], indent=rng.choice((0, 2)))
    # Signature block: employer then date, right-aligned or centred on a right-hand axis.
    p.gap(rng.uniform(1.0, 2.2))
    prefix = rng.choice(("", "", "单位名称（盖章）：", "证明单位："))
    emp = prefix + cert.employer
    date_txt = cn_date(cert.issue_date, rng.choice(("plain", "plain", "pad", "cjk")))
    cv.setFont(p.font, p.size)
    w = max(string_width(emp, p.font, p.size), string_width(date_txt, p.font, p.size))
    if rng.random() < 0.5:
        axis = p.right - w / 2
        cv.drawCentredString(axis, p.y, emp)
        cv.drawCentredString(axis, p.y - p.leading, date_txt)
    else:
        cv.drawRightString(p.right, p.y, emp)
        cv.drawRightString(p.right, p.y - p.leading, date_txt)
        axis = p.right - string_width(cert.employer, p.font, p.size) / 2
    sig_y = p.y
    p.y -= p.leading * 2
    if contact_below:
        p.gap(1.0)
        p.runs([(contact, False)], indent=0, size=p.size * 0.9)
    if cert.has_seal:
        img = seal_image(cert.employer, rng, nprng, cert.seal_sub_text)
        d = rng.uniform(108, 124)  # a 38-44 mm company seal
        draw_seal(cv, img, axis + rng.uniform(-25, 15), sig_y - p.leading * 0.5 + rng.uniform(-12, 12), d)
    cv.showPage()
    return {"amounts_in_words": words}
