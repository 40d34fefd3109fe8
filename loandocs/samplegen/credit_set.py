"""The synthetic sample set of the materials of issue 14, with ground truth: credit reports
(born-digital PDF in both templates, image-only PDF, scans and photos; several accounts,
overdue months, inquiries, a stale one), business licences (valid and invalid codes, an expired
term, a 个体工商户), property certificates (new and old), and OFD files (a statement, a
certificate, a scanned certificate wrapped in OFD).

``generate_materials_samples(out_dir, seed)`` writes ``NAME.pdf|jpg|ofd``, ``NAME.json`` beside
each and ``manifest.json``. Every sample draws from generators seeded by (seed, sample name):
the tuned set is ``DEFAULT_SEED``; ``HELD_OUT_SEED`` gives a set of the same plan the parsers
were never tuned on (``held_out`` in each ground truth).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from loandocs.samplegen import output_dir
from loandocs.samplegen.credit import random_report, render_report
from loandocs.samplegen.financial import draw_page_image, jpeg_bytes, new_canvas, photo_effect, rasterise, scan_effect
from loandocs.samplegen.identity import REFERENCE_DATE, random_identity
from loandocs.samplegen.licence import random_licence, render_licence
from loandocs.samplegen.ofd import images_to_ofd, pdf_to_ofd
from loandocs.samplegen.property import random_property, render_property
from loandocs.samplegen.statement import random_statement, render_statement

__all__ = ["DEFAULT_SEED", "HELD_OUT_SEED", "PLAN", "generate_materials_samples"]

DEFAULT_SEED = 20261129
HELD_OUT_SEED = 20270314
# (name, kind, variant, special): the same plan for every seed.
PLAN: tuple[tuple[str, str, str, str | None], ...] = (
    ("credit_pdf_001", "credit", "pdf", "detail:clean"),
    ("credit_pdf_002", "credit", "pdf", "detail:overdue"),
    ("credit_pdf_003", "credit", "pdf", "brief:many_inquiries"),
    ("credit_pdf_004", "credit", "pdf", "brief:bad_class"),
    ("credit_pdf_005_stale", "credit", "pdf", "detail:stale"),
    ("credit_scan_pdf_001", "credit", "scan_pdf", "detail:overdue"),
    ("credit_scan_001", "credit", "scan", "detail:overdue"),
    ("credit_scan_002", "credit", "scan", "brief:clean"),
    ("credit_photo_001", "credit", "photo", "detail:bad_class"),
    ("licence_pdf_001", "licence", "pdf", None),
    ("licence_pdf_002_invalid_code", "licence", "pdf", "invalid_code"),
    ("licence_pdf_003_expired", "licence", "pdf", "expired"),
    ("licence_scan_001", "licence", "scan", None),
    ("licence_scan_002_individual", "licence", "scan", "individual"),
    ("licence_photo_001", "licence", "photo", None),
    ("licence_photo_002_invalid_code", "licence", "photo", "invalid_code"),
    ("property_pdf_001", "property", "pdf", "new"),
    ("property_pdf_002", "property", "pdf", "old"),
    ("property_scan_001", "property", "scan", "new"),
    ("property_photo_001", "property", "photo", None),
    ("statement_ofd_001", "statement", "ofd", None),
    ("property_ofd_001", "property", "ofd", "new"),
    ("property_ofd_scan_001", "property", "ofd_scan", "new"),
)
_OUR_FILES = re.compile(r"^(credit|licence|property|statement)_[a-z0-9_]+\.(pdf|jpg|ofd|json)$")


def _rngs(seed: int, key: str) -> tuple[random.Random, np.random.Generator]:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return random.Random(digest[:16]), np.random.default_rng(int.from_bytes(digest[16:], "big"))


def _pdf(draw: Callable[[Any], Any]) -> tuple[bytes, Any]:
    buf = io.BytesIO()
    cv = new_canvas(buf, "synthetic sample")
    out = draw(cv)
    cv.save()
    return buf.getvalue(), out


def _raster(pdf: bytes, variant: str, rng: random.Random, nprng: np.random.Generator) -> bytes:
    if variant == "photo":
        return jpeg_bytes(photo_effect(rasterise(pdf, rng.uniform(135, 160))[0], rng, nprng), rng.randint(74, 84))
    return jpeg_bytes(scan_effect(rasterise(pdf, rng.uniform(160, 190))[0], rng, nprng, gray=rng.random() < 0.3), rng.randint(76, 86))


def _scan_pages_pdf(pdf: bytes, rng: random.Random, nprng: np.random.Generator) -> bytes:
    pages = [jpeg_bytes(scan_effect(p, rng, nprng), rng.randint(74, 82)) for p in rasterise(pdf, 170)]
    return _pdf(lambda cv: [draw_page_image(cv, jp) for jp in pages])[0]


def _credit(seed: int, name: str, variant: str, special: str) -> tuple[bytes, list[dict], dict]:
    rng, nprng = _rngs(seed, "render:" + name)
    ident = random_identity(_rngs(seed, "person:" + name)[0], birth_years=(1966, 1998))
    template, scenario = special.split(":")
    one_page = variant in ("scan", "photo")
    for _ in range(8):
        rep = random_report(rng, ident.name, ident.id_number, REFERENCE_DATE, scenario=scenario, template=template,
                            n_accounts=(2, 2) if one_page else (3, 5), n_queries=(3, 5) if one_page else (4, 10))  # fmt: skip
        pdf, pages = _pdf(lambda cv: render_report(cv, rep, rng))
        if not one_page or pages == 1:
            break
    data = _raster(pdf, variant, rng, nprng) if one_page else _scan_pages_pdf(pdf, rng, nprng) if variant == "scan_pdf" else pdf
    doc = {"doc_type": "credit_report", "pages": list(range(1, (1 if one_page else pages) + 1)), "fields": rep.fields(),
           "tables": {"accounts": [a.truth() for a in rep.accounts],
                      "queries": [{"date": q.date.isoformat(), "institution": q.institution, "reason": q.reason} for q in rep.queries]},
           "template": template}  # fmt: skip
    return data, [doc], {"scenario": scenario}


def _licence(seed: int, name: str, variant: str, special: str | None) -> tuple[bytes, list[dict], dict]:
    rng, nprng = _rngs(seed, "render:" + name)
    lic = random_licence(rng, REFERENCE_DATE, special=special if special != "individual" else None, individual=special == "individual")
    pdf, _ = _pdf(lambda cv: render_licence(cv, lic, rng, nprng))
    data = pdf if variant == "pdf" else _raster(pdf, variant, rng, nprng)
    return data, [{"doc_type": "business_licence", "pages": [1], "fields": lic.fields(), "layout": lic.layout}], {}


def _property(seed: int, name: str, variant: str, special: str | None) -> tuple[bytes, list[dict], dict]:
    rng, nprng = _rngs(seed, "render:" + name)
    pc = random_property(rng, style=special)
    pdf, _ = _pdf(lambda cv: render_property(cv, pc, rng, nprng))
    if variant == "pdf":
        data = pdf
    elif variant == "ofd":
        data = pdf_to_ofd(pdf)
    elif variant == "ofd_scan":
        data = images_to_ofd([_raster(pdf, "scan", rng, nprng)])
    else:
        data = _raster(pdf, variant, rng, nprng)
    return data, [{"doc_type": "property_certificate", "pages": [1], "fields": pc.fields(), "style": pc.style}], {}


def _statement(seed: int, name: str, variant: str, special: str | None) -> tuple[bytes, list[dict], dict]:
    rng, nprng = _rngs(seed, "render:" + name)
    ident = random_identity(_rngs(seed, "person:" + name)[0], birth_years=(1966, 1998))
    st = random_statement(rng, ident.name)
    pdf, pages = _pdf(lambda cv: render_statement(cv, st, rng, nprng, totals=True))
    doc = {"doc_type": "bank_statement", "pages": list(range(1, pages + 1)), "fields": st.fields(), "transactions": st.transactions()}
    return pdf_to_ofd(pdf), [doc], {}


_MAKERS = {"credit": _credit, "licence": _licence, "property": _property, "statement": _statement}


def generate_materials_samples(out_dir: str | Path, seed: int = DEFAULT_SEED, clean: bool = False,
                               only: tuple[str, ...] | None = None) -> list[dict]:  # fmt: skip
    """Write the set (or the samples named in ``only``) into ``out_dir``; returns the entries."""
    out = output_dir(out_dir, clean, lambda name: bool(_OUR_FILES.match(name)))
    entries = []
    for name, kind, variant, special in PLAN:
        if only is not None and name not in only:
            continue
        data, docs, extra = _MAKERS[kind](seed, name, variant, special)
        ext = "jpg" if variant in ("scan", "photo") else "ofd" if variant.startswith("ofd") else "pdf"
        entry = {"file": f"{name}.{ext}", "variant": variant, "special": special, "seed": seed, "held_out": seed != DEFAULT_SEED,
                 "documents": docs, **extra}  # fmt: skip
        (out / entry["file"]).write_bytes(data)
        (out / f"{name}.json").write_text(json.dumps(entry, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        entries.append(entry)
    manifest = {
        "generator": "loandocs.samplegen.credit_set.generate_materials_samples",
        "seed": seed,
        "held_out": seed != DEFAULT_SEED,
        "reference_date": REFERENCE_DATE.isoformat(),
        "application_date": REFERENCE_DATE.isoformat(),
        "conventions": {
            "repayment_24m": "24 symbols, oldest month first: N normal, * nothing due, 1-7 periods overdue, C settled, G ended, D paid by guarantor, B bad debt, # unknown",
            "overdue_months_24m": "cells 1-7 over every account's grid",
            "hard_inquiries_6m": "贷款审批/信用卡审批/担保资格审查/保前审查 in the 6 months up to the report time",
            "total_outstanding": "sum of every account's balance (a card's used amount)",
            "card_utilisation": "used / limit over credit cards not closed, 4 decimals",
            "text": "values in their canonical form (NFKC: ASCII brackets), as the parser returns them",
        },
        "note": "synthetic people, companies, properties and numbers only; bank names are used as headings",
        "entries": entries,
    }
    if only is None:
        (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return entries
