"""Accuracy on a held-out, harder set that the tests never see: a fresh seed, then conditions
worse than the checked-in samples (heavier blur, small and low-resolution cards, crooked
scans, pale backgrounds, dim light, strong JPEG). Writes the set to a temp folder and prints
per-condition field accuracy.

    .venv/bin/python benchmarks/stress_idcard.py [--n 8] [--seed 4242] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from loandocs.evaluation import evaluate
from loandocs.reader import Pipeline, PipelineOptions
from loandocs.samplegen import _docs, _person, _render, _rngs, idcard


def _hard_photo(card_side, ident, rng, nprng):
    fw, _, _ = idcard.photo_card_width(rng)
    frac = rng.uniform(0.30, 0.45)
    card = _render(card_side, ident, rng, nprng, int(max(700, fw * frac)))
    img = idcard.photo_image(card, rng, nprng, fw, frac)
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(1.2, 1.8)), rng.randint(55, 70)


def _lowres_scan(card_side, ident, rng, nprng):
    img = idcard.scan_image(_render(card_side, ident, rng, nprng, 900), rng, nprng)
    s = rng.uniform(560, 680) / img.shape[1]
    return cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA), rng.randint(65, 80)


def _crooked_scan(card_side, ident, rng, nprng):
    arr = idcard.card_on_white(_render(card_side, ident, rng, nprng), rng, nprng)
    pad = arr.shape[1] // 6
    arr = np.pad(arr, ((pad, pad), (pad, pad), (0, 0)), constant_values=255)
    return idcard._tilt(arr, rng.choice([-1, 1]) * rng.uniform(3, 9)), 85


def _pale_photo(card_side, ident, rng, nprng):
    img, q = idcard.photo_image(_render(card_side, ident, rng, nprng, 1300), rng, nprng, 1900, 0.6), 80
    # Lift the background towards light grey: the card edge gets faint.
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] *= 0.3
    img = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    return np.clip(img * 0.6 + 90, 0, 255).astype(np.uint8), q


def _dim_photo(card_side, ident, rng, nprng):
    fw, frac, cw = idcard.photo_card_width(rng)
    img = idcard.photo_image(_render(card_side, ident, rng, nprng, cw), rng, nprng, fw, frac)
    dim = (255 * (img / 255.0) ** 1.6 * 0.55).astype(np.float32)
    dim += nprng.normal(0, 4, dim.shape)
    return np.clip(dim, 0, 255).astype(np.uint8), 75


CONDITIONS = {
    "hard_photo": _hard_photo,
    "lowres_scan": _lowres_scan,
    "crooked_scan": _crooked_scan,
    "pale_photo": _pale_photo,
    "dim_photo": _dim_photo,
}


def build(out: Path, n: int, seed: int) -> None:
    for cond, make in CONDITIONS.items():
        for i in range(n):
            side = ("front", "back")[i % 2]
            ident = _person(seed, f"{cond}:{i}")
            rng, nprng = _rngs(seed, f"{cond}:{i}")
            img, quality = make(side, ident, rng, nprng)
            if i % 4 == 3:  # some of each upside down or on their side
                img = idcard.rotate(img, (90, 180, 270)[i % 3])
            name = f"{side}_{cond}_{i:03d}"
            idcard.save_jpeg(img, str(out / f"{name}.jpg"), quality)
            entry = {"file": f"{name}.jpg", "variant": cond, "documents": _docs(ident, (side,))}
            (out / f"{name}.json").write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=8, help="images per condition")
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--keep", help="write the set here instead of a temp folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp)
        out.mkdir(parents=True, exist_ok=True)
        build(out, args.n, args.seed)
        report = evaluate(out, Pipeline(PipelineOptions()))
    data = report.to_dict()
    print(f"held-out stress set: {data['files']} images, seed {args.seed}")
    print(f"field accuracy: {data['field_accuracy']:.2%}   doc type accuracy: {data['doc_type_accuracy']:.2%}")
    for k, v in data["by_variant"].items():
        print(f"  {k:<14} {v['accuracy']:.2%}  ({v['right']}/{v['total']})")
    for m in data["mismatches"]:
        print(f"  {m['file']}: {m['field']} expected {m['expected']!r} got {m['got']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
