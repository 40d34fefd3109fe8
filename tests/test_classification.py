"""Classification that can say "not ours": a kind is recognised by its own evidence (a card
by its labels in their places), and a page that fits no kind well is unknown. Rows are built
by hand (no engine) except for one generated page read by the real OCR engine."""

import random

import pytest

from loandocs import kinds
from loandocs.extractor.layout import group_rows
from loandocs.extractor.ocr.base import OcrLine
from loandocs.samplegen import otherdocs
from loandocs.samplegen.identity import random_identity


def line(text, x, y, h=30):
    return OcrLine(text=text, score=0.99, bbox=(x, y, x + h * len(text), y + h))


def card_front():
    return [
        line("姓名", 60, 50), line("张丽华", 150, 48),
        line("性别", 60, 110), line("女", 150, 110), line("民族汉", 260, 110),
        line("出生", 60, 170), line("1949年12月31日", 150, 170),
        line("住址", 60, 230), line("北京市朝阳区建国路", 150, 230),
        line("公民身份号码", 60, 440), line("11010519491231002X", 260, 438, h=24),
    ]  # fmt: skip


def credit_header():
    """A PBOC report's header page: name, ID type and number in a table, one row."""
    return [
        line("个人信用报告", 400, 40, h=50),
        line("报告编号:2026112900001234567890", 60, 140),
        line("被查询者姓名", 60, 200), line("被查询者证件类型", 400, 200), line("被查询者证件号码", 800, 200),
        line("张丽华", 60, 250), line("身份证", 400, 250), line("11010519491231002X", 800, 250),
    ]  # fmt: skip


def test_a_card_is_a_card_by_its_labels_in_their_places():
    assert kinds.classify_rows(group_rows(card_front()))[0] == "id_card_front"


def test_an_id_number_and_a_name_do_not_make_a_card():
    rows = group_rows([line("姓名", 60, 50), line("张丽华", 150, 50), line("11010519491231002X", 60, 120)])
    assert kinds.classify_rows(rows)[0] == "unknown"
    assert kinds.classify_rows(rows, card_shaped=True)[0] == "unknown"
    assert kinds.classify_rows(group_rows(credit_header()))[0] == "credit_report"


def test_labels_side_by_side_in_a_table_are_not_a_card():
    # 姓名 性别 出生日期 住址 as a table header row (a form, a payslip): the right words, not
    # down the card's left edge.
    rows = group_rows([line("姓名", 60, 50), line("性别", 260, 50), line("出生日期", 460, 50), line("住址", 760, 50),
                       line("张丽华", 60, 100), line("女", 260, 100), line("1949-12-31", 460, 100),
                       line("北京市朝阳区建国路", 760, 100), line("公民身份号码11010519491231002X", 60, 160)])  # fmt: skip
    assert kinds.classify_rows(rows)[0] == "unknown"


@pytest.mark.parametrize("kind", ["contract", "utility_bill", "payslip"])
def test_other_documents_text_is_none_of_ours(kind):
    """The generated page's own lines (as a text layer would give them) classify as unknown."""
    rng = random.Random(kind)
    ident = random_identity(rng)
    texts = _page_texts(kind, ident, rng)
    rows = group_rows([line(t, 60, 60 + 50 * i) for i, t in enumerate(texts)])
    assert kinds.classify_rows(rows)[0] == otherdocs.EXPECTED[kind]


def _page_texts(kind, ident, rng):
    """The strings otherdocs draws, captured by drawing onto a recording stand-in."""
    drawn: list[str] = []

    class Recorder:
        def text(self, xy, text, **kw):
            drawn.append(text)

        def line(self, *a, **kw):
            pass

    import loandocs.samplegen.otherdocs as od

    real = od.ImageDraw.Draw
    od.ImageDraw.Draw = lambda img: Recorder()
    try:
        od.render(kind, ident, rng)
    finally:
        od.ImageDraw.Draw = real
    return drawn


def test_a_payslip_photo_through_the_engine_is_unknown(pipeline):
    import cv2

    rng = random.Random(7)
    page = otherdocs.render("payslip", random_identity(rng), rng)
    docs = pipeline.extract(cv2.imencode(".png", page[..., ::-1])[1].tobytes(), "payslip.png")
    assert [d.doc_type for d in docs] == ["unknown"]
    assert any(c.code == "wrong_document_type" and not c.ok for c in docs[0].checks)
