"""Synthetic ID card sample generator: ground truth is self-consistent, output is deterministic."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from loandocs.extractor import idnumber
from loandocs.extractor.vocab import ETHNICITIES
from loandocs.samplegen import generate_idcard_samples, idcard
from loandocs.samplegen.identity import (
    REFERENCE_DATE,
    REGIONS,
    add_years,
    random_identity,
    validity_years,
)

CHECKED_IN = Path(__file__).resolve().parents[1] / "samples" / "idcards"
SMALL = {"scan": 2, "photo": 1, "rotated": 1, "combo": 1, "special": 4}


def check_front(fields: dict, special: str | None) -> None:
    number = fields["id_number"]
    assert idnumber.is_valid_checksum(number) == (special != "checksum_invalid")
    assert idnumber.birth_date(number) == dt.date.fromisoformat(fields["birth_date"])
    assert idnumber.sex(number) == fields["sex"]
    assert fields["ethnicity"] in ETHNICITIES
    assert 2 <= len(fields["name"]) <= 4
    assert "\n" not in fields["address"] and 13 <= len(fields["address"]) <= 30
    region = next(r for r in REGIONS if r[3] == number[:6])
    assert fields["address"].startswith(region[0] + region[1] + region[2])


def check_back(fields: dict, birth: dt.date | None, special: str | None) -> None:
    start = dt.date.fromisoformat(fields["valid_from"])
    assert start <= REFERENCE_DATE
    if fields["valid_until"] == "long_term":
        if birth:
            assert idnumber.age_on(birth, start) >= 46
        return
    until = dt.date.fromisoformat(fields["valid_until"])
    assert (until - start).days in range(365 * 5, 365 * 20 + 6)
    if birth:
        assert until == add_years(start, validity_years(idnumber.age_on(birth, start)))
    assert (until < REFERENCE_DATE) == (special == "expired")


def check_entry(entry: dict, folder: Path) -> None:
    assert (folder / entry["file"]).is_file()
    assert entry["variant"] in ("scan", "photo", "rotated", "combo")
    assert entry["rotation"] in ((90, 180, 270) if entry["variant"] == "rotated" else (0,))
    docs = entry["documents"]
    types = [d["doc_type"] for d in docs]
    assert types in (["id_card_front"], ["id_card_back"], ["id_card_front", "id_card_back"])
    assert (len(docs) == 2) == (entry["variant"] == "combo")
    birth = None
    for doc in docs:
        if doc["doc_type"] == "id_card_front":
            check_front(doc["fields"], entry["special"])
            birth = dt.date.fromisoformat(doc["fields"]["birth_date"])
        else:
            check_back(doc["fields"], birth, entry["special"])


def test_identities_are_consistent():
    rng = random.Random(7)
    for _ in range(300):
        ident = random_identity(rng)
        assert idnumber.is_valid_checksum(ident.id_number)
        assert idnumber.birth_date(ident.id_number) == ident.birth_date
        assert idnumber.sex(ident.id_number) == ident.sex
        assert ident.id_number[:6] == ident.region_code
        assert 1955 <= ident.birth_date.year <= 2007
        check_back(ident.back_fields(), ident.birth_date, None)
        assert ident.issuing_authority.endswith("分局") and "公安局" in ident.issuing_authority


def test_special_identities():
    rng = random.Random(3)
    bad = random_identity(rng, bad_checksum=True)
    assert not idnumber.is_valid_checksum(bad.id_number)
    assert idnumber.birth_date(bad.id_number) == bad.birth_date
    assert random_identity(rng, validity="expired").valid_until < REFERENCE_DATE
    assert random_identity(rng, birth_years=(1962, 1975), validity="long_term").valid_until is None
    young = random_identity(rng, birth_years=(2010, 2010))
    assert idnumber.age_on(young.birth_date, REFERENCE_DATE) < 18


def test_validity_rule():
    assert [validity_years(a) for a in (10, 15, 16, 25, 26, 45, 46, 70)] == [5, 5, 10, 10, 20, 20, None, None]


def test_wrap_keeps_numbers_whole():
    lines = idcard.wrap_chars("北京市朝阳区黄河路582号春晖公寓19幢1669室", 12)
    assert "".join(lines) == "北京市朝阳区黄河路582号春晖公寓19幢1669室"
    assert lines[-1] == "1669室" and all(len(line) <= 12 for line in lines)
    assert idcard.wrap_chars("内蒙古自治区呼和浩特市新城区西大街207号", 10)[-1] == "207号"


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("idcards")
    return out, generate_idcard_samples(out, seed=11, counts=SMALL)


def test_generates_files_and_ground_truth(small_set):
    out, entries = small_set
    assert len(entries) == 2 + 1 + 1 + 1 + 4
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["entries"] == entries
    for entry in entries:
        check_entry(entry, out)
        side_car = json.loads((out / entry["file"].replace(".jpg", ".json")).read_text(encoding="utf-8"))
        assert side_car == entry
        with Image.open(out / entry["file"]) as im:
            assert im.format == "JPEG" and min(im.size) >= 500
    specials = {e["special"]: e for e in entries if e["special"]}
    assert set(specials) == {"expired", "long_term", "checksum_invalid", "underage"}
    assert specials["expired"]["variant"] == "combo"
    assert specials["long_term"]["documents"][1]["fields"]["valid_until"] == "long_term"
    born = dt.date.fromisoformat(specials["long_term"]["documents"][0]["fields"]["birth_date"])
    assert 46 <= idnumber.age_on(born, REFERENCE_DATE) <= 65  # no age_out_of_range besides
    assert specials["underage"]["documents"][0]["fields"]["birth_date"].startswith("2010-")


def test_deterministic_for_a_seed(small_set, tmp_path):
    out, entries = small_set
    again = generate_idcard_samples(tmp_path, seed=11, counts={**SMALL, "photo": 0, "combo": 0})
    by_name = {e["file"]: e for e in entries}
    for entry in again:  # per-sample seeding: the same names give the same samples
        assert entry == by_name[entry["file"]]
        assert (tmp_path / entry["file"]).read_bytes() == (out / entry["file"]).read_bytes()
    other = generate_idcard_samples(tmp_path / "other", seed=12, counts={"scan": 1, "photo": 0,
                                                                         "rotated": 0, "combo": 0, "special": 0})
    assert other[0]["documents"] != by_name[other[0]["file"]]["documents"]


def test_works_with_a_single_font(monkeypatch):
    fonts = idcard.available_fonts()
    monkeypatch.setattr(idcard, "available_fonts", lambda: fonts[-1:])
    ident = random_identity(random.Random(1))
    for render in (idcard.render_front, idcard.render_back):
        card = render(ident, random.Random(2), np.random.default_rng(2), 900)
        assert card.size == (900, round(900 * idcard.CARD_ASPECT)) and card.mode == "RGBA"


def test_missing_font_files_are_skipped(monkeypatch):
    monkeypatch.setattr(idcard, "FONT_CANDIDATES", (("/nonexistent/font.ttc", 0),) + idcard.FONT_CANDIDATES)
    idcard.available_fonts.cache_clear()
    try:
        assert all(Path(p).is_file() for p, _ in idcard.available_fonts())
    finally:
        idcard.available_fonts.cache_clear()


def test_photo_card_stays_inside_frame():
    quad = np.array([[-50.0, 10], [900, -30], [950, 700], [20, 720]])
    fitted = idcard._fit_quad(quad, 800, 600, margin=16)
    assert fitted.min() >= 16 - 1e-6 and (fitted[:, 0] <= 784 + 1e-6).all() and (fitted[:, 1] <= 584 + 1e-6).all()


@pytest.mark.skipif(not (CHECKED_IN / "manifest.json").is_file(), reason="no checked-in samples")
def test_checked_in_samples_are_consistent():
    manifest = json.loads((CHECKED_IN / "manifest.json").read_text(encoding="utf-8"))
    entries = manifest["entries"]
    assert len(entries) >= 40
    for entry in entries:
        check_entry(entry, CHECKED_IN)
    total = sum((CHECKED_IN / e["file"]).stat().st_size for e in entries)
    assert total < 8_000_000


def test_text_does_not_overlap(monkeypatch):
    """Every drawn text stays on the card, off the portrait, and clear of every other text."""
    boxes, portraits = [], []
    draw_text, portrait = idcard.draw_text, idcard._portrait

    def record_text(draw, x, baseline, text, fnt, fill, tracking=0.0):
        end = draw_text(draw, x, baseline, text, fnt, fill, tracking)
        x0, y0, x1, y1 = draw.textbbox((x, baseline), text, font=fnt, anchor="ls")
        boxes.append((x0, y0, max(x1, end), y1))
        return end

    monkeypatch.setattr(idcard, "draw_text", record_text)
    monkeypatch.setattr(idcard, "_portrait", lambda img, box, rng: (portraits.append(box), portrait(img, box, rng)))

    def overlap(a, b):
        return a[0] + 1 < b[2] and b[0] + 1 < a[2] and a[1] + 1 < b[3] and b[1] + 1 < a[3]

    for k in range(6):
        rng = random.Random(k)
        ident = random_identity(rng)
        for render in (idcard.render_front, idcard.render_back):
            boxes.clear()
            portraits.clear()
            card = render(ident, rng, np.random.default_rng(k), rng.randint(900, 1300))
            w, h = card.size
            for i, box in enumerate(boxes):
                assert box[0] >= 0.03 * w and box[2] <= 0.97 * w and box[1] >= 0.03 * h and box[3] <= 0.97 * h
                assert not any(overlap(box, p) for p in portraits)
                assert not any(overlap(box, other) for other in boxes[i + 1:])
