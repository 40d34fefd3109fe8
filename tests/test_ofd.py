"""OFD (GB/T 33190) input: detected by content, read from its text objects like a PDF's text
layer (the same statement as OFD and as PDF gives the same transactions), image-only pages
OCRed, a page image rendered; hostile archives end in stable codes within the time limit."""

from __future__ import annotations

import io
import json
import random
import time
import zipfile
from pathlib import Path

import pytest

from loandocs.errors import InputError
from loandocs.extractor.loading import check_file, load_file, sniff_type
from loandocs.extractor.options import Limits
from loandocs.samplegen.credit_set import _rngs
from loandocs.samplegen.financial import new_canvas
from loandocs.samplegen.ofd import hostile_ofd, pdf_to_ofd
from loandocs.samplegen.statement import random_statement, render_statement

MATERIALS = Path(__file__).resolve().parent.parent / "samples" / "materials"
HOSTILE_LIMIT_S = 10.0


def truth(name: str) -> dict:
    return json.loads((MATERIALS / f"{name}.json").read_text(encoding="utf-8"))["documents"][0]


def _statement_pdf(seed: int) -> bytes:
    rng, nprng = _rngs(seed, "ofd-test")
    st = random_statement(rng, "韩梅梅")
    buf = io.BytesIO()
    cv = new_canvas(buf, "test")
    render_statement(cv, st, rng, nprng, totals=True)
    cv.save()
    return buf.getvalue()


def _rows(d) -> list[tuple]:
    return [(t.date, t.amount, t.balance, t.description, t.counterparty) for t in d.transactions]


@pytest.mark.parametrize("seed", [1, 2])
def test_statement_as_ofd_reads_as_the_same_statement_as_pdf(pipeline, seed):
    pdf = _statement_pdf(seed)
    ofd = pdf_to_ofd(pdf)
    assert sniff_type(ofd) == "ofd"
    (as_pdf,) = pipeline.extract(pdf, "statement.pdf")
    (as_ofd,) = pipeline.extract(ofd, "statement.pdf")  # the name says PDF: the content decides
    assert as_pdf.doc_type == as_ofd.doc_type == "bank_statement" and as_ofd.error is None
    assert len(as_pdf.transactions) > 20
    assert _rows(as_ofd) == _rows(as_pdf)
    assert {k: f.value for k, f in as_ofd.fields.items()} == {k: f.value for k, f in as_pdf.fields.items()}
    assert all(f.source == "text_layer" for f in as_ofd.fields.values() if f.source != "derived")
    assert as_ofd.pages == as_pdf.pages


def test_checked_in_ofd_samples_read_exactly(pipeline):
    (st,) = pipeline.extract_path(MATERIALS / "statement_ofd_001.ofd")
    want = truth("statement_ofd_001")
    assert {k: st.fields[k].value for k in want["fields"]} == want["fields"]
    assert [(t.date, t.amount, t.balance) for t in st.transactions] == [(t["date"], t["amount"], t["balance"]) for t in want["transactions"]]
    (title,) = pipeline.extract_path(MATERIALS / "property_ofd_001.ofd")
    assert {k: title.fields[k].value for k in truth("property_ofd_001")["fields"]} == truth("property_ofd_001")["fields"]


def test_page_images_are_rendered_where_the_boxes_are(pipeline):
    docs, images = pipeline.extract_with_images((MATERIALS / "property_ofd_001.ofd").read_bytes(), "title.ofd")
    (doc,) = docs
    page = images[0][0]
    assert page.shape[0] > page.shape[1] > 1000  # A4 portrait at 200 dpi
    x0, y0, x1, y1 = (int(v) for v in doc.fields["location"].bbox)
    assert (page[y0:y1, x0:x1] < 128).mean() > 0.05  # ink where the field's box is
    assert (page < 128).mean() < 0.2


@pytest.mark.slow
def test_image_only_ofd_is_ocred(pipeline):
    (title,) = pipeline.extract_path(MATERIALS / "property_ofd_scan_001.ofd")
    want = truth("property_ofd_scan_001")["fields"]
    assert {k: title.fields[k].value if k in title.fields else None for k in want} == want
    assert title.fields["owners"].source == "ocr"


def test_detected_by_content_not_by_name():
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(InputError) as exc:
        sniff_type(plain_zip.getvalue())
    assert exc.value.code == "unsupported_type"
    assert check_file((MATERIALS / "property_ofd_001.ofd").read_bytes(), Limits()) == "ofd"
    loaded = load_file((MATERIALS / "property_ofd_001.ofd").read_bytes(), Limits())
    assert loaded.kind == "ofd" and loaded.page_count == 1 and loaded.pages[0].text_lines


@pytest.mark.parametrize(("kind", "code"), [("bomb", "archive_too_large"), ("traversal", "unsafe_entry_name"),
                                            ("laughs", "unsafe_xml"), ("entries", "too_many_entries")])  # fmt: skip
def test_hostile_archives_end_in_stable_codes(kind, code):
    data = hostile_ofd(kind)
    assert sniff_type(data) == "ofd"
    for call in (lambda: load_file(data, Limits()), lambda: check_file(data, Limits())):
        t0 = time.monotonic()
        with pytest.raises(InputError) as exc:
            call()
        assert exc.value.code == code, exc.value.to_dict()
        assert time.monotonic() - t0 < HOSTILE_LIMIT_S


def test_limits_apply_to_ofd_pages():
    data = (MATERIALS / "statement_ofd_001.ofd").read_bytes()
    with pytest.raises(InputError) as exc:
        load_file(data, Limits(max_pages=0, max_text_layer_pages=1))
    assert exc.value.code == "too_many_pages"
    with pytest.raises(InputError) as exc:
        load_file(data, Limits(max_page_points=100))
    assert exc.value.code == "page_too_large"
    small = load_file(data, Limits(max_pixels=400_000))
    assert all(p.image is None or p.image.shape[0] * p.image.shape[1] <= 400_000 for p in small.pages)


def test_damaged_archives_are_corrupt_files():
    data = (MATERIALS / "property_ofd_001.ofd").read_bytes()
    rng = random.Random(3)
    codes = set()
    for _ in range(40):
        b = bytearray(data)
        for _ in range(3):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            load_file(bytes(b), Limits())
        except InputError as exc:
            codes.add(exc.code)
    assert codes <= {"corrupt_file", "unsupported_type", "archive_too_large", "unsafe_entry_name", "unsafe_xml", "no_pages"}
