"""GB 11643-1999 citizen identity numbers: check digit, birth date and sex.

An 18-character number is 6 region digits, 8 birth-date digits (YYYYMMDD), a 3-digit
sequence whose last digit is odd for men and even for women, and an ISO 7064 MOD 11-2
check character (0-9 or X).
"""

from __future__ import annotations

import datetime as dt
import re

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]")


def check_char(first17: str) -> str:
    """The check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def is_valid_checksum(number: str) -> bool:
    number = number.upper()
    if not ID_PATTERN.fullmatch(number):
        return False
    return check_char(number[:17]) == number[17]


def birth_date(number: str) -> dt.date | None:
    """Birth date encoded in the number, or None when those digits are not a date."""
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except (ValueError, IndexError):
        return None


def sex(number: str) -> str | None:
    """``男`` for an odd sequence digit, ``女`` for an even one."""
    if len(number) < 17 or not number[16].isdigit():
        return None
    return "男" if int(number[16]) % 2 == 1 else "女"


def mask(number: str) -> str:
    """``110108********231X`` - keeps region and the last four, for logs and list views."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
