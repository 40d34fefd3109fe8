"""The hard sample set (``samples/hard``): photocopies with overlays and stamps, cards that
fill the frame, clean phone photos of white documents, pages of documents that are none of
ours, and one complete application made of clean photos.

Every sample draws from generators seeded by (seed, sample name), like the other sets. The
checked-in folder uses ``DEFAULT_SEED`` (tuning and tests); ``HELD_OUT_SEED`` is generated into
a temporary folder for reporting only (``samples/make_hard_samples.py --held-out``).
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import cv2
import numpy as np

from loandocs.samplegen import idcard, otherdocs, photocopy
from loandocs.samplegen.financial import jpeg_bytes, new_canvas, photo_effect, rasterise
from loandocs.samplegen.identity import REFERENCE_DATE, random_identity
from loandocs.samplegen.income import random_certificate, render_certificate
from loandocs.samplegen.statement import random_statement, render_statement

DEFAULT_SEED = 20261207
HELD_OUT_SEED = 77003  # never looked at while tuning
DEFAULT_COUNTS = {"photocopy": 8, "flatbed": 3, "full_frame": 6, "white_photo": 3, "other": 4, "application": 1}
ANGLES = (0, 90, 180, 270)


def _rngs(seed: int, key: str) -> tuple[random.Random, np.random.Generator]:
    digest = hashlib.sha256(f"hard:{seed}:{key}".encode()).digest()
    return random.Random(digest[:16]), np.random.default_rng(int.from_bytes(digest[16:], "big"))


def _person(seed: int, key: str):
    return random_identity(_rngs(seed, "person:" + key)[0], birth_years=(1962, 2000))


def _id_docs(ident) -> list[dict]:
    return [{"doc_type": "id_card_front", "fields": ident.front_fields()},
            {"doc_type": "id_card_back", "fields": ident.back_fields()}]  # fmt: skip


def _pdf(draw) -> bytes:
    import io

    buf = io.BytesIO()
    cv = new_canvas(buf, "sample")
    draw(cv)
    cv.save()
    return buf.getvalue()


def _white_photo(page: np.ndarray, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    """A clean phone photo of a white sheet: exposed for the paper, so most of it reads
    250-255 (white, not glare), in even light on a desk."""
    img = photo_effect(page, rng, nprng).astype(np.float32)
    paper = float(np.percentile(img, 90))
    return np.clip(img * (rng.uniform(253, 262) / max(1.0, paper)), 0, 255).astype(np.uint8)


def _certificate(seed: int, name: str):
    ident = _person(seed, name)
    rng, nprng = _rngs(seed, "render:" + name)
    cert = random_certificate(rng, ident.name, ident.id_number, ident.sex, ident.birth_date)
    pdf = _pdf(lambda cv: render_certificate(cv, cert, rng, nprng))
    return ident, cert, pdf, rng, nprng


def _write(out: Path, name: str, data: bytes, entry: dict) -> dict:
    (out / entry["file"]).write_bytes(data)
    (out / f"{name}.json").write_text(json.dumps(entry, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return entry


def generate_hard_samples(out_dir: str | Path, seed: int = DEFAULT_SEED, counts: dict[str, int] | None = None) -> list[dict]:
    counts = {**DEFAULT_COUNTS, **(counts or {})}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    held_out = seed != DEFAULT_SEED
    entries = []
    for i in range(counts["photocopy"]):
        name = f"photocopy_{i + 1:03d}"
        ident = _person(seed, name)
        rng, nprng = _rngs(seed, "render:" + name)
        # Every angle pair shows up over a set of eight; the first two stay upright so that
        # the overlay alone can be told from the turning.
        rots = (0, 0) if i < 2 else (rng.choice(ANGLES), rng.choice(ANGLES))
        img, notes = photocopy.photocopy_page(ident, rng, nprng, rotations=rots)
        entry = {"file": name + ".jpg", "variant": "photocopy", "held_out": held_out, "notes": notes, "documents": _id_docs(ident)}
        entries.append(_write(out, name, jpeg_bytes(img, rng.randint(78, 90)), entry))
    for i in range(counts["flatbed"]):
        name = f"flatbed_{i + 1:03d}"
        ident = _person(seed, name)
        rng, nprng = _rngs(seed, "render:" + name)
        img, notes = photocopy.photocopy_page(ident, rng, nprng, watermark=False, stamps=False, grey=False)
        entry = {"file": name + ".jpg", "variant": "flatbed", "held_out": held_out, "notes": notes, "documents": _id_docs(ident)}
        entries.append(_write(out, name, jpeg_bytes(img, rng.randint(85, 92)), entry))
    for i in range(counts["full_frame"]):
        side = ("front", "back")[i % 2]
        name = f"full_frame_{side}_{i // 2 + 1:03d}"
        ident = _person(seed, name)
        rng, nprng = _rngs(seed, "render:" + name)
        card = (idcard.render_front if side == "front" else idcard.render_back)(ident, rng, nprng, rng.randint(1000, 1400))
        img = photocopy.full_frame(card, rng, nprng)
        docs = [d for d in _id_docs(ident) if d["doc_type"].endswith(side)]
        entry = {"file": name + ".jpg", "variant": "full_frame", "held_out": held_out, "clean": True, "documents": docs}
        entries.append(_write(out, name, jpeg_bytes(img, rng.randint(82, 92)), entry))
    for i in range(counts["white_photo"]):
        name = f"white_photo_{i + 1:03d}"
        _, cert, pdf, rng, nprng = _certificate(seed, name)
        img = _white_photo(rasterise(pdf, rng.uniform(140, 170))[0], rng, nprng)
        entry = {"file": name + ".jpg", "variant": "white_photo", "held_out": held_out, "clean": True,
                 "documents": [{"doc_type": "income_certificate", "fields": cert.fields()}]}  # fmt: skip
        entries.append(_write(out, name, jpeg_bytes(img, rng.randint(80, 90)), entry))
    kinds = otherdocs.KINDS
    for i in range(counts["other"]):
        kind = kinds[i % len(kinds)]
        name = f"other_{kind}_{i // len(kinds) + 1:03d}"
        ident = _person(seed, name)
        rng, nprng = _rngs(seed, "render:" + name)
        page = otherdocs.render(kind, ident, rng)
        if rng.random() < 0.5:
            page = photo_effect(page, rng, nprng)
        entry = {"file": name + ".jpg", "variant": "other", "held_out": held_out, "other": kind,
                 "documents": [{"doc_type": otherdocs.EXPECTED[kind], "fields": {}}]}  # fmt: skip
        entries.append(_write(out, name, jpeg_bytes(page, 85), entry))
    for i in range(counts["application"]):
        entries.extend(_application(out / f"application_{i + 1:03d}", seed, i, held_out))
    manifest = {"generator": "loandocs.samplegen.hard.generate_hard_samples", "seed": seed, "held_out": held_out,
                "counts": counts, "reference_date": REFERENCE_DATE.isoformat(),
                "note": "synthetic people only", "entries": entries}  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return entries


def _application(folder: Path, seed: int, i: int, held_out: bool) -> list[dict]:
    """One complete personal_consumer application made of clean photos (front, back,
    certificate) and the bank's statement PDF; ``check`` must call it ``collected``."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"application_{i + 1:03d}"
    ident = random_identity(_rngs(seed, "person:" + name)[0], birth_years=(1970, 1998))
    entries = []
    for side in ("front", "back"):
        rng, nprng = _rngs(seed, f"render:{name}:{side}")
        fw, frac, cw = idcard.photo_card_width(rng)
        card = (idcard.render_front if side == "front" else idcard.render_back)(ident, rng, nprng, cw)
        img = idcard.photo_image(card, rng, nprng, fw, frac)
        docs = [d for d in _id_docs(ident) if d["doc_type"].endswith(side)]
        entry = {"file": f"id_{side}.jpg", "variant": "application", "held_out": held_out, "clean": True, "documents": docs}
        entries.append(_write(folder, f"id_{side}", jpeg_bytes(img, rng.randint(82, 90)), entry))
    rng, nprng = _rngs(seed, f"render:{name}:income")
    cert = random_certificate(rng, ident.name, ident.id_number, ident.sex, ident.birth_date)
    pdf = _pdf(lambda cv: render_certificate(cv, cert, rng, nprng))
    img = _white_photo(rasterise(pdf, rng.uniform(140, 170))[0], rng, nprng)
    entry = {"file": "income.jpg", "variant": "application", "held_out": held_out, "clean": True,
             "documents": [{"doc_type": "income_certificate", "fields": cert.fields()}]}  # fmt: skip
    entries.append(_write(folder, "income", jpeg_bytes(img, 85), entry))
    rng, nprng = _rngs(seed, f"render:{name}:statement")
    st = random_statement(rng, ident.name, employer=cert.employer, salary=cert.monthly * 85 // 100)
    pdf = _pdf(lambda cv: render_statement(cv, st, rng, nprng, "split", totals=True))
    entry = {"file": "statement.pdf", "variant": "application", "held_out": held_out, "clean": True,
             "documents": [{"doc_type": "bank_statement", "fields": st.fields()}]}  # fmt: skip
    entries.append(_write(folder, "statement", pdf, entry))
    (folder / "application.json").write_text(json.dumps({"loan_type": "personal_consumer", "application_date": REFERENCE_DATE.isoformat(),
                                                         "expected_status": "collected"}, indent=1) + "\n", encoding="utf-8")  # fmt: skip
    return entries


__all__ = ["DEFAULT_COUNTS", "DEFAULT_SEED", "HELD_OUT_SEED", "cv2", "generate_hard_samples"]
