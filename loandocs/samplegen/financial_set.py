"""The synthetic income-certificate and bank-statement sample set, with ground truth.

``generate_financial_samples(out_dir)`` writes ``NAME.pdf``/``NAME.jpg``, a ``NAME.json``
beside each and ``manifest.json``. Like the ID card set, every sample draws from generators
seeded by (seed, sample name), so the output is byte-identical for a seed and changing one
count leaves the other samples alone. All people, employers and accounts are invented.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import re
from pathlib import Path

import numpy as np

from loandocs.samplegen import idcard, output_dir
from loandocs.samplegen.financial import (
    draw_page_image,
    jpeg_bytes,
    new_canvas,
    photo_effect,
    rasterise,
    scan_effect,
)
from loandocs.samplegen.identity import REFERENCE_DATE, random_identity
from loandocs.samplegen.income import TEMPLATES, random_certificate, render_certificate
from loandocs.samplegen.statement import LAYOUTS, random_statement, render_statement

__all__ = ["DEFAULT_COUNTS", "DEFAULT_SEED", "generate_financial_samples"]

DEFAULT_SEED = 20261129
DEFAULT_COUNTS = {
    "income_pdf": 4, "income_scan": 3, "income_scan_gray": 2, "income_photo": 2,
    "statement_pdf": 3, "statement_scan_pdf": 2, "statement_scan": 1, "statement_edited": 1,
    "mixed": 1,
}
# (variant, 1-based index) -> special. Specials replace a regular sample of that variant, so
# a smaller count simply leaves them out.
INCOME_SPECIALS = {("pdf", 4): "no_seal", ("scan", 3): "no_seal", ("scan_gray", 2): "stale"}
_OUR_FILES = re.compile(r"^(income|statement|mixed)_[a-z0-9_]+\.(pdf|jpg|json)$")
IDCARD_DIR = Path(__file__).resolve().parents[2] / "samples" / "idcards"
MIXED_ID_SAMPLE = "combo_scan_001"


def _rngs(seed: int, key: str) -> tuple[random.Random, np.random.Generator]:
    """Same derivation as the ID card set: one pair of generators per (seed, sample)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return random.Random(digest[:16]), np.random.default_rng(int.from_bytes(digest[16:], "big"))


def _pdf(draw) -> bytes:
    buf = io.BytesIO()
    cv = new_canvas(buf, "synthetic sample")
    draw(cv)
    cv.save()
    return buf.getvalue()


def _person(seed: int, name: str):
    return random_identity(_rngs(seed, "fin-person:" + name)[0], birth_years=(1966, 1998))


# ---------------------------------------------------------------- income certificates

def _income(out: Path, seed: int, variant: str, k: int, template: str) -> dict:
    special = INCOME_SPECIALS.get((variant, k))
    name = f"income_{variant}_{k:03d}" + (f"_{special}" if special else "")
    rng, nprng = _rngs(seed, "render:" + name)
    ident = _person(seed, name)
    cert = random_certificate(rng, ident.name, ident.id_number, ident.sex, ident.birth_date,
                              special=special, template=template)
    extra = {}
    pdf = _pdf(lambda cv: extra.update(render_certificate(cv, cert, rng, nprng)))
    if variant == "pdf":
        fname = name + ".pdf"
        (out / fname).write_bytes(pdf)
    else:
        fname = name + ".jpg"
        if variant == "photo":
            page = rasterise(pdf, rng.uniform(130, 160))[0]
            img, q = photo_effect(page, rng, nprng), rng.randint(72, 82)
        else:
            page = rasterise(pdf, rng.uniform(150, 190))[0]
            img, q = scan_effect(page, rng, nprng, gray=variant == "scan_gray"), rng.randint(76, 84)
        (out / fname).write_bytes(jpeg_bytes(img, q))
    return {"file": fname, "variant": variant, "special": special,
            "documents": [_income_doc(cert, extra, [1])]}


def _income_doc(cert, extra: dict, pages: list[int]) -> dict:
    doc = {"doc_type": "income_certificate", "pages": pages, "fields": cert.fields(),
           "template": cert.template, "amounts_in_words": extra["amounts_in_words"]}
    if cert.has_seal:
        doc["seal_text"] = cert.employer
    return doc


# ---------------------------------------------------------------- bank statements

def _statement_doc(st, layout: str, pages: list[int]) -> dict:
    return {"doc_type": "bank_statement", "pages": pages, "fields": st.fields(),
            "transactions": st.transactions(), "salary_monthly": st.salary / 100,
            "edited_row": st.edited_row, "layout": layout, "not_printed": st.not_printed}


def _scan_pages_pdf(pdf: bytes, rng: random.Random, nprng: np.random.Generator) -> bytes:
    """Every page rasterised at 150 dpi, degraded like a copier scan, and put back as an
    image-only PDF (no text layer)."""
    gray = rng.random() < 0.5
    pages = [jpeg_bytes(scan_effect(p, rng, nprng, gray), rng.randint(70, 80)) for p in rasterise(pdf, 150)]
    return _pdf(lambda cv: [draw_page_image(cv, jp) for jp in pages])


def _statement(out: Path, seed: int, variant: str, k: int, slot: int) -> dict:
    """k: 1-based number among the statements of the printed variant (edited ones are pdf);
    slot: 0-based number among all statements, which picks the column layout (cycling, so
    every layout shows up in born-digital and scanned form) and whether totals are printed
    (one statement in four leaves them out)."""
    special = "edited" if variant == "edited" else None
    variant = "pdf" if special else variant
    name = f"statement_{variant}_{k:03d}" + ("_edited" if special else "")
    rng, nprng = _rngs(seed, "render:" + name)
    ident = _person(seed, name)
    layout, totals = LAYOUTS[slot % len(LAYOUTS)], slot % 4 != 3
    if variant == "scan":  # a short statement that fits one page
        for rows in ((20, 26), (16, 20), (12, 16), (8, 12)):
            st = random_statement(rng, ident.name, rows=rows)
            pages: list[int] = []
            pdf = _pdf(lambda cv: pages.append(render_statement(cv, st, rng, nprng, layout, True, totals)))
            if pages[0] == 1:
                break
        else:
            raise RuntimeError("one-page statement did not fit")
        page = rasterise(pdf, rng.uniform(150, 170))[0]
        fname = name + ".jpg"
        (out / fname).write_bytes(jpeg_bytes(scan_effect(page, rng, nprng), rng.randint(76, 84)))
        n_pages = 1
    else:
        st = random_statement(rng, ident.name, edited=special == "edited")
        pages = []
        pdf = _pdf(lambda cv: pages.append(render_statement(cv, st, rng, nprng, layout, totals=totals)))
        n_pages = pages[0]
        if variant == "scan_pdf":
            pdf = _scan_pages_pdf(pdf, rng, nprng)
        fname = name + ".pdf"
        (out / fname).write_bytes(pdf)
    return {"file": fname, "variant": variant, "special": special,
            "documents": [_statement_doc(st, layout, list(range(1, n_pages + 1)))]}


# ---------------------------------------------------------------- mixed file

def _id_page(seed: int, idcard_dir: Path) -> tuple[bytes, list[dict], str]:
    """The ID card photocopy page: the checked-in combo scan when present (so the mixed file
    shows a card the ID set already describes), else one rendered the same way."""
    jpg, gt = idcard_dir / f"{MIXED_ID_SAMPLE}.jpg", idcard_dir / f"{MIXED_ID_SAMPLE}.json"
    if jpg.is_file() and gt.is_file():
        docs = json.loads(gt.read_text(encoding="utf-8"))["documents"]
        return jpg.read_bytes(), docs, f"idcards/{MIXED_ID_SAMPLE}.jpg"
    rng, nprng = _rngs(seed, "mixed-id")
    ident = random_identity(rng, birth_years=(1966, 1998))
    width = rng.randint(900, 1300)
    page = idcard.combo_page(idcard.render_front(ident, rng, nprng, width),
                             idcard.render_back(ident, rng, nprng, width), rng, nprng)
    docs = [{"doc_type": "id_card_front", "fields": ident.front_fields()},
            {"doc_type": "id_card_back", "fields": ident.back_fields()}]
    return jpeg_bytes(page, 88), docs, "generated"


def _mixed(out: Path, seed: int, k: int, idcard_dir: Path) -> dict:
    name = f"mixed_{k:03d}"
    rng, nprng = _rngs(seed, "render:" + name)
    id_jpeg, id_docs, id_source = _id_page(seed, idcard_dir)
    front = next(d["fields"] for d in id_docs if d["doc_type"] == "id_card_front")
    birth = dt.date.fromisoformat(front["birth_date"])
    cert = random_certificate(rng, front["name"], front["id_number"], front["sex"], birth)
    extra: dict = {}
    cert_pdf = _pdf(lambda cv: extra.update(render_certificate(cv, cert, rng, nprng)))
    cert_jpeg = jpeg_bytes(scan_effect(rasterise(cert_pdf, 150)[0], rng, nprng), rng.randint(76, 84))
    # Take-home pay is below the pre-tax monthly figure, within the 30 % the check allows.
    net = cert.monthly * rng.randint(76, 90) // 100
    st = random_statement(rng, front["name"], employer=cert.employer, salary=net)
    layout = rng.choice(LAYOUTS)
    n: list[int] = []

    def draw(cv):
        draw_page_image(cv, id_jpeg, fit=True)
        draw_page_image(cv, cert_jpeg)
        n.append(render_statement(cv, st, rng, nprng, layout))

    fname = name + ".pdf"
    (out / fname).write_bytes(_pdf(draw))
    docs = [{**d, "pages": [1]} for d in id_docs]
    docs.append(_income_doc(cert, extra, [2]))
    docs.append(_statement_doc(st, layout, list(range(3, 3 + n[0]))))
    return {"file": fname, "variant": "mixed", "special": None, "id_source": id_source, "documents": docs}


# ---------------------------------------------------------------- the set

def generate_financial_samples(out_dir: str | Path, seed: int = DEFAULT_SEED,
                               counts: dict[str, int] | None = None, clean: bool = False,
                               idcard_dir: str | Path | None = None) -> list[dict]:
    """Write the income certificate / bank statement samples + ground truth into ``out_dir``;
    returns the manifest entries. counts: keys of DEFAULT_COUNTS (missing keys default).
    clean: first delete the files this generator names (income_*, statement_*, mixed_*)."""
    counts = {**DEFAULT_COUNTS, **(counts or {})}
    out = output_dir(out_dir, clean, lambda name: bool(_OUR_FILES.match(name)) or name == "manifest.json")
    entries = []
    n_cert = 0
    for variant in ("pdf", "scan", "scan_gray", "photo"):
        for k in range(1, counts.get("income_" + variant, 0) + 1):
            # Templates cycle over the whole set so that every HR style is represented.
            entries.append(_income(out, seed, variant, k, TEMPLATES[n_cert % len(TEMPLATES)]))
            n_cert += 1
    slot = 0
    for variant in ("pdf", "scan_pdf", "scan", "edited"):
        # Edited statements are numbered after the plain pdf ones (statement_pdf_004_edited).
        first = counts.get("statement_pdf", 0) if variant == "edited" else 0
        for k in range(1, counts.get("statement_" + variant, 0) + 1):
            entries.append(_statement(out, seed, variant, first + k, slot))
            slot += 1
    for k in range(1, counts.get("mixed", 0) + 1):
        entries.append(_mixed(out, seed, k, Path(idcard_dir) if idcard_dir else IDCARD_DIR))
    for e in entries:
        (out / (Path(e["file"]).stem + ".json")).write_text(
            json.dumps(e, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    manifest = {
        "generator": "loandocs.samplegen.financial_set.generate_financial_samples",
        "seed": seed,
        "counts": counts,
        "reference_date": REFERENCE_DATE.isoformat(),
        "conventions": {
            "amount": "signed yuan, + credit (money in), - debit",
            "balance": "balance printed after the transaction",
            "total_debits": "positive sum of debits",
            "edited": "edited_row's amount is the printed (altered) one; balances and totals are "
                      "the bank's, so the running balance breaks at that row only",
            "not_printed": "fields in the ground truth that the document does not print",
            "amounts_in_words": "field -> capital-form amount printed for it",
            "pages": "1-based pages of the file that hold the document",
        },
        "note": "synthetic people, employers and accounts only; bank names are used as headings",
        "entries": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    return entries
