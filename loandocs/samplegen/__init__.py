"""Synthetic sample documents with ground truth (made-up people only).

``generate_idcard_samples(out_dir)`` writes ID card images (``NAME.jpg``), one ground-truth
``NAME.json`` beside each, and ``manifest.json`` listing them all. Output is deterministic for
a seed: every sample draws from its own generators seeded from (seed, sample name), so changing
one count does not change the other samples.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from loandocs.samplegen import idcard
from loandocs.samplegen.identity import REFERENCE_DATE, Identity, random_identity

__all__ = ["DEFAULT_COUNTS", "DEFAULT_SEED", "SPECIALS", "generate_idcard_samples"]

DEFAULT_SEED = 20261129
# scan/photo: half fronts, half backs; rotated: mixed sides and bases; special: how many of
# SPECIALS to make (always as scans).
DEFAULT_COUNTS = {"scan": 12, "photo": 12, "rotated": 12, "combo": 4, "special": 4}
SPECIALS = ("expired", "long_term", "checksum_invalid", "underage")
ROTATIONS = (90, 180, 270)
_OUR_FILES = re.compile(r"^(front|back|combo)_[a-z_]+(_\d{3})?\.(jpg|json)$")


def _rngs(seed: int, key: str) -> tuple[random.Random, np.random.Generator]:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return random.Random(digest[:16]), np.random.default_rng(int.from_bytes(digest[16:], "big"))


def _person(seed: int, key: str, **kw) -> Identity:
    return random_identity(_rngs(seed, "person:" + key)[0], **kw)


def _docs(ident: Identity, sides: tuple[str, ...]) -> list[dict]:
    docs = []
    if "front" in sides:
        docs.append({"doc_type": "id_card_front", "fields": ident.front_fields()})
    if "back" in sides:
        docs.append({"doc_type": "id_card_back", "fields": ident.back_fields()})
    return docs


def _render(side: str, ident: Identity, rng, nprng, width: int | None = None):
    fn = idcard.render_front if side == "front" else idcard.render_back
    return fn(ident, rng, nprng, width)


def _single(side: str, base: str, ident: Identity, rng, nprng) -> tuple[np.ndarray, int]:
    """One card side as a scan or photo; returns (image, JPEG quality)."""
    if base == "photo":
        fw, frac, cw = idcard.photo_card_width(rng)
        card = _render(side, ident, rng, nprng, cw)
        return idcard.photo_image(card, rng, nprng, fw, frac), rng.randint(70, 90)
    card = _render(side, ident, rng, nprng)
    return idcard.scan_image(card, rng, nprng), rng.randint(85, 95)


def _plan(counts: dict[str, int]) -> list[dict]:
    """What to make: name, variant, sides, base (scan/photo), rotation, special, person key."""
    jobs = []
    for variant in ("scan", "photo"):
        n = counts.get(variant, 0)
        n_front = (n + 1) // 2
        for i in range(n):  # front i and back i show the same person, so they pair up
            side, k = ("front", i) if i < n_front else ("back", i - n_front)
            jobs.append(dict(name=f"{side}_{variant}_{k + 1:03d}", variant=variant, sides=(side,),
                             base=variant, rotation=0, special=None, person=f"{variant}:{k}"))
    n = counts.get("rotated", 0)
    per_side = {"front": 0, "back": 0}
    for i in range(n):
        # Cycle so that every side x base x angle combination appears in a set of 12.
        side = ("front", "back")[(i // 6) % 2] if n >= 12 else ("front", "back")[i % 2]
        per_side[side] += 1
        jobs.append(dict(name=f"{side}_rotated_{per_side[side]:03d}", variant="rotated",
                         sides=(side,), base=("scan", "photo")[i % 2], rotation=ROTATIONS[i % 3],
                         special=None, person=f"rotated:{i}"))
    for i in range(counts.get("combo", 0)):
        jobs.append(dict(name=f"combo_scan_{i + 1:03d}", variant="combo", sides=("front", "back"),
                         base="scan", rotation=0, special=None, person=f"combo:{i}"))
    for special in SPECIALS[: counts.get("special", 0)]:
        # Validity is printed on the back, so those specials show both sides on one page.
        both = special in ("expired", "long_term")
        jobs.append(dict(name=f"{'combo' if both else 'front'}_special_{special}",
                         variant="combo" if both else "scan",
                         sides=("front", "back") if both else ("front",), base="scan",
                         rotation=0, special=special, person=f"special:{special}"))
    return jobs


def _identity_for(seed: int, job: dict) -> Identity:
    special = job["special"]
    if special == "expired":
        return _person(seed, job["person"], validity="expired")
    if special == "long_term":
        # 46+ at issue for 长期, but at most 65 on the reference date so that this sample
        # raises no other check (age_out_of_range) besides showing a long-term card.
        return _person(seed, job["person"], birth_years=(1962, 1975), validity="long_term")
    if special == "checksum_invalid":
        return _person(seed, job["person"], bad_checksum=True)
    if special == "underage":
        return _person(seed, job["person"], birth_years=(2010, 2010))
    return _person(seed, job["person"])


def output_dir(out_dir: str | Path, clean: bool, ours: Callable[[str], bool]) -> Path:
    """``out_dir``, created; with ``clean``, first rid of the files a generator names (``ours``),
    so a smaller set leaves no stale files behind and nothing else is touched."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if clean:
        for p in out.iterdir():
            if p.is_file() and ours(p.name):
                p.unlink()
    return out


def generate_idcard_samples(out_dir: str | Path, seed: int = DEFAULT_SEED,
                            counts: dict[str, int] | None = None, clean: bool = False) -> list[dict]:
    """Write synthetic ID card images + ground truth into ``out_dir``; returns the entries.

    counts: per variant (``scan``, ``photo``, ``rotated``, ``combo``) how many images, and
    ``special``: how many of SPECIALS (expired, long_term, checksum_invalid, underage) to add.
    Missing keys default to DEFAULT_COUNTS. clean: first delete files this generator names
    (front_*/back_*/combo_* .jpg/.json) so a smaller set leaves no stale files behind.
    """
    counts = {**DEFAULT_COUNTS, **(counts or {})}
    out = output_dir(out_dir, clean, lambda name: bool(_OUR_FILES.match(name)))
    entries = []
    for job in _plan(counts):
        ident = _identity_for(seed, job)
        rng, nprng = _rngs(seed, "render:" + job["name"])
        if job["variant"] == "combo":
            width = rng.randint(900, 1300)
            front = _render("front", ident, rng, nprng, width)
            back = _render("back", ident, rng, nprng, width)
            img, quality = idcard.combo_page(front, back, rng, nprng), rng.randint(85, 95)
        else:
            img, quality = _single(job["sides"][0], job["base"], ident, rng, nprng)
            img = idcard.rotate(img, job["rotation"])
        fname = job["name"] + ".jpg"
        idcard.save_jpeg(img, str(out / fname), quality)
        entry = {"file": fname, "variant": job["variant"], "rotation": job["rotation"],
                 "special": job["special"], "documents": _docs(ident, job["sides"])}
        (out / (job["name"] + ".json")).write_text(
            json.dumps(entry, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        entries.append(entry)
    manifest = {
        "generator": "loandocs.samplegen.generate_idcard_samples",
        "seed": seed,
        "counts": counts,
        "reference_date": REFERENCE_DATE.isoformat(),
        "rotation": "degrees the upright image was turned clockwise; turn it back counter-clockwise",
        "note": "synthetic people only: names, addresses and ID numbers are invented",
        "entries": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    return entries
