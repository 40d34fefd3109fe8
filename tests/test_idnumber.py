import datetime as dt

import pytest

from loandocs.extractor import idnumber


@pytest.mark.parametrize(
    "number",
    ["11010519491231002X", "440524188001010014", "110108198503122316"],
)
def test_valid_check_digits(number):
    assert idnumber.is_valid_checksum(number)
    assert idnumber.check_char(number[:17]) == number[17]


def test_one_changed_digit_breaks_the_checksum():
    good = "11010519491231002X"
    for i in range(17):
        digit = str((int(good[i]) + 1) % 10)
        assert not idnumber.is_valid_checksum(good[:i] + digit + good[i + 1 :])


def test_birth_date_and_sex_are_decoded():
    assert idnumber.birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert idnumber.sex("11010519491231002X") == "女"  # 17th digit 2 is even
    assert idnumber.sex("440524188001010014") == "男"
    assert idnumber.birth_date("110105194913310020") is None


def test_mask_keeps_region_and_last_four():
    assert idnumber.mask("11010819850312231X") == "110108********231X"


def test_age_counts_birthdays():
    born = dt.date(2000, 6, 15)
    assert idnumber.age_on(born, dt.date(2018, 6, 14)) == 17
    assert idnumber.age_on(born, dt.date(2018, 6, 15)) == 18
