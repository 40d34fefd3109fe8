"""Field grammars (loandocs.kinds.grammars), the partial-date rule and the overlay phrases, on
values and hand-built OCR lines (no engine), so each rule can fail alone."""

from loandocs.extractor.layout import group_rows
from loandocs.extractor.ocr.base import OcrLine
from loandocs.extractor.overlay import OVERLAY_SCORE, clean_lines, is_overlay_text, strip_phrases
from loandocs.extractor.parsers.idcard import parse_front
from loandocs.extractor.parsers.income import parse_income_certificate
from loandocs.kinds import grammars
from loandocs.models import ExtractedField


def test_name_grammar():
    assert grammars.name("张伟") and grammars.name("欧阳明华") and grammars.name("买买提·艾力")
    assert not grammars.name("张")  # one character
    assert not grammars.name("门磊性别男民族汉")  # ran into the next label
    assert not grammars.name("性复禁京")  # watermark characters read into it
    assert not grammars.name("张伟1")  # digits
    assert not grammars.name("阿" * 16)


def test_ethnicity_grammar():
    assert grammars.ethnicity("汉") and grammars.ethnicity("维吾尔") and grammars.ethnicity("柯尔克孜")
    assert not grammars.ethnicity("复禁") and not grammars.ethnicity("汉族") and not grammars.ethnicity("")


def test_sex_grammar():
    assert grammars.sex("男") and grammars.sex("女") and not grammars.sex("另")


def test_date_grammar():
    assert grammars.date("1981-11-05")
    assert not grammars.date("1981-02-30")  # not a real date
    assert not grammars.date("1981-11")  # partial
    assert not grammars.date("0981-11-05")
    assert grammars.date_or_long_term("long_term") and grammars.date_or_long_term("2035-03-12")
    assert grammars.month("2019-07") and not grammars.month("2019-13")


def test_address_grammar():
    assert grammars.address("北京市朝阳区建国路88号院2号楼")
    assert not grammars.address("北京市朝阳区建国路88号公民身份号码")  # a label ran in
    assert not grammars.address("北京市朝阳区复印无效建国路88号")  # a watermark ran in
    assert not grammars.address("建国路")  # too short, no place unit


def test_authority_grammar():
    assert grammars.authority("北京市公安局朝阳分局") and grammars.authority("乐陵市公安局")
    assert grammars.authority("某某镇派出所")
    assert not grammars.authority("德州市乐陵市公安复禁")  # does not end as an authority does
    assert not grammars.authority("签发机关北京市公安局")


def test_id_number_and_employer_grammar():
    assert grammars.id_number("11010519491231002X")
    assert not grammars.id_number("110105194912310021")  # check digit does not fit
    assert not grammars.id_number("11010519491331002X")  # month 13
    assert not grammars.id_number("1101051949123100")
    assert grammars.employer("昆明云帆食品集团有限公司") and not grammars.employer("有限")


def test_a_value_that_fails_its_grammar_falls_under_the_review_threshold():
    fields = {
        "name": ExtractedField(value="性复禁京", confidence=0.99, page=1, bbox=None, source="ocr"),
        "ethnicity": ExtractedField(value="汉", confidence=0.99, page=1, bbox=None, source="ocr"),
    }
    assert grammars.enforce(fields, grammars.FRONT) == ["name"]
    assert fields["name"].confidence < 0.8 and fields["ethnicity"].confidence == 0.99


def line(text, x, y, h=30, score=0.99):
    return OcrLine(text=text, score=score, bbox=(x, y, x + h * len(text), y + h))


def _front(birth, number="110105198111050031"):
    return [
        line("姓名", 60, 50), line("张丽华", 150, 48),
        line("性别", 60, 110), line("男", 150, 110), line("民族汉", 260, 110),
        line("出生", 60, 170), line(birth, 150, 170, h=28),
        line("住址", 60, 230), line("北京市朝阳区建国路", 150, 230),
        line("公民身份号码", 60, 440), line(number, 260, 438, h=24),
    ]  # fmt: skip


def test_a_partial_birth_date_is_never_completed():
    # A stamp covered the day: 1981年11月. The month's second digit is not a day; the printed
    # date is not read, and the one the ID number encodes is given as derived, under review.
    f = parse_front(group_rows(_front("1981年11月")))
    assert f["birth_date"].value == "1981-11-05" and f["birth_date"].source == "derived"
    assert f["birth_date"].confidence < 0.8
    f = parse_front(group_rows(_front("1981年11月5日")))
    assert f["birth_date"].value == "1981-11-05" and f["birth_date"].source == "ocr"


def test_a_partial_issue_date_on_a_certificate_is_not_guessed():
    rows = group_rows([line("兹证明张丽华系我单位员工,月收入为人民币8000元。", 60, 50), line("二〇六年十月九日", 400, 300)])
    assert "issue_date" not in parse_income_certificate(rows)
    rows = group_rows([line("兹证明张丽华系我单位员工,月收入为人民币8000元。", 60, 50), line("二〇二六年十月九日", 400, 300)])
    assert parse_income_certificate(rows)["issue_date"].value == "2026-10-09"


def test_overlay_phrases_are_known_and_cut_out():
    assert strip_phrases("门磊复印无效") == ("门磊", True)
    assert strip_phrases("仅供中国建设银行贷款使用张伟") == ("张伟", True)
    assert strip_phrases("此复印件仅供招商银行办理贷款使用") == ("", True)
    assert strip_phrases("北京市朝阳区建国路") == ("北京市朝阳区建国路", False)
    assert is_overlay_text("再复印无效") and is_overlay_text("复印无放") and is_overlay_text("与原件一致")
    assert not is_overlay_text("张丽华") and not is_overlay_text("中国建设银行")


def test_lines_under_a_watermark_keep_their_text_and_lose_their_certainty():
    lines = [
        line("姓名", 60, 50), line("门磊复印无效", 150, 48),
        OcrLine(text="复印无效", score=0.98, bbox=(100, 100, 400, 200)),  # the watermark itself
        line("北京市朝阳区", 150, 150),  # crossed by it
        line("公民身份号码", 60, 440),  # clear of it
    ]
    out, report = clean_lines(lines)
    texts = {ln.text: ln.score for ln in out}
    assert "复印无效" not in texts and texts["门磊"] == OVERLAY_SCORE
    assert texts["北京市朝阳区"] <= OVERLAY_SCORE and texts["公民身份号码"] == 0.99
    assert report.found and report.cut_lines == 1
