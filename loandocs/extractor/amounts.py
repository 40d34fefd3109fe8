"""Money and dates as printed on Chinese financial documents.

``parse_upper_amount`` reads capital-numeral amounts (壹万捌仟伍佰元整, 叁拾元零伍角贰分);
``parse_amount`` reads digits with thousands separators, signs and CR/DR wording.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

DIGITS = {"零": 0, "〇": 0, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
          # lower-case numerals and common variants also turn up
          "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "貳": 2, "參": 3, "陸": 6}
SMALL_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
UPPER_CHARS = set(DIGITS) | set(SMALL_UNITS) | set(BIG_UNITS) | set("元圆圓角分整正")
UPPER_RUN = re.compile(r"[零〇壹贰貳叁參肆伍陆陸柒捌玖拾佰仟万萬亿億元圆圓角分整正]{2,}")


def _integer(text: str) -> int:
    """Value of a capital-numeral integer such as 壹拾贰万叁仟零伍拾."""
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in SMALL_UNITS:
            section += (digit or 1) * SMALL_UNITS[ch]
            digit = 0
        elif ch in BIG_UNITS:
            unit = BIG_UNITS[ch]
            section += digit
            # 亿 scales everything read so far; 万 only the current section.
            if unit == 100_000_000:
                total = (total + section) * unit
            else:
                total += section * unit
            section, digit = 0, 0
        else:
            raise ValueError(f"not a numeral: {ch!r}")
    return total + section + digit


def parse_upper_amount(text: str) -> Decimal | None:
    """Decimal value of an amount in capital numerals, or None if it is not one."""
    text = re.sub(r"[\s人民币（）()大写:：]", "", text)
    m = re.fullmatch(r"(?:(.*?)[元圆圓])?零?(?:(.)角)?零?(?:(.)分)?[整正]?", text)
    if not m or not any(ch in DIGITS or ch in SMALL_UNITS for ch in text):
        return None
    yuan_part, jiao, fen = m.groups()
    try:
        yuan = _integer(yuan_part.lstrip("零")) if yuan_part else 0
        value = Decimal(yuan)
        if jiao:
            value += Decimal(DIGITS[jiao]) / 10
        if fen:
            value += Decimal(DIGITS[fen]) / 100
    except (KeyError, ValueError):
        return None
    if yuan_part is None and not jiao and not fen:
        return None
    return value


_CURRENCY_WORD = re.compile(r"RMB|CNY|人民币|HKD|USD|EUR", re.I)
_NUM = re.compile(r"[-+−]?\s*(?:\d{1,3}(?:[,，]\d{3})+|\d+)(?:\.\d{1,2})?")


def parse_amount(text: str, *, dc: str | None = None) -> Decimal | None:
    """A money amount: ``-1,200.00``, ``+8,500.00``, ``1,234.5 CR``, ``(300.00)``, ``¥18,500``.
    ``dc`` is the 借/贷 marker of the row if the table has one (借 / DR = debit = negative)."""
    if text is None:
        return None
    raw = unicodedata.normalize("NFKC", text).strip().replace("¥", "").replace("￥", "").replace("元", "").replace(" ", "")
    # A currency word before or after the figure ("RMB -1,200.00", "-RMB1,200.00", "CNY 5.00")
    # must not hide the sign from the number pattern below.
    raw = _CURRENCY_WORD.sub("", raw)
    if not raw:
        return None
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1]
    upper = raw.upper()
    for word, sign in (("CR", False), ("DR", True)):
        if upper.endswith(word) or upper.startswith(word):
            negative = sign
            raw = re.sub(word, "", raw, flags=re.I)
    m = _NUM.search(raw)
    if not m:
        return None
    num = m.group().replace(",", "").replace("，", "").replace("−", "-").replace(" ", "")
    try:
        value = Decimal(num)
    except InvalidOperation:
        return None
    if negative:
        value = -abs(value)
    if dc:
        d = dc.strip().upper()
        if d in ("借", "DR", "D", "支", "支出", "-"):
            value = -abs(value)
        elif d in ("贷", "CR", "C", "收", "收入", "+"):
            value = abs(value)
    return value


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2})")
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")


def parse_date(text: str) -> dt.date | None:
    m = _DATE.search(text or "")
    if not m:
        return None
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
    try:
        return dt.date(int(y), int(mo), int(d))
    except ValueError:
        return None


def parse_month(text: str) -> str | None:
    m = _MONTH.search(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def to_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(Decimal("0.01")))
