"""Masking of identifiers for logs, list views and roles that do not need them in full.

``110108199001011234`` -> ``110108********1234``: the region and the last four stay, enough to
tell documents apart and to match a caller on the phone, not enough to use the number.
"""

from __future__ import annotations

import re
from typing import Any

# 18-character resident ID numbers (last may be X), and 12-23 digit account/card numbers,
# possibly grouped with spaces or dashes as statements print them.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
ACCOUNT_NUMBER = re.compile(r"(?<![\d.])\d(?:[ -]?\d){11,22}(?![\d.])")

# Canonical fields (DESIGN) whose values are masked.
MASKED_FIELDS = frozenset({"id_number", "account_number"})


def mask_id_number(value: str) -> str:
    v = value.strip()
    if len(v) <= 8:
        return "*" * len(v)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def mask_account_number(value: str) -> str:
    digits = re.sub(r"[ -]", "", value.strip())
    if len(digits) <= 8:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def mask_field(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name not in MASKED_FIELDS:
        return value
    return mask_id_number(value) if name == "id_number" else mask_account_number(value)


def mask_text(text: str) -> str:
    """Every ID or account number inside free text (log lines, messages) masked."""
    text = ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(3)[-4:], text)
    return ACCOUNT_NUMBER.sub(lambda m: mask_account_number(m.group(0)), text)
