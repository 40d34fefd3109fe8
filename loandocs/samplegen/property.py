"""Synthetic property certificates with ground truth: the 不动产权证书 register page (2015+)
and the older 房屋所有权证. Owners, addresses and numbers are invented."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import numpy as np

from loandocs.samplegen.financial import A4, bold_text, pick_font, wrap_text
from loandocs.samplegen.identity import random_name

PROVINCES = (("苏", "苏州市", "320506"), ("浙", "杭州市", "330106"), ("京", "北京市", "110108"), ("沪", "上海市", "310115"),
             ("粤", "广州市", "440106"), ("川", "成都市", "510107"), ("鄂", "武汉市", "420103"))  # fmt: skip
ESTATES = ("星湖花园", "翠苑小区", "阳光家园", "锦绣公寓", "香樟新村", "滨江花园", "紫金华府")


@dataclass
class PropertyCert:
    certificate_no: str
    owners: list[str]
    co_ownership: str
    location: str
    unit_no: str
    right_type: str
    right_nature: str
    usage: str
    land_area: float
    area_m2: float
    term_from: dt.date
    term_until: dt.date
    style: str = "new"  # new: 不动产权证书; old: 房屋所有权证

    def fields(self) -> dict:
        f = {"certificate_no": self.certificate_no, "owners": "、".join(self.owners), "co_ownership": self.co_ownership,
             "location": self.location, "right_nature": self.right_nature, "usage": self.usage, "area_m2": self.area_m2}  # fmt: skip
        if self.style == "new":
            f.update(unit_no=self.unit_no, right_type=self.right_type, term=f"{self.term_from.isoformat()}至{self.term_until.isoformat()}")
        return f


def random_property(rng: random.Random, owner: str | None = None, style: str | None = None, joint: bool | None = None) -> PropertyCert:
    abbr, city, region = rng.choice(PROVINCES)
    style = style or rng.choice(("new", "new", "old"))
    joint = rng.random() < 0.4 if joint is None else joint
    owners = [owner or random_name(rng)] + ([random_name(rng)] if joint else [])
    year = rng.randint(2016, 2025)
    if style == "new":
        number = f"{abbr}({year}){city}不动产权第{rng.randint(0, 9_999_999):07d}号"
    else:
        number = f"{city[:2]}房权证{rng.choice(('市区', '园区', '新区'))}字第{rng.randint(10_000_000, 99_999_999)}号"
    location = f"{city}{rng.choice(('工业园区', '高新区', '滨江区', '朝阳区'))}{rng.choice(ESTATES)}{rng.randint(1, 40)}幢{rng.randint(1, 33)}{rng.randint(1, 4):02d}室"
    unit = f"{region}{rng.randint(0, 999_999):06d}GB{rng.randint(0, 99_999):05d}F{rng.randint(0, 99_999_999):08d}"
    start = dt.date(rng.randint(2000, 2018), rng.randint(1, 12), 1)
    return PropertyCert(
        certificate_no=number, owners=owners, co_ownership="共同共有" if joint else "单独所有", location=location, unit_no=unit,
        right_type="国有建设用地使用权/房屋所有权", right_nature=rng.choice(("出让/商品房", "出让/市场化商品房")),
        usage=rng.choice(("城镇住宅用地/住宅", "城镇住宅用地/成套住宅")), land_area=round(rng.uniform(8000, 60000), 2),
        area_m2=round(rng.uniform(45, 180), 2), term_from=start, term_until=start.replace(year=start.year + 70) - dt.timedelta(days=1),
        style=style,
    )  # fmt: skip


def _d(d: dt.date) -> str:
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def render_property(cv, pc: PropertyCert, rng: random.Random, nprng: np.random.Generator) -> None:
    del nprng
    W, H = A4
    font = pick_font(rng, "sans", "serif")
    size = rng.uniform(10.5, 12)
    left, right = 60.0, W - 60.0
    label_w = 110.0
    title = "不动产权证书" if pc.style == "new" else "房屋所有权证"
    bold_text(cv, W / 2, H - 90, title, font, 24, align="centre")
    cv.setFont(font, size)
    cv.drawString(left, H - 140, pc.certificate_no)
    if pc.style == "new":
        rows = [("权利人", "、".join(pc.owners)), ("共有情况", pc.co_ownership), ("坐落", pc.location),
                ("不动产单元号", " ".join((pc.unit_no[:6], pc.unit_no[6:12], pc.unit_no[12:19], pc.unit_no[19:]))),
                ("权利类型", pc.right_type), ("权利性质", pc.right_nature), ("用途", pc.usage),
                ("面积", f"共有宗地面积{pc.land_area:.2f}㎡/房屋建筑面积{pc.area_m2:.2f}㎡"),
                ("使用期限", f"国有建设用地使用权 {_d(pc.term_from)}起{_d(pc.term_until)}止"),
                ("权利其他状况", "专有建筑面积{:.2f}㎡，分摊建筑面积{:.2f}㎡".format(pc.area_m2 * 0.8, pc.area_m2 * 0.2))]  # fmt: skip
    else:
        rows = [("房屋所有权人", "、".join(pc.owners)), ("共有情况", pc.co_ownership), ("房屋坐落", pc.location),
                ("登记时间", _d(pc.term_from)), ("房屋性质", pc.right_nature), ("规划用途", pc.usage),
                ("建筑面积", f"{pc.area_m2:.2f}㎡"), ("附记", "本证书为样本，非真实权属证书")]  # fmt: skip
    y = H - 160
    cv.setLineWidth(0.8)
    for label, value in rows:
        lines = wrap_text(value, font, size, right - left - label_w - 16)
        h = max(1, len(lines)) * size * 1.45 + size * 1.2
        cv.rect(left, y - h, label_w, h)
        cv.rect(left + label_w, y - h, right - left - label_w, h)
        cv.drawString(left + 8, y - size * 1.5, label)
        for k, line in enumerate(lines):
            cv.drawString(left + label_w + 8, y - size * 1.5 - k * size * 1.45, line)
        y -= h
    cv.showPage()


__all__ = ["PropertyCert", "random_property", "render_property"]
