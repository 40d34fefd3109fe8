"""Synthetic business licences (营业执照) with ground truth: companies and 个体工商户, the 2016+
two-column frame and the older one-column one, valid and invalid unified social credit codes
(GB 32100 check character). Companies, people and addresses are invented.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import numpy as np

from loandocs.samplegen.financial import A4, bold_text, draw_seal, pick_font, random_employer, seal_image, wrap_text
from loandocs.samplegen.identity import random_name

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
COMPANY_TYPES = ("有限责任公司(自然人投资或控股)", "有限责任公司(自然人独资)", "其他有限责任公司", "股份有限公司(非上市、自然人投资或控股)")
DISTRICTS = ("海淀区", "朝阳区", "浦东新区", "天河区", "西湖区", "鼓楼区", "武侯区", "江汉区", "雁塔区", "工业园区")
ROADS = ("科技路", "学院路", "中山路", "人民路", "建设路", "解放路", "长江路", "文化路", "创业大道", "星湖街")
SCOPES = ("技术开发、技术咨询、技术服务；软件开发；销售电子产品、计算机软硬件及辅助设备。",
          "餐饮服务；食品销售；日用百货零售。", "货物进出口；技术进出口；国内贸易代理；供应链管理服务。",
          "建筑工程施工；装饰装修；建筑材料销售。", "企业管理咨询；市场营销策划；会议及展览服务。")  # fmt: skip


def check_char(first17: str) -> str:
    """GB 32100: computed here from the standard, apart from the parser's copy."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def random_uscc(rng: random.Random, individual: bool = False, invalid: bool = False) -> str:
    head = "92" if individual else "91"
    region = rng.choice(("110108", "310115", "440106", "330106", "320508", "510107", "420103", "610113"))
    org = "".join(rng.choice(ALPHABET) for _ in range(9))
    first = head + region + org
    good = check_char(first)
    if invalid:
        return first + rng.choice([c for c in ALPHABET if c != good])
    return first + good


@dataclass
class Licence:
    uscc: str
    company_name: str
    company_type: str
    legal_representative: str
    registered_capital: int | None  # yuan
    established: dt.date
    term_until: dt.date | None  # None: 长期
    address: str
    registration_authority: str
    scope: str
    issued: dt.date
    individual: bool = False
    layout: str = "two_column"

    def fields(self) -> dict:
        f = {"uscc": self.uscc, "company_name": self.company_name, "company_type": self.company_type,
             "legal_representative": self.legal_representative, "established": self.established.isoformat(),
             "address": self.address, "registration_authority": self.registration_authority}  # fmt: skip
        if self.registered_capital is not None:
            f["registered_capital"] = float(self.registered_capital)
        if not self.individual:
            f["term_from"] = self.established.isoformat()
            f["term_until"] = self.term_until.isoformat() if self.term_until else "long_term"
        return f


def random_licence(rng: random.Random, on: dt.date, special: str | None = None, individual: bool = False,
                   company: tuple[str, str] | None = None, representative: str | None = None) -> Licence:  # fmt: skip
    """``special``: ``invalid_code`` (a wrong check character), ``expired`` (营业期限 ended)."""
    name, city = company or random_employer(rng)
    district = rng.choice(DISTRICTS)
    if individual:
        name = city + district + rng.choice(("鑫源", "好运来", "惠家", "顺发", "百味")) + rng.choice(("便利店", "餐馆", "五金店", "服装店"))
    established = on - dt.timedelta(days=rng.randint(400, 6000))
    if special == "expired":
        established = on - dt.timedelta(days=rng.randint(3700, 4000))
        until: dt.date | None = established.replace(year=established.year + 10) - dt.timedelta(days=1)
    else:
        until = None if rng.random() < 0.35 else established.replace(year=established.year + rng.choice((20, 30, 50))) - dt.timedelta(days=1)
    address = f"{city}市{district}{rng.choice(ROADS)}{rng.randint(1, 399)}号{rng.randint(1, 30)}层{rng.randint(1, 20):02d}室"
    return Licence(
        uscc=random_uscc(rng, individual, invalid=special == "invalid_code"),
        company_name=name,
        company_type="个体工商户" if individual else rng.choice(COMPANY_TYPES),
        legal_representative=representative or random_name(rng),
        registered_capital=None if individual else rng.choice((50, 100, 200, 300, 500, 1000)) * 10_000,
        established=established,
        term_until=None if individual else until,
        address=address,
        registration_authority=f"{city}市{district}市场监督管理局",
        scope=rng.choice(SCOPES),
        issued=on - dt.timedelta(days=rng.randint(30, 300)),
        individual=individual,
        layout=rng.choice(("two_column", "one_column")),
    )


def _date(d: dt.date) -> str:
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def _capital(yuan: int, rng: random.Random) -> str:
    wan = yuan // 10_000
    return rng.choice((f"人民币{wan}万元", f"{wan}万元人民币", f"{wan}.000000万人民币"))


def render_licence(cv, lic: Licence, rng: random.Random, nprng: np.random.Generator) -> None:
    W, H = A4
    font = pick_font(rng, "sans", "serif")
    size = rng.uniform(11.5, 13)
    cv.setLineWidth(3)
    cv.setStrokeColorRGB(0.55, 0.35, 0.1)
    cv.rect(26, 26, W - 52, H - 52)
    cv.setLineWidth(0.8)
    cv.rect(34, 34, W - 68, H - 68)
    cv.setStrokeColorRGB(0, 0, 0)
    bold_text(cv, W / 2, H - 130, "营 业 执 照", font, 34, align="centre")
    cv.setFont(font, size)
    cv.drawCentredString(W / 2, H - 160, "（副  本）")
    y = H - 210
    left = 62
    cv.drawString(left, y, f"统一社会信用代码  {lic.uscc}")
    y -= size * 3.2
    person = "经营者" if lic.individual else "法定代表人"
    place = "经营场所" if lic.individual else "住所"
    start_label = "注册日期" if lic.individual else "成立日期"
    term = f"{_date(lic.established)}至{_date(lic.term_until) if lic.term_until else '长期'}"
    lines: list[list[tuple[float, str]]]
    if lic.layout == "two_column" and not lic.individual:
        right = 300
        lines = [[(left, f"名        称  {lic.company_name}")],
                 [(left, f"类        型  {lic.company_type}")],
                 [(left, f"{person}  {lic.legal_representative}"), (right, f"注册资本  {_capital(lic.registered_capital or 0, rng)}")],
                 [(left, f"成立日期  {_date(lic.established)}"), (right, f"营业期限  {term}")]]  # fmt: skip
    else:
        lines = [[(left, f"名称：{lic.company_name}")], [(left, f"类型：{lic.company_type}")], [(left, f"{person}：{lic.legal_representative}")]]
        if lic.individual:
            lines.append([(left, "组成形式：个人经营")])
        if not lic.individual:
            lines += [[(left, f"注册资本：{_capital(lic.registered_capital or 0, rng)}")], [(left, f"营业期限：{term}")]]
        lines += [[(left, f"{start_label}：{_date(lic.established)}")]]
    for row in lines:
        for x, text in row:
            cv.drawString(x, y, text)
        y -= size * 2.3
    for k, line in enumerate(wrap_text(f"{place}  {lic.address}", font, size, W - 2 * left - 10)):
        cv.drawString(left + (size * 4.4 if k else 0), y, line)
        y -= size * 1.6
    y -= size * 0.8
    for k, line in enumerate(wrap_text(f"经营范围  {lic.scope}", font, size * 0.9, W - 2 * left - 10)):
        cv.setFont(font, size * 0.9)
        cv.drawString(left + (size * 4.4 if k else 0), y, line)
        y -= size * 1.5
    cv.setFont(font, size)
    ay = 185
    cv.drawString(W - 340, ay, f"登记机关  {lic.registration_authority}")
    cv.drawString(W - 200, ay - size * 2.6, _date(lic.issued))
    seal = seal_image(lic.registration_authority, rng, nprng, size=320)
    draw_seal(cv, seal, W - 150, ay - 65, 100)
    cv.setFont(font, size * 0.75)
    cv.drawString(left, 60, "国家企业信用信息公示系统网址：（样本，非真实执照）")
    cv.showPage()


__all__ = ["Licence", "check_char", "random_licence", "random_uscc", "render_licence"]
