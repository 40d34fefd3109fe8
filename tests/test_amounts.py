import datetime as dt
from decimal import Decimal

import pytest

from loandocs.extractor.amounts import parse_amount, parse_date, parse_month, parse_upper_amount


@pytest.mark.parametrize(
    "text,value",
    [
        ("壹万捌仟伍佰元整", "18500"),
        ("人民币壹万贰仟元整", "12000"),
        ("叁拾元零伍角贰分", "30.52"),
        ("捌仟元零伍分", "8000.05"),
        ("壹拾贰万叁仟零伍拾元整", "123050"),
        ("贰亿零壹万元整", "200010000"),
        ("玖角", "0.9"),
        ("伍佰元", "500"),
    ],
)
def test_capital_numeral_amounts(text, value):
    assert parse_upper_amount(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "你好", "元整", "壹万捌仟伍佰"])
def test_not_capital_amounts(text):
    assert parse_upper_amount(text) is None


@pytest.mark.parametrize(
    "text,dc,value",
    [
        ("-1,200.00", None, "-1200.00"),
        ("+8,500.00", None, "8500.00"),
        ("1,234.50 CR", None, "1234.50"),
        ("12,345.67DR", None, "-12345.67"),
        ("(300.00)", None, "-300.00"),
        ("¥18,500", None, "18500"),
        ("1,000.00", "借", "-1000.00"),
        ("1,000.00", "贷", "1000.00"),
        ("1,000.00", "DR", "-1000.00"),
    ],
)
def test_numeric_amounts(text, dc, value):
    assert parse_amount(text, dc=dc) == Decimal(value)


def test_dates_and_months():
    for text in ("2026-05-03", "2026/05/03", "20260503", "2026年5月3日", "2026.05.03"):
        assert parse_date(text) == dt.date(2026, 5, 3)
    assert parse_date("2026-02-30") is None
    assert parse_month("自2015年3月起") == "2015-03"
