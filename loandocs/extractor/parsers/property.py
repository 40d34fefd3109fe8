"""不动产权证书 (real estate title certificate, 2015+) and the older 房屋所有权证 parser.

Both are a two-column register page: a label on the left, its value on the right. The
certificate number is printed above the register (苏(2021)苏州市不动产权第0123456号, or
X房权证XX字第NNN号 on the older certificate).
"""

from __future__ import annotations

import re

from loandocs.extractor.layout import Flat, Row, Span
from loandocs.extractor.parsers.common import field_from
from loandocs.extractor.parsers.labels import DATE, iso_date, labelled, sub_span
from loandocs.models import ExtractedField

OWNER_LABELS = ("权利人", "房屋所有权人", "所有权人")
SHARE_LABELS = ("共有情况",)
LOCATION_LABELS = ("房屋坐落", "坐落")
UNIT_LABELS = ("不动产单元号",)
RIGHT_TYPE_LABELS = ("权利类型",)
NATURE_LABELS = ("权利性质", "房屋性质")
USAGE_LABELS = ("规划用途", "用途")
AREA_LABELS = ("建筑面积", "面积")
TERM_LABELS = ("使用期限", "土地使用期限", "土地使用年限")
OTHER_LABELS = ("权利其他状况", "附记", "登记时间", "登记机构", "填发单位")
ALL_LABELS = (OWNER_LABELS + SHARE_LABELS + LOCATION_LABELS + UNIT_LABELS + RIGHT_TYPE_LABELS + NATURE_LABELS + USAGE_LABELS
              + AREA_LABELS + TERM_LABELS + OTHER_LABELS)  # fmt: skip
_CERT_NO = re.compile(r"[\u4e00-\u9fff]\(\d{4}\)[\u4e00-\u9fff]{2,12}不动产权第\d{7}号|[\u4e00-\u9fff]{1,8}房权证[\u4e00-\u9fff]{0,8}字第\d{4,12}号")
_UNIT = re.compile(r"\d{12}[A-Z]{2}\d{5}[FLQW]\d{8}")
_AREA = re.compile(r"(?:房屋)?建筑面积[:]?(\d+(?:\.\d{1,2})?)\s*(?:㎡|m2|平方米|m²)|(\d+(?:\.\d{1,2})?)\s*(?:㎡|m2|平方米|m²)")
_TERM = re.compile(r"(\d{4}\D{1,2}\d{1,2}\D{1,2}\d{1,2}日?)\s*(?:起|至|-|~)?\s*(\d{4}\D{1,2}\d{1,2}\D{1,2}\d{1,2}日?)\s*止?")
_NAME_SPLIT = re.compile(r"[、,;/ ]+")


def owners(value: object) -> list[str]:
    """The names of a holders field (``张三、李四``)."""
    return [n for n in _NAME_SPLIT.split(str(value or "")) if n]


def _stops(own: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(lab for lab in ALL_LABELS if lab not in own and not any(lab in o for o in own))


def parse_property(rows: list[Row], page: int = 1) -> dict[str, ExtractedField]:
    fields: dict[str, ExtractedField] = {}
    flat = Flat(rows)
    m = _CERT_NO.search(flat.text)
    if m:
        fields["certificate_no"] = field_from(m.group(), flat.group(m, 0), page)
    simple = (("owners", OWNER_LABELS, False), ("co_ownership", SHARE_LABELS, False), ("location", LOCATION_LABELS, True),
              ("right_type", RIGHT_TYPE_LABELS, True), ("right_nature", NATURE_LABELS, False), ("usage", USAGE_LABELS, False))  # fmt: skip
    for name, labels, wrap in simple:
        hit = labelled(rows, labels, _stops(labels), wrap=wrap)
        if hit and hit.text:
            value = hit.text
            if name == "owners":
                value = "、".join(owners(value))
            fields[name] = field_from(value, hit.span, page)
    hit = labelled(rows, UNIT_LABELS, _stops(UNIT_LABELS))
    if hit:
        um = _UNIT.search(hit.text.upper())
        if um:
            fields["unit_no"] = field_from(um.group(), sub_span(hit.span, hit.text, um), page)
    area = _area(rows, page)
    if area:
        fields["area_m2"] = area
    hit = labelled(rows, TERM_LABELS, _stops(TERM_LABELS), wrap=True)
    if hit:
        tm = _TERM.search(hit.text)
        if tm and (a := iso_date(tm.group(1))) and (b := iso_date(tm.group(2))):
            fields["term"] = field_from(f"{a}至{b}", sub_span(hit.span, hit.text, tm), page)
        elif (d := DATE.search(hit.text)) and (until := iso_date(d.group())):
            fields["term"] = field_from(f"至{until}", sub_span(hit.span, hit.text, d), page)
    return fields


def _area(rows: list[Row], page: int) -> ExtractedField | None:
    hit = labelled(rows, AREA_LABELS, _stops(AREA_LABELS), wrap=True)
    if not hit:
        return None
    # 共有宗地面积 / 房屋建筑面积: the building's area is the one a mortgage values.
    m = None
    for cand in _AREA.finditer(hit.text):
        if cand.group(1):
            m = cand
            break
        m = m or cand
    if m is None:
        bare = re.search(r"\d+\.\d{1,2}|\d+", hit.text)  # 建筑面积(㎡) | 98.76: the unit is in the label
        return field_from(float(bare.group()), Span(hit.span.chars[bare.start() : bare.end()]), page) if bare else None
    g = 1 if m.group(1) else 2
    return field_from(float(m.group(g)), Span(hit.span.chars[m.start(g) : m.end(g)]), page)


__all__ = ["owners", "parse_property"]
