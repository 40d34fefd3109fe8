"""Pages of documents that are none of the loan materials, for the classifier to turn away
(or, for the credit report, to give to its own kind): a tenancy contract, an electricity
bill, a payslip table, each naming a person and an 18-digit ID number like a card does.

Drawn with PIL on a white A4 page at 150 dpi; numpy RGB uint8.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
from PIL import Image, ImageDraw

from loandocs.samplegen import idcard
from loandocs.samplegen.identity import REFERENCE_DATE, Identity, random_name

KINDS = ("contract", "utility_bill", "payslip", "credit_report")
# What the pipeline should call each: none of ours, except the credit report, which has a kind.
EXPECTED = {"contract": "unknown", "utility_bill": "unknown", "payslip": "unknown", "credit_report": "credit_report"}
W, H = 1240, 1754


def _page(rng: random.Random):
    img = Image.new("RGB", (W, H), (255, 255, 255))
    fnt = rng.choice(idcard.available_fonts())
    return img, ImageDraw.Draw(img), fnt


def _lines(d: ImageDraw.ImageDraw, fnt, lines: list[str], y: float, size: float, x: float = 110, lead: float = 1.9) -> float:
    f = idcard.font(fnt, size)
    for ln in lines:
        d.text((x, y), ln, font=f, fill=(20, 20, 20))
        y += size * lead
    return y


def _title(d, fnt, text: str, size: float = 52) -> None:
    f = idcard.font(fnt, size)
    d.text((W / 2, 130), text, font=f, fill=(0, 0, 0), anchor="mm")


def _contract(ident: Identity, rng: random.Random) -> np.ndarray:
    img, d, fnt = _page(rng)
    _title(d, fnt, rng.choice(("房屋租赁合同", "劳动合同书", "车位租赁协议")))
    other = random_name(rng)
    rent = rng.randint(15, 80) * 100
    _lines(d, fnt, [
        f"出租方（甲方）：{other}",
        f"承租方（乙方）：{ident.name}",
        f"乙方身份证号码：{ident.id_number}",
        f"联系地址：{ident.address[:20]}",
        "甲乙双方经友好协商，就房屋租赁事宜达成如下协议：",
        f"第一条 租赁期限自{REFERENCE_DATE.year}年1月1日起至{REFERENCE_DATE.year + 1}年12月31日止。",
        f"第二条 月租金为人民币{rent}元，按季度支付。",
        "第三条 乙方应按时缴纳水电费、物业管理费等费用。",
        "第四条 任何一方违约，应向对方支付违约金。",
        "本合同一式两份，甲乙双方各执一份，自双方签字之日起生效。",
        "甲方（签字）：                乙方（签字）：",
        f"签订日期：{REFERENCE_DATE.year}年{rng.randint(1, 11)}月{rng.randint(1, 28)}日",
    ], 240, 30)
    return np.asarray(img)


def _utility_bill(ident: Identity, rng: random.Random) -> np.ndarray:
    img, d, fnt = _page(rng)
    _title(d, fnt, rng.choice(("电费缴费通知单", "燃气费账单", "水费缴费通知单")))
    start = REFERENCE_DATE.replace(day=1) - dt.timedelta(days=30)
    used = rng.randint(80, 600)
    _lines(d, fnt, [
        f"户名：{ident.name}",
        f"户号：{rng.randint(10**9, 10**10 - 1)}",
        f"用电地址：{ident.address[:22]}",
        f"计费周期：{start:%Y-%m-%d}至{REFERENCE_DATE:%Y-%m-%d}",
        f"本期示数：{rng.randint(1000, 9000)}    上期示数：{rng.randint(100, 900)}",
        f"本期用量：{used}千瓦时",
        f"本期应缴金额：{used * 0.56:.2f}元",
        f"缴费截止日期：{REFERENCE_DATE + dt.timedelta(days=20):%Y-%m-%d}",
        "温馨提示：请按时缴费，逾期将产生违约金。",
        "客服热线：95598",
    ], 240, 30)
    return np.asarray(img)


def _payslip(ident: Identity, rng: random.Random) -> np.ndarray:
    img, d, fnt = _page(rng)
    _title(d, fnt, rng.choice(("员工工资条", "工资明细表")))
    f = idcard.font(fnt, 28)
    heads = ["月份", "基本工资", "绩效", "社保扣款", "个税", "实发"]
    base = rng.randint(40, 150) * 100
    y, xs = 260, [80, 260, 450, 620, 810, 980]
    d.text((80, 200), f"姓名：{ident.name}    工号：{rng.randint(10000, 99999)}", font=f, fill=(0, 0, 0))
    for x, h in zip(xs, heads):
        d.text((x, y), h, font=f, fill=(0, 0, 0))
    for m in range(1, 7):
        y += 56
        perf = rng.randint(0, 30) * 100
        ss, tax = base * 0.105, base * 0.03
        row = [f"{REFERENCE_DATE.year}-{m:02d}", f"{base:.2f}", f"{perf:.2f}", f"{ss:.2f}", f"{tax:.2f}", f"{base + perf - ss - tax:.2f}"]
        for x, v in zip(xs, row):
            d.text((x, y), v, font=f, fill=(20, 20, 20))
        d.line((70, y + 44, 1170, y + 44), fill=(120, 120, 120), width=1)
    return np.asarray(img)


def _credit_report(ident: Identity, rng: random.Random) -> np.ndarray:
    """The header page of a PBOC report: name and ID number in a table, like a card's."""
    import io

    from loandocs.samplegen.credit import random_report, render_report
    from loandocs.samplegen.financial import new_canvas, rasterise

    rep = random_report(rng, ident.name, ident.id_number, REFERENCE_DATE - dt.timedelta(days=5))
    buf = io.BytesIO()
    cv = new_canvas(buf, "report")
    render_report(cv, rep, rng)
    cv.save()
    return rasterise(buf.getvalue(), 150)[0]


def render(kind: str, ident: Identity, rng: random.Random) -> np.ndarray:
    return {"contract": _contract, "utility_bill": _utility_bill, "payslip": _payslip, "credit_report": _credit_report}[kind](ident, rng)
