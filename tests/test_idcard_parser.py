"""Parser and check logic on hand-built OCR lines (no engine), so each rule can fail alone."""

import datetime as dt

from loandocs.extractor.layout import group_rows
from loandocs.extractor.ocr.base import OcrLine
from loandocs.extractor.orientation import is_upside_down, rotate_lines_180, split_front_back
from loandocs.extractor.parsers.idcard import parse_back, parse_front
from loandocs.models import DocumentResult
from loandocs.models.policy import Thresholds
from loandocs.rules.validation import validate


def line(text, x, y, h=30, score=0.99):
    return OcrLine(text=text, score=score, bbox=(x, y, x + h * len(text), y + h))


def front_lines(number="11010519491231002X", sex="女", birth="1949年12月31日", eth="汉"):
    return [
        line("姓名", 60, 50), line("张丽华", 150, 48),
        line("性别", 60, 110), line(sex, 150, 110), line("民族" + eth, 260, 110),
        line("出生", 60, 170), line(birth, 150, 170, h=28),
        line("住址", 60, 230), line("北京市朝阳区建国路", 150, 230), line("88号院2号楼", 150, 270),
        line("公民身份号码", 60, 440), line(number, 260, 438, h=24),
    ]


def back_lines(validity="2015.03.12-2035.03.12"):
    return [
        line("中华人民共和国", 300, 60), line("居民身份证", 300, 120, h=50),
        line("签发机关", 150, 420), line("北京市公安局朝阳分局", 300, 420),
        line("有效期限", 150, 480), line(validity, 300, 480, h=24),
    ]


def test_front_fields():
    f = parse_front(group_rows(front_lines()))
    assert {k: v.value for k, v in f.items()} == {
        "name": "张丽华",
        "sex": "女",
        "ethnicity": "汉",
        "birth_date": "1949-12-31",
        "address": "北京市朝阳区建国路88号院2号楼",
        "id_number": "11010519491231002X",
    }
    # The box of the name is the value's, not the label's.
    assert f["name"].bbox[0] >= 150 and f["name"].source == "ocr"


def test_letters_misread_in_the_id_number_are_mapped_but_digits_are_not():
    f = parse_front(group_rows(front_lines(number="11O1O519491231002x")))
    assert f["id_number"].value == "11010519491231002X"


def test_back_fields_and_long_term():
    f = parse_back(group_rows(back_lines()))
    assert (f["issuing_authority"].value, f["valid_from"].value, f["valid_until"].value) == (
        "北京市公安局朝阳分局", "2015-03-12", "2035-03-12")
    f = parse_back(group_rows(back_lines("2010.01.05-长期")))
    assert f["valid_until"].value == "long_term"


def _checks(doc_type, fields, date="2026-11-29"):
    doc = DocumentResult(file="t", doc_type=doc_type, fields=fields)
    return {c.code: c for c in validate(doc, Thresholds(), dt.date.fromisoformat(date))}


def test_front_checks_pass_for_a_consistent_card():
    checks = _checks("id_card_front", parse_front(group_rows(front_lines(number="110105199012310027", birth="1990年12月31日"))))
    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]


def test_checksum_inconsistency_and_age():
    # Sequence digit 3 (odd) says male, the card says 女, and the birth date differs.
    checks = _checks("id_card_front", parse_front(group_rows(front_lines(number="110105194912310031", birth="1950年1月1日"))))
    assert not checks["id_checksum_invalid"].ok
    assert not checks["id_fields_inconsistent"].ok
    assert set(checks["id_fields_inconsistent"].fields) >= {"sex", "birth_date"}
    assert not checks["age_out_of_range"].ok  # 76 at the application date
    assert checks["age_out_of_range"].severity == "supplement"
    assert "76" in checks["age_out_of_range"].message_zh


def test_expired_back():
    checks = _checks("id_card_back", parse_back(group_rows(back_lines("2006.03.12-2016.03.12"))))
    assert not checks["document_expired"].ok and "2016-03-12" in checks["document_expired"].message_zh
    checks = _checks("id_card_back", parse_back(group_rows(back_lines("2010.01.05-长期"))))
    assert "document_expired" not in checks or checks["document_expired"].ok


def test_low_confidence_and_unreadable():
    lines = front_lines()
    lines[1] = line("张丽华", 150, 48, score=0.4)
    checks = _checks("id_card_front", parse_front(group_rows(lines)))
    assert not checks["low_confidence"].ok and checks["low_confidence"].fields == ["name"]
    checks = _checks("id_card_front", parse_front(group_rows(lines[2:10])))
    assert not checks["image_unreadable"].ok and "id_number" in checks["image_unreadable"].fields


def test_upside_down_is_detected_from_label_order():
    lines = front_lines()
    assert not is_upside_down(group_rows(lines))
    assert is_upside_down(group_rows(rotate_lines_180(lines, (540, 856))))


def test_front_and_back_on_one_page_are_split():
    back = [OcrLine(l.text, l.score, (l.x0, l.y0 + 600, l.x1, l.y1 + 600)) for l in back_lines()]
    front, rest = split_front_back(front_lines() + back)
    assert {l.text for l in rest} >= {"签发机关", "有效期限"}
    assert "姓名" in {l.text for l in front}
    assert split_front_back(front_lines()) is None
