"""不动产权证书 / 房屋所有权证: reading the register page (text layer, and a scan through the real
OCR engine) against ground truth, and the applicant among the 权利人."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loandocs.rules.assessment import assess

from .test_assessment import DAY, back, certificate, doc, front, statement

MATERIALS = Path(__file__).resolve().parent.parent / "samples" / "materials"


def truth(name: str) -> dict:
    return json.loads((MATERIALS / f"{name}.json").read_text(encoding="utf-8"))["documents"][0]["fields"]


def read(pipeline, path: Path):
    docs = [d for d in pipeline.extract_path(path) if d.doc_type == "property_certificate"]
    assert len(docs) == 1, path
    return docs[0]


@pytest.mark.parametrize("name", ["property_pdf_001", "property_pdf_002"])
def test_new_and_old_certificates_read_exactly(pipeline, name):
    d = read(pipeline, MATERIALS / f"{name}.pdf")
    want = truth(name)
    assert {k: d.fields[k].value if k in d.fields else None for k in want} == want
    assert not [c.code for c in d.checks if not c.ok]


@pytest.mark.slow
def test_scanned_certificate_through_ocr(pipeline):
    d = read(pipeline, MATERIALS / "property_scan_001.jpg")
    want = truth("property_scan_001")
    assert {k: d.fields[k].value if k in d.fields else None for k in want} == want
    assert all(d.fields[k].source == "ocr" for k in want)


def test_applicant_among_the_holders():
    title = doc("property_certificate", owners="张伟、李娜", location="苏州市工业园区星湖花园3幢1203室")
    ok = assess([front(), back(), certificate(), statement(), title], "mortgage", DAY)
    assert "holder_mismatch" not in [f.code for f in ok.review + ok.supplement]
    other = doc("property_certificate", owners="李娜", location="苏州市工业园区星湖花园3幢1203室")
    a = assess([front(), back(), certificate(), statement(), other], "mortgage", DAY)
    found = [f for f in a.review if f.code == "holder_mismatch"]
    assert len(found) == 1 and found[0].doc_type == "property_certificate" and "权利人" in found[0].message_zh
    assert "holder_mismatch" not in [f.code for f in a.supplement]


def test_mortgage_without_the_title_asks_for_it():
    a = assess([front(), back(), certificate(), statement()], "mortgage", DAY)
    missing = {f.doc_type: f for f in a.supplement if f.code == "missing_document"}
    assert set(missing) == {"credit_report", "property_certificate"}
    assert "不动产权证书" in missing["property_certificate"].message_zh
    assert "property certificate" in missing["property_certificate"].message_en
    assert a.status == "needs_supplement" and a.completeness == 70
