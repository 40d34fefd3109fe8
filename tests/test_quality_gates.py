"""Quality gates that mean it (issue 16): image_unreadable only when reading suffered. Real
images through the real engine, from samples/hard (generated, ground truth beside them)."""

import json
from pathlib import Path

import cv2
import numpy as np

from loandocs.extractor import preprocess
from loandocs.models import DocumentResult, ExtractedField, PageQuality
from loandocs.models.policy import Thresholds
from loandocs.rules.validation import validate

HARD = Path(__file__).resolve().parents[1] / "samples" / "hard"


def _unreadable(doc):
    return next(c for c in doc.checks if c.code == "image_unreadable")


def test_a_card_filling_the_frame_is_not_cut_off(pipeline):
    for name in ("full_frame_front_001", "full_frame_back_001"):
        truth = json.loads((HARD / f"{name}.json").read_text(encoding="utf-8"))
        docs = pipeline.extract((HARD / f"{name}.jpg").read_bytes(), f"{name}.jpg")
        assert [d.doc_type for d in docs] == [truth["documents"][0]["doc_type"]]
        assert not docs[0].quality[0].card_cut_off
        assert _unreadable(docs[0]).ok
        want = truth["documents"][0]["fields"]
        assert {k: docs[0].fields[k].value for k in want} == want


def test_white_paper_is_not_glare():
    img = cv2.imread(str(HARD / "white_photo_001.jpg"))
    q = preprocess.measure_quality(preprocess.downscale(img))
    assert q.glare < preprocess.MAX_GLARE


def test_a_highlight_on_a_card_is_glare():
    img = cv2.imread(str(HARD / "full_frame_front_001.jpg"))
    card = cv2.resize(img, preprocess.CARD_SIZE).astype(np.float32)
    yy, xx = np.mgrid[0 : card.shape[0], 0 : card.shape[1]]
    spot = np.exp(-(((xx - 500) / 180.0) ** 2 + ((yy - 300) / 120.0) ** 2))[..., None]
    glared = np.clip(card + 400 * spot, 0, 255).astype(np.uint8)
    assert preprocess.measure_quality(glared).glare > preprocess.MAX_GLARE
    assert preprocess.measure_quality(card.astype(np.uint8)).glare < preprocess.MAX_GLARE


def test_a_clean_photo_of_a_white_certificate_is_read_without_a_retake(pipeline):
    truth = json.loads((HARD / "white_photo_001.json").read_text(encoding="utf-8"))
    docs = pipeline.extract((HARD / "white_photo_001.jpg").read_bytes(), "white_photo_001.jpg")
    assert [d.doc_type for d in docs] == ["income_certificate"]
    assert _unreadable(docs[0]).ok and docs[0].quality[0].problems == []
    want = truth["documents"][0]["fields"]
    for key in ("employee_name", "id_number", "monthly_income", "employer", "issue_date"):
        assert docs[0].fields[key].value == want[key], key
    # The page was found in the photo and put flat: the page image is the sheet, upright.
    h, w = docs[0].quality[0].height, docs[0].quality[0].width
    assert 1.3 < h / w < 1.7


def test_doubt_alone_does_not_ask_for_a_retake():
    """A blurry image whose fields were all read, one of them under a watermark (capped
    confidence): low_confidence for the reviewer, no image_unreadable for the applicant."""
    fields = {k: ExtractedField(value=v, confidence=0.99, page=1, bbox=None, source="ocr") for k, v in {
        "name": "张丽华", "sex": "女", "ethnicity": "汉", "birth_date": "1949-12-31",
        "address": "北京市朝阳区建国路88号", "id_number": "11010519491231002X"}.items()}  # fmt: skip
    fields["address"].confidence = 0.75
    q = PageQuality(page=1, width=1168, height=736, blur=9.0, problems=["blurry"])
    doc = DocumentResult(file="x.jpg", doc_type="id_card_front", pages=[1], fields=fields, quality=[q])
    import datetime as dt

    checks = {c.code: c for c in validate(doc, Thresholds(), dt.date(2026, 11, 29))}
    assert not checks["low_confidence"].ok and checks["image_unreadable"].ok
