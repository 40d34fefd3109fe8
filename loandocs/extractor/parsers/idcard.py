"""Chinese resident ID card parsers (front: 人像面, back: 国徽面).

What we know about the card is used to read it better: the ID number's alphabet and check
digit, the birth date and sex it encodes, the fixed order of the rows, the address spanning
several rows in the value column, and the closed list of 民族 values.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re

from loandocs.extractor import idnumber
from loandocs.extractor.layout import Row, Span, find_label
from loandocs.extractor.parsers.common import field_from
from loandocs.extractor.vocab import ETHNICITIES, TRADITIONAL_TO_SIMPLIFIED
from loandocs.models import ExtractedField

# Letters the recogniser confuses with digits inside an ID number. Digits are never changed:
# a wrong digit must show up as a failed checksum, not be "repaired".
_ID_CONFUSABLE = str.maketrans({"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "|": "1", "Z": "2", "S": "5", "B": "8", "G": "6", "×": "X", "*": "X"})
_ID_RUN = re.compile(r"[0-9X]{18,}")
_CJK = re.compile(r"[\u4e00-\u9fff·]")
# Year, month and day with the month's 月 read (the year's 年 may be lost), or eight digits.
# A month without its day (a stamp over it: 1981年11月) matches neither: it is never
# completed by taking the month's second digit for the day.
_DATE_ZH = re.compile(r"(\d{4})年?(\d{1,2})月(\d{1,2})(?!\d)日?|(\d{4})(\d{2})(\d{2})(?!\d)")
_VALIDITY = re.compile(r"(\d{4})\D{0,2}(\d{2})\D{0,2}(\d{2})\D{0,3}?(?:(\d{4})\D{0,2}(\d{2})\D{0,2}(\d{2})|(长期|长|期))")

FRONT_FIELDS = ("name", "sex", "ethnicity", "birth_date", "address", "id_number")
BACK_FIELDS = ("issuing_authority", "valid_from", "valid_until")


def _cjk_span(span: Span) -> Span:
    return Span([c for c in span.chars if _CJK.match(c.ch)])


def find_id_number(rows: list[Row]) -> tuple[str, Span, int] | None:
    """The 18-character ID number: (value, span, row index). Prefers a valid check digit."""
    best: tuple[int, str, Span, int] | None = None
    for ri, row in enumerate(rows):
        mapped = row.text.upper().translate(_ID_CONFUSABLE)
        for m in _ID_RUN.finditer(mapped):
            run = m.group()
            for off in range(0, len(run) - 17):
                cand = run[off : off + 18]
                if "X" in cand[:17]:
                    continue
                rank = 2 if idnumber.is_valid_checksum(cand) else (1 if idnumber.birth_date(cand) else 0)
                if best is None or rank > best[0]:
                    s = m.start() + off
                    best = (rank, cand, row.span(s, s + 18), ri)
    if best is None:
        return None
    return best[1], best[2], best[3]


def _label_row(rows: list[Row], label: str, before: int | None = None) -> tuple[int, int] | None:
    for ri, row in enumerate(rows[:before]):
        hit = find_label(row, label)
        if hit:
            return ri, hit[1]
    return None


def _iso(y: str, m: str, d: str) -> str | None:
    try:
        return dt.date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def parse_front(rows: list[Row], page: int = 1) -> dict[str, ExtractedField]:
    fields: dict[str, ExtractedField] = {}
    idn = find_id_number(rows)
    id_row = idn[2] if idn else None
    if idn:
        fields["id_number"] = field_from(idn[0], idn[1], page)

    hit = _label_row(rows, "姓名", id_row)
    if hit:
        ri, end = hit
        span = _cjk_span(rows[ri].after(end).span(0, len(rows[ri].chars) - end))
        if span.chars:
            fields["name"] = field_from(span.text, span, page)

    sex_hit = _label_row(rows, "性别", id_row)
    if "name" not in fields and sex_hit is not None and sex_hit[0] > 0:
        # The 姓名 label was lost (a watermark across it): a row of two to four Han
        # characters alone right above the 性别 row is the name, kept under review.
        above = _cjk_span(rows[sex_hit[0] - 1].span(0, len(rows[sex_hit[0] - 1].chars)))
        if 2 <= len(above.chars) <= 4 and len(above.chars) == len(rows[sex_hit[0] - 1].chars):
            fields["name"] = field_from(above.text, above, page, min(above.confidence, UNLABELLED))

    hit = sex_hit
    if hit:
        ri, end = hit
        row = rows[ri]
        for i in range(end, min(end + 3, len(row.chars))):
            if row.chars[i].ch in "男女":
                fields["sex"] = field_from(row.chars[i].ch, row.span(i, i + 1), page)
                break
        m = re.search(r"民?族|民", row.text[end:])
        if m:
            start = end + m.end()
            fields.update(_ethnicity(row.span(start, len(row.chars)), page))

    hit = _label_row(rows, "出生", id_row)
    if hit:
        ri, end = hit
        row = rows[ri]
        m = _DATE_ZH.search(row.text, end)
        if m:
            iso = _iso(*(m.groups()[:3] if m.group(1) else m.groups()[3:]))
            if iso:
                fields["birth_date"] = field_from(iso, row.span(m.start(), m.end()), page)

    if "birth_date" not in fields and _label_row(rows, "出生", id_row) is None:
        # The label was lost (a watermark across it): a whole date with 年 and 月 read on a
        # row above the number is the birth date, kept under review.
        for row in rows[:id_row]:
            m = _DATE_ZH.search(row.text)
            if m and m.group(1):
                iso = _iso(*m.groups()[:3])
                if iso:
                    span = row.span(m.start(), m.end())
                    fields["birth_date"] = field_from(iso, span, page, min(span.confidence, UNLABELLED))
                    break

    hit = _label_row(rows, "住址", id_row)
    if hit:
        ri, end = hit
        first = rows[ri]
        chars = list(first.chars[end:])
        value_x0 = chars[0].bbox[0] if chars else first.chars[end - 1].bbox[2]
        tol = 0.6 * (first.chars[0].bbox[3] - first.chars[0].bbox[1])
        stop = id_row if id_row is not None else len(rows)
        for row in rows[ri + 1 : stop]:
            if find_label(row, "公民身份号码") or find_label(row, "身份号码"):
                break
            # Continuation rows start in the value column, not under the labels.
            if row.chars[0].bbox[0] < value_x0 - tol:
                break
            chars.extend(row.chars)
        span = Span([c for c in chars if c.ch.strip()])
        if span.chars:
            fields["address"] = field_from(span.text, span, page)

    # Sex and birth date are encoded in the ID number; use them only where the printed value
    # was not read at all, and say so (source "derived").
    if idn and "birth_date" not in fields and idnumber.birth_date(idn[0]):
        fields["birth_date"] = field_from(idnumber.birth_date(idn[0]).isoformat(), None, page, 0.5 * fields["id_number"].confidence, "derived")  # type: ignore[union-attr]
    if idn and "sex" not in fields and idnumber.sex(idn[0]):
        fields["sex"] = field_from(idnumber.sex(idn[0]), None, page, 0.5 * fields["id_number"].confidence, "derived")
    return fields


def _ethnicity(span: Span, page: int) -> dict[str, ExtractedField]:
    span = _cjk_span(span)
    text = span.text.translate(TRADITIONAL_TO_SIMPLIFIED)
    if not text:
        return {}
    if text in ETHNICITIES:
        return {"ethnicity": field_from(text, span, page)}
    # A known value followed by noise, or one misread character: take the closest entry.
    for n in range(min(len(text), 4), 0, -1):
        if text[:n] in ETHNICITIES:
            sub = Span(span.chars[:n])
            return {"ethnicity": field_from(text[:n], sub, page)}
    close = difflib.get_close_matches(text, ETHNICITIES, n=1, cutoff=0.5)
    if close:
        return {"ethnicity": field_from(close[0], span, page, span.confidence * 0.7)}
    return {"ethnicity": field_from(text, span, page, span.confidence * 0.5)}


# An issuing authority recognised by its own shape, where its label was not read (a watermark
# across 签发机关): a public security bureau, branch or station, alone on its row.
_AUTHORITY = re.compile(r"[\u4e00-\u9fff]{2,12}公安局(?:[\u4e00-\u9fff]{1,8}(?:分局|派出所))?|[\u4e00-\u9fff]{2,12}派出所")
# A value found without its label is kept but not shown as sure.
UNLABELLED = 0.7


def _validity_row(rows: list[Row]) -> tuple[int, int] | None:
    """The 有效期限 row, or failing its label, the row whose text is a validity period."""
    hit = _label_row(rows, "有效期限")
    if hit:
        return hit
    for ri, row in enumerate(rows):
        m = _VALIDITY.search(row.text)
        if m:
            return ri, m.start()
    return None


def parse_back(rows: list[Row], page: int = 1) -> dict[str, ExtractedField]:
    fields: dict[str, ExtractedField] = {}
    validity_row = None
    labelled = _label_row(rows, "有效期限") is not None
    hit = _validity_row(rows)
    if hit:
        validity_row, end = hit
        row = rows[validity_row]
        m = _VALIDITY.search(row.text, end)
        if m:
            g = m.groups()
            start_iso = _iso(g[0], g[1], g[2])
            if start_iso:
                fields["valid_from"] = field_from(start_iso, row.span(m.start(1), m.end(3)), page)
            if g[6]:
                fields["valid_until"] = field_from("long_term", row.span(m.start(7), m.end(7)), page)
            else:
                until = _iso(g[3], g[4], g[5])
                if until:
                    conf = None
                    span = row.span(m.start(4), m.end(6))
                    if start_iso and not _plausible_term(start_iso, until):
                        conf = span.confidence * 0.6  # cards run 5, 10 or 20 years to the day
                    fields["valid_until"] = field_from(until, span, page, conf)

    if not labelled:
        for f in fields.values():
            f.confidence = min(f.confidence, UNLABELLED)
    hit = _label_row(rows, "签发机关", validity_row)
    if hit is None and "valid_from" in fields and fields["valid_from"].bbox:
        # The authority's value starts in the value column, where the validity period does;
        # what stands left of it is the (misread) label.
        x = fields["valid_from"].bbox[0]
        for row in rows[:validity_row]:
            tol = 0.5 * (row.bbox[3] - row.bbox[1])
            start = next((i for i, c in enumerate(row.chars) if c.bbox[0] >= x - tol), None)
            m = _AUTHORITY.fullmatch(row.text[start:]) if start is not None else None
            if m:
                span = row.span(start + m.start(), start + m.end())  # type: ignore[operator]
                fields["issuing_authority"] = field_from(m.group(), span, page, min(span.confidence, UNLABELLED))
                break
    if hit:
        ri, end = hit
        chars = list(rows[ri].chars[end:])
        value_x0 = chars[0].bbox[0] if chars else rows[ri].chars[end - 1].bbox[2]
        for row in rows[ri + 1 : validity_row]:
            if row.chars[0].bbox[0] >= value_x0 - 10:
                chars.extend(row.chars)
        span = _cjk_span(Span(chars))
        if span.chars:
            fields["issuing_authority"] = field_from(span.text, span, page)
    return fields


def _plausible_term(start: str, until: str) -> bool:
    a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(until)
    return (b.month, b.day) == (a.month, a.day) and b.year - a.year in (5, 10, 20)
