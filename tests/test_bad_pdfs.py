"""Bad PDFs through the whole pipeline: each gives its stable error code, never a traceback."""

import io

import pypdfium2 as pdfium
import pytest

from loandocs.reader import Limits, Pipeline, PipelineOptions

from .hostile import pdf as handwritten_pdf
from .test_loading import encrypted_pdf_bytes


def _pdf(pages: int, size=(595, 842)) -> bytes:
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(*size)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


class NoOcr:
    name = "none"

    def read(self, image):
        return []


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline(PipelineOptions(limits=Limits(max_pages=50)), engine=NoOcr())


def _code(pipeline, data: bytes):
    docs = pipeline.extract(data, "bad.pdf")
    return docs[0].error["code"] if docs[0].error else None


def test_encrypted(pipeline):
    assert _code(pipeline, encrypted_pdf_bytes()) == "encrypted_pdf"


def test_two_thousand_pages_refused_before_any_work(pipeline):
    assert _code(pipeline, _pdf(2000)) == "too_many_pages"


def test_huge_page(pipeline):
    assert _code(pipeline, _pdf(1, size=(20000, 20000))) == "page_too_large"


def test_zero_pages(pipeline):
    data = handwritten_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"], b"/Root 1 0 R")
    assert _code(pipeline, data) == "no_pages"


def test_garbage_after_header(pipeline):
    assert _code(pipeline, b"%PDF-1.7\n" + bytes(range(256)) * 40) == "corrupt_file"


def test_corrupt_xref_is_repaired_or_refused_cleanly(pipeline):
    good = _pdf(2)
    start = good.rfind(b"xref")
    bad = good[:start] + b"xref\n0 3\nthis is not an xref table\ntrailer\n<< >>\n%%EOF\n"
    docs = pipeline.extract(bad, "xref.pdf")
    # PDFium rebuilds a broken xref by scanning objects when it can; otherwise the file is
    # refused as corrupt. Either way there is an answer, not an exception.
    assert docs[0].error is None or docs[0].error["code"] == "corrupt_file"
    truncated = good[: len(good) // 3]
    docs = pipeline.extract(truncated, "truncated.pdf")
    assert docs[0].error is None or docs[0].error["code"] in {"corrupt_file", "no_pages"}
