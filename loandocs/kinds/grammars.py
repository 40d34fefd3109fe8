"""Field grammars: what a value of each field can look like, and what a value that does not
fit costs in confidence.

OCR scores say how sure the recogniser was of each character, not whether the characters make
a name: `门磊性别男民族汉复印无效` was read at 0.97. A value is held against its field's grammar
after parsing; one that fails keeps its text (a reviewer may still use it) but its confidence
is capped under the review threshold, so ``low_confidence`` names it. Values the parser had to
repair (an overlay phrase cut out) are capped too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from loandocs.extractor import idnumber
from loandocs.extractor.ocr.base import OcrLine
from loandocs.extractor.overlay import OVERLAY_SCORE, phrase_spans
from loandocs.extractor.vocab import ETHNICITIES
from loandocs.models import ExtractedField

# Under the 0.80 low_confidence threshold: a value that fails its grammar is for a reviewer.
GRAMMAR_CAP = 0.6

# Printed labels of the cards and certificates: a value that holds one ran into the next field.
LABEL_WORDS = (
    "姓名", "性别", "民族", "出生", "住址", "公民身份", "身份号码", "签发机关", "有效期限", "居民身份证",
    "中华人民共和国", "职务", "入职", "工作单位", "收入", "电话",
)  # fmt: skip
# Characters of the overlay phrases that hardly occur in names; two of them in a name are a
# watermark read into it (复禁, 印无).
_OVERLAY_NAME_CHARS = set("复印无效仅供使用件与原致废禁")

_HAN = r"\u4e00-\u9fff"
_NAME = re.compile(rf"[{_HAN}]{{2,4}}")
_NAME_DOT = re.compile(rf"[{_HAN}]{{1,8}}(?:·[{_HAN}]{{1,8}})+")  # 买买提·艾力 (up to 15 with ·)
_AUTHORITY = re.compile(rf"[{_HAN}]{{2,20}}(?:公安局|分局|派出所)")
_ADDRESS_UNITS = re.compile(r"[省市区县州旗盟镇乡村]")
_ADDRESS_CHARS = re.compile(rf"[{_HAN}0-9A-Za-z\-()·#、,]+")
_COMPANY_END = re.compile(r"(?:公司|集团|银行|医院|大学|学院|学校|研究院|研究所|事务所|中心|分行|支行|厂|局|委员会|院|所)$")


def _clean(value: str) -> bool:
    """No label word and no overlay phrase inside."""
    return not any(w in value for w in LABEL_WORDS) and not phrase_spans(value)


def name(value: object) -> bool:
    """2-4 Han characters, or up to 15 with a middle dot; no label word, no watermark."""
    if not isinstance(value, str):
        return False
    v = value.strip()
    if len(v) > 15 or not (_NAME.fullmatch(v) or _NAME_DOT.fullmatch(v)):
        return False
    return _clean(v) and sum(c in _OVERLAY_NAME_CHARS for c in v) < 2


def ethnicity(value: object) -> bool:
    """One of the 56 (as printed, without 族)."""
    return value in ETHNICITIES


def sex(value: object) -> bool:
    return value in ("男", "女")


def date(value: object) -> bool:
    """A real calendar date in ISO form, in a plausible range. Partial dates never reach here:
    the parsers do not complete them."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        return False
    return 1900 <= d.year <= 2100


def month(value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}", value):
        return False
    y, m = int(value[:4]), int(value[5:])
    return 1950 <= y <= 2100 and 1 <= m <= 12


def date_or_long_term(value: object) -> bool:
    return value == "long_term" or date(value)


def address(value: object) -> bool:
    """At least six characters naming a place (省/市/区/县...), no label or watermark words."""
    if not isinstance(value, str) or len(value) < 6 or not _ADDRESS_CHARS.fullmatch(value):
        return False
    return bool(_ADDRESS_UNITS.search(value)) and _clean(value)


def authority(value: object) -> bool:
    """An issuing authority: a public security bureau, branch or station."""
    return isinstance(value, str) and bool(_AUTHORITY.fullmatch(value)) and _clean(value)


def id_number(value: object) -> bool:
    """17 digits and a check character that fits them (GB 11643), with a real birth date
    inside. A number failing its check digit is usually a misread one (a watermark across a
    digit): it is not shown as sure, and id_checksum_invalid still asks for a clear copy."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    return idnumber.birth_date(value) is not None and idnumber.is_valid_checksum(value)


def employer(value: object) -> bool:
    return isinstance(value, str) and 4 <= len(value) <= 40 and bool(_COMPANY_END.search(value)) and _clean(value)


Grammar = Callable[[object], bool]

FRONT: dict[str, Grammar] = {"name": name, "sex": sex, "ethnicity": ethnicity, "birth_date": date, "address": address, "id_number": id_number}
BACK: dict[str, Grammar] = {"issuing_authority": authority, "valid_from": date, "valid_until": date_or_long_term}
CERTIFICATE: dict[str, Grammar] = {
    "employee_name": name,
    "id_number": id_number,
    "employer": employer,
    "employment_start": month,
    "issue_date": date,
}


def doubtful_pieces(fields: dict[str, ExtractedField], lines: list[OcrLine]) -> None:
    """A value is as sure as its weakest piece: a field whose box takes in a line read under
    an overlay (capped at ``OVERLAY_SCORE``) or read with doubt is capped too, even when its
    other characters were read clearly (北京路 + a stroke of 与原件一致 read as 一 + 178号)."""
    for f in fields.values():
        if f.bbox is None or f.source not in ("ocr",):
            continue
        fx0, fy0, fx1, fy1 = f.bbox
        for ln in lines:
            if ln.score > OVERLAY_SCORE:
                continue
            x0, y0, x1, y1 = ln.bbox
            inter = max(0.0, min(x1, fx1) - max(x0, fx0)) * max(0.0, min(y1, fy1) - max(y0, fy0))
            if inter > 0.5 * max(1.0, (x1 - x0) * (y1 - y0)):
                f.confidence = min(f.confidence, OVERLAY_SCORE)
                break


def enforce(fields: dict[str, ExtractedField], grammars: dict[str, Grammar], cap: float = GRAMMAR_CAP) -> list[str]:
    """Cap the confidence of every read value that fails its grammar; returns their names.
    Values a reviewer typed are left alone (they are checked when corrected)."""
    failed = []
    for key, ok in grammars.items():
        f = fields.get(key)
        if f is None or f.source == "reviewer":
            continue
        if not ok(f.value):
            f.confidence = min(f.confidence, cap)
            failed.append(key)
    return failed


__all__ = ["BACK", "CERTIFICATE", "FRONT", "GRAMMAR_CAP", "LABEL_WORDS", "doubtful_pieces", "enforce"]
