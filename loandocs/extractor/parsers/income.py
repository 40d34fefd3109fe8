"""Income certificate (收入证明) parser.

Employers word certificates in many ways (free sentences, a key/value table, or both), so
each field has several patterns over the page's text, tried in order, and labels win over
sentences. Amounts written in capital numerals (大写) are read and cross-checked with the
digits: agreement raises confidence, disagreement lowers it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re

from loandocs.extractor.amounts import UPPER_RUN, parse_amount, parse_upper_amount, to_float
from loandocs.extractor.layout import Flat, Row, Span
from loandocs.extractor.parsers.common import field_from
from loandocs.extractor.parsers.idcard import find_id_number
from loandocs.models import ExtractedField

FIELDS = ("employee_name", "id_number", "employer", "position", "employment_start", "monthly_income", "annual_income", "issue_date", "contact_phone", "has_seal")

_AMOUNT = r"(?:人民币|RMB|¥|￥)?\s*(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)\s*(?:元|圆)?"
# The gap between a label and its digits may hold a capital-numeral amount: 月收入为人民币
# (大写)捌仟叁佰元整(¥8,300.00).
_GAP = r"[^\d\n]{0,30}?"
_MONTHLY = re.compile(r"(?:月均收入|月平均收入|月收入|月工资|月均工资|月薪|每月收入|每月工资|月度收入|月应发工资|月税前收入)" + _GAP + _AMOUNT)
# A certificate that lists salary parts (基本工资, 津贴...) ends with the total: prefer it.
_MONTHLY_TOTAL = re.compile(r"月(?:均)?(?:收入|工资|薪酬)(?:合计|总计|共计|总额)" + _GAP + _AMOUNT)
_ANNUAL = re.compile(r"(?:全年|年度|年)(?:总|税前|平均|均)?(?:收入|薪酬|薪资|薪|工资)" + _GAP + _AMOUNT)
# Words that start the next label on the same row ("姓名张三性别男"): a value stops there.
_STOP = r"(?=性别|身份|证件|工作|单位|职务|职位|岗位|入职|部门|电话|联系|账号|卡号|帐号|币种|户名|日期|[^\u4e00-\u9fff·]|$)"
_NAME_LABEL = re.compile(r"(?:员工姓名|姓名)[:]?([\u4e00-\u9fff·]{2,5}?)" + _STOP)
_NAME_SENTENCE = re.compile(r"兹(?:证明|有)[:]?([\u4e00-\u9fff·]{2,4}?)(?=同志|先生|女士|\(|,|身份证|系|为|性别|在|于|是|自)")
_SUFFIX = r"(?:股份有限公司|有限责任公司|有限公司|分公司|集团公司|集团|公司|银行|医院|大学|学院|学校|研究院|研究所|事务所|中心)"
# Greedy where the name fills the rest of a label or row (the longest suffix wins:
# 集团有限公司, not 集团); lazy inside a sentence.
_COMPANY = r"[\u4e00-\u9fff()]{2,40}" + _SUFFIX
_COMPANY_LAZY = r"[\u4e00-\u9fff()]{2,40}?" + _SUFFIX
_SEAL_NOTE = r"(?:\((?:盖章|公章|签章)\))?"
_EMPLOYER_LABEL = re.compile(r"(?:工作单位|单位名称|公司名称|用人单位|任职单位|证明单位|出具单位)" + _SEAL_NOTE + r"[:]?(" + _COMPANY + ")")
_EMPLOYER_ROW = re.compile(r"(?:单位|公司)?(?:盖章|公章)?[:]?(" + _COMPANY + ")" + _SEAL_NOTE)
_EMPLOYER_SENTENCE = re.compile(r"(?:系|为|在)(" + _COMPANY_LAZY + ")(?:的)?(?:员工|职工|正式员工|工作|任职)")
_POSITION_LABEL = re.compile(r"(?:担任职务|职务|职位|岗位)(?:为|是)?[:]?([\u4e00-\u9fffA-Za-z]{2,12}?)(?=入职|工作|月|年|部门|电话|联系|\n|,|。|$)")
_POSITION_SENTENCE = re.compile(r"(?:现任|担任|(?<![责主信])任)([\u4e00-\u9fffA-Za-z]{2,15}?)(?:职务|一职|岗位|职位|。|,|;)")
_START_LABEL = re.compile(r"(?:入职时间|入职日期|参加工作时间|入职年月|入司时间|工作时间)[:]?(\d{4})\s*[年./-]\s*(\d{1,2})")
_START_SENTENCE = re.compile(r"(?:自|于|从)(\d{4})年(\d{1,2})月(?:\d{1,2}日)?(?:起|入职|进入|加入|开始|至今)")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|(\d{4})-(\d{1,2})-(\d{1,2})|([〇零一二三四五六七八九]{2,4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}


def _cn_number(text: str) -> int:
    """二〇二六 -> 2026 (digit by digit); 二十四 -> 24 (with 十)."""
    if "十" not in text:
        return int("".join(str(_CN_DIGIT[c]) for c in text))
    tens, _, ones = text.partition("十")
    return (_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[ones] if ones else 0)
_PHONE = re.compile(r"(?:联系电话|电话|联系方式|Tel|TEL)[:]?\s*(1[3-9]\d{9}|(?:0\d{2,3}-?)?\d{7,8})")


def _amount_near(flat: Flat, m: re.Match[str], page: int) -> ExtractedField:
    """The amount matched in group 1, cross-checked against a capital-numeral amount (大写)
    written before the digits (in the gap after the label) or within 40 characters after."""
    span = flat.group(m, 1)
    digits = parse_amount(m.group(1))
    # After the digits, look only up to the next figure or label, so the 大写 of the annual
    # income that follows is not taken for the monthly one.
    tail = re.split(r"\d|年|月", flat.text[m.end() : m.end() + 40], maxsplit=1)[0]
    upper_m = UPPER_RUN.search(flat.text, m.start(), m.start(1)) or UPPER_RUN.search(tail)
    upper = parse_upper_amount(upper_m.group()) if upper_m else None
    conf = span.confidence
    if digits is not None and upper is not None:
        if upper == digits:
            conf = max(conf, 0.99)  # two independent readings agree
        else:
            conf = min(conf, 0.5)  # they disagree: a reviewer must look
    value = digits if digits is not None else upper
    return field_from(to_float(value), span, page, conf)


def _first(*tries: tuple[Flat, re.Pattern[str]]) -> tuple[Flat, re.Match[str], int] | None:
    for flat, p in tries:
        m = p.search(flat.text)
        if m:
            g = next(i for i in range(1, (m.lastindex or 1) + 1) if m.group(i))
            return flat, m, g
    return None


def parse_income_certificate(rows: list[Row], page: int = 1) -> dict[str, ExtractedField]:
    flat = Flat(rows)  # rows kept apart: for labels
    flow = Flat(rows, separate_rows=False)  # rows run on: for sentences that wrap
    fields: dict[str, ExtractedField] = {}

    hit = _first((flat, _NAME_LABEL), (flow, _NAME_SENTENCE))
    if hit:
        f, m, g = hit
        fields["employee_name"] = field_from(m.group(g), f.group(m, g), page)

    idn = find_id_number(rows)
    if idn:
        fields["id_number"] = field_from(idn[0], idn[1], page)

    employer = _employer(flat, flow, rows, page)
    if employer:
        fields["employer"] = employer

    hit = _first((flat, _POSITION_LABEL), (flow, _POSITION_SENTENCE))
    if hit:
        f, m, g = hit
        fields["position"] = field_from(m.group(g).strip(), f.group(m, g), page)

    hit = _first((flat, _START_LABEL), (flow, _START_SENTENCE))
    if hit:
        f, m, _ = hit
        month = int(m.group(2))
        if 1 <= month <= 12:
            fields["employment_start"] = field_from(f"{int(m.group(1)):04d}-{month:02d}", f.span(m.start(1), m.end(2)), page)

    m = _MONTHLY_TOTAL.search(flow.text) or _MONTHLY.search(flow.text)
    if m:
        fields["monthly_income"] = _amount_near(flow, m, page)
    m = _ANNUAL.search(flow.text)
    if m:
        fields["annual_income"] = _amount_near(flow, m, page)

    dates = [d for d in _DATE.finditer(flow.text)]
    if dates:
        d = dates[-1]  # the certificate is dated at the bottom, after any date in the body
        conf = None
        try:
            if d.group(7):
                y, mo, day = _cn_number(d.group(7)), _cn_number(d.group(8)), _cn_number(d.group(9))
                if len(d.group(7)) < 4:
                    # A seal covered a character of the year (二〇六年). A partial date is
                    # never completed by guessing: no issue date rather than a made-up one.
                    raise ValueError("partial year")
            else:
                y, mo, day = (int(x) for x in ((d.group(1), d.group(2), d.group(3)) if d.group(1) else (d.group(4), d.group(5), d.group(6))))
            fields["issue_date"] = field_from(dt.date(y, mo, day).isoformat(), flow.span(d.start(), d.end()), page, conf)
        except (ValueError, KeyError):
            pass

    m = _PHONE.search(flat.text)
    if m:
        fields["contact_phone"] = field_from(m.group(1), flat.group(m, 1), page)
    return fields


_STRONG_SUFFIX = re.compile(r"股份有限公司|有限责任公司|有限公司")


def _trim(name: str) -> str:
    """Cut what follows the company suffix: seal characters OCR'd into the same row
    (天津睿思新能源集团有限公司特思新能源集团)."""
    m = _STRONG_SUFFIX.search(name)
    if not m or re.search(r"(?:分公司|分行|支行|分部|分厂)$", name):  # a branch keeps its name
        return name
    return name[: m.end()]


def _employer(flat: Flat, flow: Flat, rows: list[Row], page: int) -> ExtractedField | None:
    """The employer named by a label, in the body, or on the signature line. A certificate
    names its employer more than once, while OCR noise (a seal's characters read into a row)
    does not repeat, so candidates are scored by how often they occur on the page."""
    candidates: list[tuple[float, str, Span]] = []
    m = _EMPLOYER_LABEL.search(flat.text)
    if m:
        name = _trim(m.group(1))
        candidates.append((3.0, name, flat.span(m.start(1), m.start(1) + len(name))))
    m = _EMPLOYER_SENTENCE.search(flow.text)
    if m:
        name = re.sub(r"^(?:我|本)(?:单位|公司)", "", m.group(1))
        if len(name) >= 4:
            start = m.end(1) - len(name)
            candidates.append((2.0, name, flow.span(start, m.end(1))))
    for i, row in enumerate(rows):
        rm = _EMPLOYER_ROW.fullmatch(row.text)
        if rm:
            name = _trim(rm.group(1))
            candidates.append((1.0 + i / (10 * len(rows)), name, row.span(rm.start(1), rm.start(1) + len(name))))
    if not candidates:
        return None
    best = max(candidates, key=lambda c: (c[0] + 1.5 * flow.text.count(c[1]), c[0]))
    return field_from(best[1], best[2], page)


def seal_field(seal, page: int) -> ExtractedField:
    if seal is None:
        return ExtractedField(value=False, confidence=0.9, page=page, bbox=None, source="ocr")
    return ExtractedField(value=True, confidence=seal.confidence, page=page, bbox=seal.bbox, source="ocr")


def compare_seal_text(fields: dict[str, ExtractedField], lines: list, page: int) -> None:
    """Read the seal's name (the unrolled ring, OCRed) and hold it against the employer: a
    certificate sealed by another company than the one named is for a reviewer. Adds the
    non-canonical field ``seal_text``."""
    text = "".join(ln.text for ln in lines).replace(" ", "")
    text = re.sub(r"[^\u4e00-\u9fff()]", "", text)
    if len(text) < 3:
        return
    score = min((ln.score for ln in lines), default=0.0)
    fields["seal_text"] = ExtractedField(value=text, confidence=round(score, 4), page=page, bbox=fields["has_seal"].bbox, source="ocr")
    employer = fields.get("employer")
    similarity = difflib.SequenceMatcher(None, text, str(employer.value)).ratio() if employer else 0.0
    if _STRONG_SUFFIX.search(text) and len(text) >= 6 and similarity < 0.6:
        # The signature line is usually where the seal sits, and OCR then mixes the two;
        # a whole company name read off the ring is the better guess, for a reviewer to
        # confirm (confidence capped under the usual threshold).
        fields["employer"] = ExtractedField(value=text, confidence=min(score, 0.75), page=page, bbox=fields["has_seal"].bbox, source="ocr")
    elif employer is not None and similarity < 0.5:
        # Sealed by a company other than the one named: a reviewer must look.
        employer.confidence = min(employer.confidence, 0.6)


def distrust_under_seal(fields: dict[str, ExtractedField], seal_bbox: list[float]) -> None:
    """OCR of characters under a red stamp is unreliable (the employer's name and the date
    usually sit there): cap those fields below the review threshold."""
    sx0, sy0, sx1, sy1 = seal_bbox
    for name, f in fields.items():
        if name in ("has_seal", "seal_text") or not f.bbox:
            continue
        x0, y0, x1, y1 = f.bbox
        inter = max(0.0, min(x1, sx1) - max(x0, sx0)) * max(0.0, min(y1, sy1) - max(y0, sy0))
        if inter > 0.3 * max(1.0, (x1 - x0) * (y1 - y0)):
            f.confidence = min(f.confidence, 0.75)


__all__ = ["FIELDS", "compare_seal_text", "distrust_under_seal", "parse_income_certificate", "seal_field", "Span"]
