"""The PDF text layer: lines and boxes from generated PDFs, and when the layer is trusted."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from loandocs.errors import InputError
from loandocs.extractor.options import Limits
from loandocs.extractor.textlayer import (
    DOMINANT_IMAGE,
    TextPage,
    classify_page,
    is_garbage,
    read_text_layer,
)

from .helpers import reportlab_cjk_font

BODY = "本人张三于二零二四年在星河银行开立储蓄账户月收入稳定特此证明" * 3  # 93 characters


def _pdf(draw, pages: int = 1, **canvas_kw) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, **canvas_kw)
    for i in range(pages):
        draw(c, i)
        c.showPage()
    c.save()
    return buf.getvalue()


def _png(w: int = 400, h: int = 560) -> object:
    """A grey 'scan' with some dark strokes, as a reportlab ImageReader."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    a = np.full((h, w, 3), 235, np.uint8)
    a[40:60, 30:370] = 30
    a[100:110, 30:300] = 60
    b = io.BytesIO()
    Image.fromarray(a).save(b, "PNG")
    b.seek(0)
    return ImageReader(b)


def _paragraph(c, font: str, text: str, *, mode: int = 0, size: float = 10, top: float = 780) -> None:
    t = c.beginText(50, top)
    t.setFont(font, size)
    t.setTextRenderMode(mode)
    for k in range(0, len(text), 40):
        t.textLine(text[k:k + 40])
    c.drawText(t)


# -------------------------------------------------------------------------- lines, boxes


def test_lines_split_cells_and_scale_to_pixels():
    font = reportlab_cjk_font()

    def draw(c, _):
        c.setFont(font, 10)
        c.drawString(40, 800, "户名：张三")
        c.drawString(300, 800, "账号：６２２２ 0210")  # full-width digits are folded by NFKC
        c.drawString(40, 760, "Alipay Transfer")
        c.drawString(40, 740, "金额")
        c.drawString(40 + 10 * 4 + 15, 740, "1,234.00")  # 1.5 em after the label
        _paragraph(c, font, BODY, top=700)

    pages = read_text_layer(_pdf(draw), Limits(), dpi=144)
    assert len(pages) == 1
    p = pages[0]
    assert isinstance(p, TextPage) and p.number == 1 and p.dpi == 144
    assert p.width == pytest.approx(595.2756 * 2, abs=0.01) and p.height == pytest.approx(841.8898 * 2, abs=0.01)
    assert p.usable and p.reason == ""
    texts = [ln.text for ln in p.lines]
    assert texts[:6] == ["户名:张三", "账号:6222 0210", "Alipay Transfer", "金额", "1,234.00", BODY[:40]]
    first = p.lines[0]
    assert first.source == "text_layer" and first.score == 1.0
    assert [w.text for w in first.words] == list("户名:张三")
    # boxes are pixels at 144 dpi: x = 40 pt * 2, the top of a 10 pt line near (842 - 800 - 10) * 2
    assert first.bbox[0] == pytest.approx(80, abs=0.5)
    assert 50 < first.bbox[1] < 70 and first.bbox[3] - first.bbox[1] == pytest.approx(20, abs=1)
    assert all(w.bbox[0] < w.bbox[2] for w in first.words)
    assert [w.bbox[0] for w in first.words] == sorted(w.bbox[0] for w in first.words)
    # spaces are not words
    assert all(w.text.strip() for ln in p.lines for w in ln.words)
    assert p.char_count == sum(len(w.text) for ln in p.lines for w in ln.words)


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_boxes_match_the_rendered_page(rotate: int):
    """Text-layer boxes must land on the glyphs of the image the loader renders: PDFium shows
    the CropBox, turned clockwise by /Rotate. The text is drawn turned the other way, as a
    landscape statement stored on a rotated portrait page is, so it reads upright."""
    from reportlab.pdfgen import canvas

    from loandocs.extractor.loading import load_file

    font = reportlab_cjk_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(600, 800))
    c.setCropBox((30, 50, 560, 760))
    c.setPageRotation(rotate)
    # reportlab swaps the MediaBox for 90/270; draw in the middle of whatever it is
    w, h = (800, 600) if rotate in (90, 270) else (600, 800)
    c.translate(w / 2, h / 2)
    c.rotate(rotate)  # counter-clockwise: undoes the clockwise display rotation
    c.setFont(font, 30)
    c.drawString(-150, 60, "工资收入")
    c.drawString(40, -120, "余额    1,234.00")  # the run of spaces parts two cells
    c.drawImage(_png(100, 60), -150, -60, width=100, height=60)
    c.showPage()
    c.save()
    data = buf.getvalue()

    img = load_file(data, Limits(), pdf_dpi=72).pages[0].image
    page = read_text_layer(data, Limits(), dpi=72)[0]
    assert (round(page.width), round(page.height)) == (img.shape[1], img.shape[0])
    assert [ln.text for ln in page.lines] == ["工资收入", "余额", "1,234.00"]
    assert page.image_coverage == pytest.approx(100 * 60 / (img.shape[0] * img.shape[1]), rel=0.02)
    text_ink = img.min(axis=2) < 20  # glyphs are black; the picture's strokes are greyer
    mask = np.zeros_like(text_ink)
    for ln in page.lines:
        x0, y0, x1, y1 = (int(round(v)) for v in ln.bbox)
        assert text_ink[max(0, y0):y1, max(0, x0):x1].sum() > 50, ln.text
        mask[max(0, y0 - 2):y1 + 2, max(0, x0 - 2):x1 + 2] = True
    assert text_ink[~mask].sum() == 0  # no glyph outside the boxes


# ------------------------------------------------------------------------------ usability


def test_image_only_page_is_not_usable():
    img = _png()

    def draw(c, _):
        c.drawImage(img, 0, 0, width=595, height=842)

    p = read_text_layer(_pdf(draw), Limits())[0]
    assert not p.usable and p.reason == "scanned_image"
    assert p.char_count == 0 and p.lines == []
    assert p.image_coverage > 0.99


def test_blank_page_has_no_text():
    p = read_text_layer(_pdf(lambda c, _: None), Limits())[0]
    assert (p.usable, p.reason, p.image_coverage) == (False, "no_text", 0.0)


def test_scan_with_a_caption_is_a_scan():
    font, img = reportlab_cjk_font(), _png()

    def draw(c, _):
        c.drawImage(img, 0, 60, width=595, height=782)
        c.setFont(font, 9)
        c.drawString(40, 30, "本复印件仅供贷款申请使用 第1页")

    p = read_text_layer(_pdf(draw), Limits())[0]
    assert p.char_count == 15
    assert (p.usable, p.reason) == (False, "scanned_image")


def test_invisible_ocr_layer_over_a_scan():
    """An OCR'd scan (render mode 3 over the image) is trusted only when the layer is full."""
    font, img = reportlab_cjk_font(), _png()

    def draw_with(text):
        def draw(c, _):
            c.drawImage(img, 0, 0, width=595, height=842)
            _paragraph(c, font, text, mode=3)
        return draw

    sparse = read_text_layer(_pdf(draw_with(BODY)), Limits())[0]
    assert sparse.invisible_text and sparse.char_count == len(BODY)
    assert (sparse.usable, sparse.reason) == (False, "scanned_image")
    full = read_text_layer(_pdf(draw_with(BODY * 3)), Limits())[0]
    assert full.invisible_text and full.usable and full.reason == ""
    assert full.lines[0].text == BODY[:40]


def test_native_page_with_background_image_is_usable():
    font, img = reportlab_cjk_font(), _png()

    def draw(c, _):
        c.drawImage(img, 0, 0, width=595, height=842)  # a watermark / letterhead picture
        _paragraph(c, font, BODY)

    p = read_text_layer(_pdf(draw), Limits())[0]
    assert p.largest_image > DOMINANT_IMAGE and not p.invisible_text
    assert p.usable


def test_photos_with_a_caption_are_too_sparse():
    font, img = reportlab_cjk_font(), _png(200, 130)

    def draw(c, _):
        c.drawImage(img, 100, 480, width=400, height=260)  # two ID card photocopies
        c.drawImage(img, 100, 160, width=400, height=260)
        c.setFont(font, 12)
        c.drawString(100, 760, "身份证正反面复印件")
        c.drawString(100, 100, "申请人签字：张三")

    p = read_text_layer(_pdf(draw), Limits())[0]
    assert 0.15 < p.image_coverage < DOMINANT_IMAGE
    assert (p.usable, p.reason) == (False, "too_sparse")


def test_font_without_tounicode_is_cid_garbage():
    font = reportlab_cjk_font()

    def draw(c, _):
        _paragraph(c, font, BODY)

    data = _pdf(draw)
    # blank out the /ToUnicode reference (same length keeps the xref offsets valid)
    stripped = re.sub(rb"/ToUnicode \d+ 0 R", lambda m: b" " * len(m.group()), data)
    assert stripped != data
    p = read_text_layer(stripped, Limits())[0]
    assert (p.usable, p.reason) == (False, "cid_garbage")
    assert read_text_layer(data, Limits())[0].usable


def test_classifier_thresholds():
    text = list("中国银行个人账户交易明细表")
    assert classify_page(text) == (True, "")
    assert classify_page(text[:9]) == (False, "no_text")
    assert classify_page(text[:9], largest_image=0.9, image_coverage=0.9) == (False, "scanned_image")
    many = list("交易日期摘要收入支出余额") * 10  # 120 chars
    assert classify_page(many + ["(cid:12)"] * 6) == (True, "")  # 6/126 < 5%
    assert classify_page(many + ["(cid:12)"] * 7) == (False, "cid_garbage")
    assert classify_page(many + ["\ue001"] * 7) == (False, "cid_garbage")  # private use
    assert classify_page(many + ["\ufffd"] * 7) == (False, "cid_garbage")
    assert classify_page(many, largest_image=0.9, image_coverage=0.9) == (True, "")
    assert classify_page(many, largest_image=0.9, invisible_text=True) == (False, "scanned_image")
    assert classify_page(many * 2, largest_image=0.9, invisible_text=True) == (True, "")
    assert classify_page(many[:50], largest_image=0.9) == (False, "scanned_image")
    assert classify_page(many[:50], image_coverage=0.3) == (False, "too_sparse")
    assert classify_page(many[:50]) == (True, "")
    assert is_garbage("(cid:7)") and is_garbage("\x01") and not is_garbage("余") and not is_garbage("A")


# ---------------------------------------------------------------------------------- errors


def test_encrypted_pdf():
    from reportlab.lib.pdfencrypt import StandardEncryption

    font = reportlab_cjk_font()

    def draw(c, _):
        _paragraph(c, font, BODY)

    locked = _pdf(draw, encrypt=StandardEncryption("user-secret", "owner-secret"))
    with pytest.raises(InputError) as e:
        read_text_layer(locked, Limits())
    assert e.value.code == "encrypted_pdf"
    # an owner password alone does not stop reading
    owner_only = _pdf(draw, encrypt=StandardEncryption("", "owner-secret", canCopy=0))
    assert read_text_layer(owner_only, Limits())[0].usable


@pytest.mark.parametrize("data,code", [(b"%PDF-1.4\n garbage \x00\x01", "corrupt_file"),
                                       (b"not a pdf at all", "corrupt_file"), (b"", "empty_file")])
def test_corrupt_pdf(data: bytes, code: str):
    with pytest.raises(InputError) as e:
        read_text_layer(data, Limits())
    assert e.value.code == code


def test_truncated_pdf():
    font = reportlab_cjk_font()
    data = _pdf(lambda c, _: _paragraph(c, font, BODY), pages=2)
    with pytest.raises(InputError) as e:
        read_text_layer(data[: len(data) // 3], Limits())
    assert e.value.code in ("corrupt_file", "no_pages")


def test_too_many_pages():
    data = _pdf(lambda c, i: c.drawString(50, 800, f"page {i}"), pages=4)
    with pytest.raises(InputError) as e:
        read_text_layer(data, Limits(max_pages=3))
    assert e.value.code == "too_many_pages"
    assert [p.number for p in read_text_layer(data, Limits(max_pages=4))] == [1, 2, 3, 4]


def test_page_too_large():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(6000, 800))
    c.drawString(50, 50, "wide")
    c.showPage()
    c.save()
    with pytest.raises(InputError) as e:
        read_text_layer(buf.getvalue(), Limits())
    assert e.value.code == "page_too_large"


def test_a_page_too_heavy_for_pdfminer_is_left_to_ocr():
    """Pages whose content streams pass the text-layer budget are not interpreted by pdfminer
    (seconds and GBs per MiB of operators) but marked for rendering and OCR."""
    font = reportlab_cjk_font()

    def draw(c, n):
        _paragraph(c, font, "中国工商银行个人账户对账单")
        if n == 1:  # page 2: the same word drawn 6,000 times, about 350 KiB of operators
            for i in range(6000):
                _paragraph(c, font, "明细", top=700 - (i % 600))

    data = _pdf(draw, pages=2, pageCompression=1)
    light, heavy = read_text_layer(data, Limits())
    assert light.usable and light.char_count > 0
    assert (heavy.usable, heavy.reason, heavy.lines, heavy.char_count) == (False, "too_complex", [], 0)
    # Within a larger budget the same page is parsed as usual.
    parsed = read_text_layer(data, Limits(text_layer_max_page_content_bytes=64 * 1024 * 1024))[1]
    assert parsed.usable and parsed.char_count > light.char_count
