"""Synthetic income certificate / bank statement generator: ground truth is self-consistent,
PDF text layers are real Unicode (or absent for image-only variants), output is deterministic.
No OCR here: everything is checked against the generator's own ground truth."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("reportlab")
pdfplumber = pytest.importorskip("pdfplumber")

from loandocs.extractor import idnumber  # noqa: E402
from loandocs.samplegen.financial import rmb_upper  # noqa: E402
from loandocs.samplegen.financial_set import generate_financial_samples  # noqa: E402
from loandocs.samplegen.identity import REFERENCE_DATE  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHECKED_IN = ROOT / "samples" / "financial"
# One of every code path, cheap enough to make twice.
SMALL = {"income_pdf": 1, "income_scan": 0, "income_scan_gray": 1, "income_photo": 1,
         "statement_pdf": 1, "statement_scan_pdf": 1, "statement_scan": 1, "statement_edited": 1,
         "mixed": 1}
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-\d{7,8})$")


def cents(x: float) -> int:
    return round(x * 100)


def parse_upper(text: str) -> int:
    """Capital-form RMB amount -> cents; written independently of the generator."""
    digits = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
    units = {"拾": 10, "佰": 100, "仟": 1000}
    total = section = digit = 0
    jiao = fen = 0
    text = text.replace("整", "")
    yuan_part, _, frac = text.partition("元")
    for ch in yuan_part:
        if ch in digits:
            digit = digits[ch]
        elif ch in units:
            section += (digit or 1) * units[ch]
            digit = 0
        elif ch == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        elif ch == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        else:
            raise ValueError(ch)
    yuan = total + section + digit
    m = re.fullmatch(r"零?(?:(.)角)?零?(?:(.)分)?", frac)
    assert m, frac
    jiao = digits[m.group(1)] if m.group(1) else 0
    fen = digits[m.group(2)] if m.group(2) else 0
    return yuan * 100 + jiao * 10 + fen


def test_rmb_upper_known_values():
    assert rmb_upper(1_850_000) == "壹万捌仟伍佰元整"
    assert rmb_upper(1_050_000) == "壹万零伍佰元整"
    assert rmb_upper(22_200_000) == "贰拾贰万贰仟元整"
    assert rmb_upper(200_008) == "贰仟元零捌分"
    assert rmb_upper(514_939) == "伍仟壹佰肆拾玖元叁角玖分"
    assert rmb_upper(100_000_050) == "壹佰万元伍角"
    assert rmb_upper(84_000_000) == "捌拾肆万元整"
    rng = random.Random(5)
    for _ in range(2000):
        c = rng.randint(1, 10 ** rng.randint(3, 13))
        assert parse_upper(rmb_upper(c)) == c, c


# ---------------------------------------------------------------- ground-truth invariants

def check_certificate(doc: dict, special: str | None, issue_ref: dt.date = REFERENCE_DATE) -> None:
    f = doc["fields"]
    assert set(f) == {"employee_name", "id_number", "employer", "position", "employment_start",
                      "monthly_income", "annual_income", "issue_date", "contact_phone", "has_seal"}
    assert idnumber.is_valid_checksum(f["id_number"])
    assert 4000 <= f["monthly_income"] <= 60000
    assert cents(f["annual_income"]) in [cents(f["monthly_income"]) * k for k in (12, 13, 14)]
    age = (issue_ref - dt.date.fromisoformat(f["issue_date"])).days
    assert (age >= 120) if special == "stale" else (0 <= age <= 60)
    assert re.fullmatch(r"\d{4}-\d{2}", f["employment_start"])
    assert f["employment_start"] < f["issue_date"][:7]
    assert PHONE.match(f["contact_phone"]), f["contact_phone"]
    assert f["has_seal"] is (special != "no_seal")
    assert ("seal_text" in doc) is f["has_seal"]
    if f["has_seal"]:
        assert doc["seal_text"] == f["employer"]
    for key, words in doc["amounts_in_words"].items():
        assert parse_upper(words) == cents(f[key])


def check_statement(doc: dict, special: str | None) -> None:
    f, txns = doc["fields"], doc["transactions"]
    assert f["currency"] == "CNY" and re.fullmatch(r"\d{16,19}", f["account_number"])
    assert (doc["edited_row"] is not None) == (special == "edited")
    start, end = dt.date.fromisoformat(f["period_start"]), dt.date.fromisoformat(f["period_end"])
    assert 175 <= (end - start).days <= 215 and 0 < (REFERENCE_DATE - end).days <= 30
    dates = [dt.date.fromisoformat(t["date"]) for t in txns]
    assert dates == sorted(dates) and start <= dates[0] and dates[-1] <= end
    # The running balance follows from the amounts, except at the edited row.
    prev = cents(f["opening_balance"])
    broken = []
    for i, t in enumerate(txns):
        assert t["amount"] != 0 and t["balance"] >= 0
        if prev + cents(t["amount"]) != cents(t["balance"]):
            broken.append(i)
        prev = cents(t["balance"])
    assert broken == ([doc["edited_row"]] if special == "edited" else [])
    assert prev == cents(f["closing_balance"])
    assert cents(f["opening_balance"]) + cents(f["total_credits"]) - cents(f["total_debits"]) \
        == cents(f["closing_balance"])
    credits = sum(cents(t["amount"]) for t in txns if t["amount"] > 0)
    debits = -sum(cents(t["amount"]) for t in txns if t["amount"] < 0)
    assert debits == cents(f["total_debits"])
    if special == "edited":  # printed totals are the bank's; the edit inflated one credit
        assert credits > cents(f["total_credits"])
        assert txns[doc["edited_row"]]["amount"] > doc["salary_monthly"]
    else:
        assert credits == cents(f["total_credits"])
    # Salary: same employer, same amount, about the same day every month.
    salary = [t for i, t in enumerate(txns) if t["amount"] == doc["salary_monthly"]]
    assert len(salary) + (special == "edited") >= 6
    assert len({t["counterparty"] for t in salary}) == 1
    days = sorted(int(t["date"][8:]) for t in salary)
    assert days[-1] - days[0] <= 5


def check_entry(entry: dict, folder: Path) -> None:
    path = folder / entry["file"]
    assert path.is_file()
    side_car = json.loads((folder / (path.stem + ".json")).read_text(encoding="utf-8"))
    assert side_car == entry
    docs = entry["documents"]
    for doc in docs:
        if doc["doc_type"] == "income_certificate":
            check_certificate(doc, entry["special"])
        elif doc["doc_type"] == "bank_statement":
            check_statement(doc, entry["special"])
            if entry["variant"] == "scan":
                assert doc["pages"] == [1]
            elif entry["variant"] != "mixed":
                assert 2 <= len(doc["pages"]) <= 5
                assert 40 <= len(doc["transactions"]) <= 120
    if entry["variant"] == "mixed":
        types = [d["doc_type"] for d in docs]
        assert types == ["id_card_front", "id_card_back", "income_certificate", "bank_statement"]
        pages = [p for d in docs[1:] for p in d["pages"]]
        assert pages == list(range(1, len(pages) + 1))
        name = docs[0]["fields"]["name"]
        cert, st = docs[2], docs[3]
        assert cert["fields"]["employee_name"] == name == st["fields"]["account_holder"]
        assert cert["fields"]["id_number"] == docs[0]["fields"]["id_number"]
        assert cert["fields"]["employer"] in {t["counterparty"] for t in st["transactions"]}
        assert 0.7 <= st["salary_monthly"] / cert["fields"]["monthly_income"] <= 1.0


# ---------------------------------------------------------------- text layers

def _overlapping_chars(page) -> int:
    """Pairs of text-layer characters whose boxes overlap noticeably (drawn over each other)."""
    chars = [c for c in page.chars if c["text"].strip()]
    if len(chars) < 2:
        return 0
    b = np.array([[c["x0"], c["top"], c["x1"], c["bottom"]] for c in chars])
    w = np.maximum(0, np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]))
    h = np.maximum(0, np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]))
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    inter = w * h / np.minimum(area[:, None], area[None, :])
    np.fill_diagonal(inter, 0)
    return int((inter > 0.25).sum() // 2)


def check_text_layer(entry: dict, folder: Path) -> None:
    if not entry["file"].endswith(".pdf"):
        return
    with pdfplumber.open(folder / entry["file"]) as pdf:
        texts = [p.extract_text() or "" for p in pdf.pages]
        for page in pdf.pages:
            assert all(0 <= c["x0"] and c["x1"] <= float(page.width) for c in page.chars)
            assert _overlapping_chars(page) == 0
    assert all("(cid:" not in t for t in texts)
    for doc in entry["documents"]:
        page_text = [texts[p - 1] for p in doc["pages"]]
        flat = re.sub(r"\s+", "", "".join(page_text))
        if entry["variant"] == "scan_pdf" or (entry["variant"] == "mixed" and doc["doc_type"] != "bank_statement"):
            assert not "".join(page_text).strip()  # image-only pages
            continue
        if doc["doc_type"] == "income_certificate":
            f = doc["fields"]
            for value in (f["employee_name"], f["id_number"], f["contact_phone"], "特此证明"):
                assert value in flat
            # Capital numerals only: a wrapped table cell may interleave with its label.
            numerals = "".join(ch for ch in flat if ch in "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整")
            for words in doc["amounts_in_words"].values():
                assert words in numerals
        else:
            f = doc["fields"]
            assert f["account_holder"] in flat and f["bank_name"] in flat
            n = len(doc["pages"])
            for i, t in enumerate(page_text):  # header on every page, 第 i 页 共 n 页 footer
                t = re.sub(r"\s+", "", t)
                assert "余额" in t and f"第{i + 1}页" in t and f"共{n}页" in t
            # Each row's first text line holds its printed amount next to its balance (for the
            # edited row: the altered amount).
            lines = "\n".join(page_text).splitlines()
            for t in doc["transactions"]:
                amount, balance = f"{abs(t['amount']):,.2f}", f"{t['balance']:,.2f}"
                assert any(amount in ln and balance in ln for ln in lines), t


# ---------------------------------------------------------------- generated set

@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("financial")
    return out, generate_financial_samples(out, seed=7, counts=SMALL)


def test_small_set_is_consistent(small_set):
    out, entries = small_set
    assert len(entries) == sum(SMALL.values())
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["entries"] == entries
    for entry in entries:
        check_entry(entry, out)
        check_text_layer(entry, out)
    assert {e["special"] for e in entries} == {None, "edited"}


def test_deterministic_for_a_seed(small_set, tmp_path):
    out, entries = small_set
    again = generate_financial_samples(tmp_path, seed=7, counts={**SMALL, "income_photo": 0, "mixed": 0})
    by_name = {e["file"]: e for e in entries}
    for entry in again:
        assert entry == by_name[entry["file"]]
        assert (tmp_path / entry["file"]).read_bytes() == (out / entry["file"]).read_bytes()
    only_one = {k: 0 for k in SMALL} | {"income_pdf": 1}
    other = generate_financial_samples(tmp_path / "other", seed=8, counts=only_one)
    assert other[0]["documents"] != by_name[other[0]["file"]]["documents"]


@pytest.mark.skipif(not (CHECKED_IN / "manifest.json").is_file(), reason="no checked-in samples")
def test_checked_in_samples_are_consistent():
    manifest = json.loads((CHECKED_IN / "manifest.json").read_text(encoding="utf-8"))
    entries = manifest["entries"]
    for entry in entries:
        check_entry(entry, CHECKED_IN)
        check_text_layer(entry, CHECKED_IN)
    total = sum((CHECKED_IN / e["file"]).stat().st_size for e in entries)
    assert total < 10_000_000
    certs = [(e, d) for e in entries for d in e["documents"] if d["doc_type"] == "income_certificate"]
    assert sum(not d["fields"]["has_seal"] for _, d in certs) >= 2
    assert sum(e["special"] == "stale" for e, _ in certs) == 1
    assert {d["template"] for _, d in certs} == {"paragraph", "table", "breakdown", "letter"}
    statements = [(e, d) for e in entries for d in e["documents"] if d["doc_type"] == "bank_statement"]
    assert {d["layout"] for e, d in statements if e["variant"] == "pdf"} == {"signed", "split", "drcr"}
    assert sum(e["special"] == "edited" for e, _ in statements) == 1
    assert len({d["fields"]["bank_name"] for _, d in statements}) >= 3
    assert {e["variant"] for e in entries} == {"pdf", "scan", "scan_gray", "photo", "scan_pdf", "mixed"}


def test_unembeddable_fonts_are_skipped(monkeypatch):
    """CFF-outline Noto CJK and missing files are left out instead of breaking the generator."""
    from loandocs.samplegen import financial

    bad = (("LD-Test-Missing", "/nonexistent/font.ttf", 0, "sans"),
           ("LD-Test-Noto", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2, "sans"))
    monkeypatch.setattr(financial, "PDF_FONT_CANDIDATES", bad + financial.PDF_FONT_CANDIDATES)
    financial.pdf_fonts.cache_clear()
    try:
        names = [n for v in financial.pdf_fonts().values() for n in v]
        assert names and "LD-Test-Missing" not in names and "LD-Test-Noto" not in names
    finally:
        financial.pdf_fonts.cache_clear()
