"""Draw statements of the layout zoo (``statement_families``) as born-digital PDFs and scans,
with ground truth.

The account data come from ``statement.random_statement`` (the same generator as the
checked-in set); only the drawing differs per family. Ground truth follows what is printed:
the period as printed (from the transactions where a family prints none), the account number
as printed (``6222********5505`` when masked, spaces removed), the description from the most
specific text column (the summary, not the transaction type).

    python samples/make_statement_samples.py [--out samples/statements]
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import numpy as np

from loandocs.samplegen.financial import (
    A4,
    bold_text,
    jpeg_bytes,
    money,
    pick_font,
    rasterise,
    scan_effect,
    string_width,
    wrap_text,
)
from loandocs.samplegen.financial_set import _pdf, _person, _rngs, draw_page_image
from loandocs.samplegen.statement import Statement, draw_cell, random_statement
from loandocs.samplegen.statement_families import BY_NAME, FAMILIES, HELD_OUT, Family

_NUMERIC = {"amount", "credit", "debit", "balance"}
_TEXT = {"desc", "cp", "remark", "place"}  # columns that share the width left over
_FW = str.maketrans("0123456789", "０１２３４５６７８９")


def _type_of(desc: str) -> str:
    """A coarse transaction type, less specific than the summary."""
    for words, t in ((("工资", "薪"), "代发"), (("息",), "结息"), (("取现", "取款"), "取款"),
                     (("还款",), "还款"), (("转账", "汇入", "存入"), "转账"), (("代扣", "费", "充值"), "代扣")):
        if any(w in desc for w in words):
            return t
    return "消费"


def _date(d: dt.date, fmt: str) -> str:
    if fmt == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    return {"iso": d.isoformat(), "slash": d.strftime("%Y/%m/%d"), "compact": d.strftime("%Y%m%d"),
            "dot": d.strftime("%Y.%m.%d")}[fmt]


def _money(fam: Family, c: int, signed: bool = False) -> str:
    s = money(c if signed else abs(c), sep=fam.thousands, sign=fam.plus if signed else "")
    if fam.prefix:
        s = ("-" + fam.prefix + s[1:]) if s.startswith("-") else fam.prefix + s
    return s.translate(_FW) if fam.fullwidth else s


def account_as_printed(account: str, form: str) -> str:
    if form == "masked":
        return f"{account[:4]} **** **** {account[-4:]}"
    if form == "spaced":
        return " ".join(account[i:i + 4] for i in range(0, len(account), 4))
    return account


def _cells(st: Statement, fam: Family, rng: random.Random) -> list[dict[str, list[str]]]:
    out = []
    for i, t in enumerate(st.txns):
        a = t.shown
        tm = f"{rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        date = _date(t.date, fam.date_fmt)
        date = date.translate(_FW) if fam.fullwidth else date
        c: dict[str, list[str]] = {
            "no": [str(i + 1)], "date": [date], "time": [tm], "desc": [t.description],
            "type": [_type_of(t.description)], "remark": [rng.choice(("", "", "网银", "手机银行"))],
            "balance": [_money(fam, t.balance)], "cp": [t.counterparty],
            "cpacct": ["62" + "".join(str(rng.randint(0, 9)) for _ in range(14)) if t.counterparty else ""],
            "currency": [rng.choice(("人民币", "CNY")) if fam.name != "cmb" else "人民币"],
            "channel": [rng.choice(("手机银行", "网上银行", "柜面", "POS"))], "status": ["交易成功"],
            "place": [rng.choice(("", "网上银行", "杭州分行", "ATM"))],
        }
        if fam.time == "inline":
            c["date"] = [f"{date} {tm}"]
        elif fam.time == "line2":
            c["date"] = [date, tm]
        if fam.amount_form == "signed":
            c["amount"] = [_money(fam, a, signed=True)]
        elif fam.amount_form == "suffix":
            c["amount"] = [_money(fam, a) + (" CR" if a > 0 else " DR")]
        elif fam.amount_form == "split":
            c["credit"], c["debit"] = ([_money(fam, a)], [""]) if a > 0 else ([""], [_money(fam, a)])
        else:
            c["dc"], c["amount"] = [fam.dc_values[1] if a > 0 else fam.dc_values[0]], [_money(fam, a)]
        out.append(c)
    return out


def render(cv, st: Statement, fam: Family, rng: random.Random, nprng: np.random.Generator) -> int:
    """Draw every page of ``st`` in family ``fam``; returns the page count."""
    W, H = (A4[1], A4[0]) if fam.landscape else A4
    cv.setPageSize((W, H))
    font = pick_font(rng, *fam.font_style)
    size = fam.size * rng.uniform(0.96, 1.06)
    lead, pad = size * 1.25, size * 0.5
    left = rng.uniform(30, 46)
    right, top, bottom = W - left, H - rng.uniform(34, 48), rng.uniform(40, 52)
    cols = list(fam.columns)
    cells = _cells(st, fam, rng)
    widths: dict[str, float] = {}
    for key, head in cols:
        if key not in _TEXT:
            widest = max([string_width(s, font, size) for c in cells for s in c[key]]
                         + [string_width(head, font, size) if key not in _NUMERIC else 0])
            widths[key] = widest + 2 * pad + rng.uniform(4, 14)
    text_keys = [k for k, _ in cols if k in _TEXT]
    rest = (right - left) - sum(widths.values())
    for k in text_keys:
        widths[k] = rest / len(text_keys)
    if fam.wrap_desc and "desc" in widths and len(text_keys) > 1:
        give = widths["desc"] * 0.45  # narrow enough that the longer summaries wrap
        widths["desc"] -= give
        for k in text_keys:
            if k != "desc":
                widths[k] += give / (len(text_keys) - 1)
    xs, x = {}, left
    for key, _ in cols:
        xs[key] = x
        x += widths[key]
    wrapped = [{k: [ln for s in c[k] for ln in wrap_text(s, font, size, widths[k] - 2 * pad)] for k, _ in cols}
               for c in cells]
    heights = [max(len(v) for v in w.values()) * lead + 2 * pad for w in wrapped]
    heads = {k: wrap_text(h, font, size, widths[k] - 2 * pad) for k, h in cols}
    head_h = max(len(v) for v in heads.values()) * lead + 2 * pad

    info = [(fam.holder_label, st.holder), (fam.account_label, account_as_printed(st.account, fam.account_form))]
    if fam.currency_label:
        info.append((fam.currency_label, fam.currency_value))
    if fam.period_printed:
        period = _date(st.period_start, fam.date_fmt) + fam.period_sep + _date(st.period_end, fam.date_fmt)
        info.append((fam.period_label, period))
    summary = []
    if fam.summary_labels:
        o, c, cr, db = fam.summary_labels
        summary = [(o, _money(fam, st.opening)), (c, _money(fam, st.closing)), (cr, _money(fam, st.credits)),
                   (db, _money(fam, st.debits))]
    if fam.summary_top:
        info += summary
    info_h = (len(info) + 1) // 2 * size * 2.0
    first_top = top - size * 5.0 - info_h
    sub_h = lead * 1.6 if fam.subtotals else 0.0

    pages, cur, y = [], [], first_top - head_h
    for i, h in enumerate(heights):
        if y - h - sub_h < bottom + 20 and cur:
            pages.append(cur)
            cur, y = [], top - size * 2.6 - (head_h if fam.repeat_header else 0)
        cur.append(i)
        y -= h
    pages.append(cur)
    if not fam.summary_top and summary and y - sub_h - size * 5 < bottom + 20:
        pages.append([])
    n = len(pages)

    def header(y: float) -> float:
        cv.setFillGray(0.88)
        cv.rect(left, y - head_h, right - left, head_h, stroke=0, fill=1)
        cv.setFillGray(0)
        for key, _ in cols:
            align = fam.header_align if key in _NUMERIC or key == "date" else "l" if fam.header_align == "l" else "c"
            draw_cell(cv, heads[key], xs[key], widths[key], y, head_h, align, font, size, lead, pad)
        cv.setLineWidth(0.8)
        cv.line(left, y - head_h, right, y - head_h)
        return y - head_h

    for p, idx in enumerate(pages):
        cv.setFont(font, size)
        if p == 0:
            bold_text(cv, (left + right) / 2, top - size * 1.6, fam.issuer, font, size * 1.7, "centre")
            yy = top - size * 4.4
            for k, (lab, val) in enumerate(info):
                text = f"{lab}：{val}" if lab else val
                cv.setFont(font, size * 1.05)
                cv.drawString(left + (k % 2) * (right - left) / 2, yy, text)
                if k % 2:
                    yy -= size * 2.0
            y = first_top
        else:
            cv.drawString(left, top - size, f"{fam.holder_label}：{st.holder}")
            y = top - size * 2.6
        y0 = y
        if idx and (p == 0 or fam.repeat_header):
            y = header(y)
        for k, i in enumerate(idx):
            h = heights[i]
            if fam.ruling == "zebra" and k % 2:
                cv.setFillGray(0.93)
                cv.rect(left, y - h, right - left, h, stroke=0, fill=1)
                cv.setFillGray(0)
            for key, _ in cols:
                align = "r" if key in _NUMERIC else fam.date_align if key == "date" else \
                    "c" if key in ("no", "dc", "currency", "time", "status", "channel") else "l"
                draw_cell(cv, wrapped[i][key], xs[key], widths[key], y, h, align, font, size, lead, pad)
            if fam.ruling in ("grid", "hlines"):
                cv.setLineWidth(0.4)
                cv.line(left, y - h, right, y - h)
            y -= h
        if idx and fam.ruling == "grid":
            cv.setLineWidth(0.5)
            for key, _ in cols:
                cv.line(xs[key], y0, xs[key], y)
            cv.line(right, y0, right, y)
        if idx and fam.subtotals:
            cr = sum(st.txns[i].shown for i in idx if st.txns[i].shown > 0)
            db = -sum(st.txns[i].shown for i in idx if st.txns[i].shown < 0)
            cv.setFont(font, size)
            cv.drawString(left + pad, y - lead * 1.1,
                          f"本页收入合计：{_money(fam, cr)}    本页支出合计：{_money(fam, db)}    本页笔数：{len(idx)}")
            y -= sub_h
        if p == n - 1 and not fam.summary_top and summary:
            cv.setFont(font, size * 1.05)
            for k, (lab, val) in enumerate(summary):
                cv.drawString(left + (k % 2) * (right - left) / 2, y - size * 2.2 - (k // 2) * size * 2.0, f"{lab}：{val}")
        cv.setFont(font, size)
        cv.drawCentredString(W / 2, bottom - size, f"第 {p + 1} 页 共 {n} 页")
        cv.showPage()
    return n


def truth(st: Statement, fam: Family, pages: int) -> dict:
    fields = st.fields()
    fields["account_number"] = account_as_printed(st.account, fam.account_form).replace(" ", "")
    if fam.bank is None:
        del fields["bank_name"]
    else:
        fields["bank_name"] = fam.bank
    if not fam.summary_labels:  # not printed: what the rows add up to is all there is
        fields["total_credits"] = sum(t.shown for t in st.txns if t.shown > 0) / 100
        fields["total_debits"] = -sum(t.shown for t in st.txns if t.shown < 0) / 100
    if not fam.period_printed:
        fields["period_start"] = min(t.date for t in st.txns).isoformat()
        fields["period_end"] = max(t.date for t in st.txns).isoformat()
    return {"doc_type": "bank_statement", "pages": list(range(1, pages + 1)), "fields": fields,
            "transactions": st.transactions(), "edited_row": st.edited_row, "family": fam.name}


def make_sample(fam: Family, seed: int, kind: str, k: int) -> tuple[bytes, dict]:
    """kind: ``pdf`` (born-digital), ``edited`` (born-digital, one amount altered) or
    ``scan`` (short statement, pages rasterised and degraded into an image-only PDF)."""
    name = f"{fam.name}_{kind}_{k:02d}"
    rng, nprng = _rngs(seed, "zoo:" + name)
    holder = _person(seed, name).name
    rows = (14, 22) if kind == "scan" else (40, 90)
    st = random_statement(rng, holder, rows=rows, edited=kind == "edited", bank=None)
    n: list[int] = []
    pdf = _pdf(lambda cv: n.append(render(cv, st, fam, rng, nprng)))
    if kind == "scan":
        gray = rng.random() < 0.5
        imgs = [jpeg_bytes(scan_effect(p, rng, nprng, gray), rng.randint(72, 82))
                for p in rasterise(pdf, rng.uniform(160, 180))]
        pdf = _pdf(lambda cv: [draw_page_image(cv, jp) for jp in imgs])
    variant = "scan" if kind == "scan" else "pdf"
    return pdf, {"file": name + ".pdf", "variant": variant, "family": fam.name,
                 "held_out": fam.name in HELD_OUT, "documents": [truth(st, fam, n[0])]}


# Scans are slow to read (OCR): a few families get one each, tuned and held-out alike.
SCAN_FAMILIES = ("icbc", "cmb", "psbc", "rural", "bocom", "wechat", "bilingual", "citic")


def generate_zoo(out: str | Path, seed: int = 2026, families: tuple[str, ...] | None = None,
                 kinds: tuple[str, ...] = ("pdf", "edited", "scan")) -> list[dict]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for fam in FAMILIES:
        if families is not None and fam.name not in families:
            continue
        for kind in kinds:
            if kind == "scan" and fam.name not in SCAN_FAMILIES:
                continue
            pdf, gt = make_sample(fam, seed, kind, 1)
            (out / gt["file"]).write_bytes(pdf)
            (out / gt["file"].replace(".pdf", ".json")).write_text(
                json.dumps(gt, ensure_ascii=False, indent=1), encoding="utf-8")
            entries.append({k: gt[k] for k in ("file", "variant", "family", "held_out")})
    (out / "manifest.json").write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")
    return entries


__all__ = ["FAMILIES", "HELD_OUT", "BY_NAME", "make_sample", "generate_zoo", "render", "truth"]
