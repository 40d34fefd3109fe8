"""营业执照: the GB 32100 check character, reading licences (PDF text layer and, through the real
OCR engine, scans and photos) against their ground truth, and the licence's checks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from loandocs.extractor.parsers.licence import USCC_ALPHABET, uscc_valid
from loandocs.rules.assessment import assess
from loandocs.samplegen.licence import random_uscc

from .test_assessment import DAY, back, certificate, doc, front, statement

MATERIALS = Path(__file__).resolve().parent.parent / "samples" / "materials"


def truth(name: str) -> dict:
    return json.loads((MATERIALS / f"{name}.json").read_text(encoding="utf-8"))["documents"][0]


def read(pipeline, name: str, ext: str):
    docs = [d for d in pipeline.extract_path(MATERIALS / f"{name}.{ext}") if d.doc_type == "business_licence"]
    assert len(docs) == 1, name
    return docs[0]


def failed(d) -> set[str]:
    return {c.code for c in d.checks if not c.ok}


def test_check_character_of_gb_32100():
    # The standard's own worked example (GB 32100-2015, appendix): 91350100M000100Y43.
    assert uscc_valid("91350100M000100Y43")
    assert not uscc_valid("91350100M000100Y44")
    assert not uscc_valid("91350100M000100Y4")  # 17 characters
    assert not uscc_valid("91350100M000100I43")  # I is not in the alphabet
    rng = random.Random(7)
    for _ in range(300):
        code = random_uscc(rng, individual=rng.random() < 0.3)
        assert uscc_valid(code), code
        wrong = code[:17] + next(c for c in USCC_ALPHABET if c != code[17])
        assert not uscc_valid(wrong), wrong
        assert not uscc_valid(random_uscc(rng, invalid=True))


@pytest.mark.parametrize("name", ["licence_pdf_001", "licence_pdf_002_invalid_code", "licence_pdf_003_expired"])
def test_text_layer_licences_read_exactly(pipeline, name):
    d = read(pipeline, name, "pdf")
    want = truth(name)["fields"]
    assert {k: d.fields[k].value if k in d.fields else None for k in want} == want
    assert all(d.fields[k].source == "text_layer" for k in want)


def test_wrong_check_character_fails_uscc_invalid(pipeline):
    bad = read(pipeline, "licence_pdf_002_invalid_code", "pdf")
    assert "uscc_invalid" in failed(bad)
    check = next(c for c in bad.checks if c.code == "uscc_invalid")
    assert check.severity == "supplement" and check.fields == ["uscc"] and "统一社会信用代码" in check.message_zh
    assert "uscc_invalid" not in failed(read(pipeline, "licence_pdf_001", "pdf"))


def test_expired_term_fails_licence_expired(pipeline):
    d = read(pipeline, "licence_pdf_003_expired", "pdf")
    check = next(c for c in d.checks if c.code == "licence_expired")
    assert not check.ok and check.severity == "supplement"
    assert d.fields["term_until"].value in check.message_zh


@pytest.mark.slow
@pytest.mark.parametrize("name", ["licence_photo_002_invalid_code", "licence_scan_002_individual"])
def test_scans_and_photos_through_ocr(pipeline, name):
    d = read(pipeline, name, "jpg")
    want = truth(name)["fields"]
    got = {k: d.fields[k].value if k in d.fields else None for k in want}
    assert got == want
    assert ("uscc_invalid" in failed(d)) == name.endswith("invalid_code")


def test_company_against_the_certificate_employer():
    lic = doc("business_licence", uscc="91350100M000100Y43", company_name="苏州致远网络科技有限公司")
    same = assess([front(), back(), certificate(employer="苏州致远网络科技有限公司"), statement(), lic], "business", DAY)
    assert "employer_mismatch" not in [f.code for f in same.review]
    other = assess([front(), back(), certificate(employer="某某公司"), statement(), lic], "business", DAY)
    found = [f for f in other.review if f.code == "employer_mismatch"]
    assert len(found) == 1 and found[0].doc_type == "business_licence"
    assert "employer_mismatch" not in [f.code for f in other.supplement]  # review severity
    alone = assess([front(), back(), statement(), lic], "business", DAY)  # no certificate: nothing to compare
    assert "employer_mismatch" not in [f.code for f in alone.review + alone.supplement]
