"""Regenerate the checked-in synthetic credit reports, business licences, property
certificates and OFD files (made-up people, companies and numbers only).

    python samples/make_materials_samples.py [--out samples/materials] [--seed N]

The held-out set (never used for tuning): ``--seed 20270314 --out /tmp/materials-heldout``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from loandocs.samplegen.credit_set import DEFAULT_SEED, generate_materials_samples  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "materials"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    entries = generate_materials_samples(args.out, seed=args.seed, clean=True)
    total = sum((Path(args.out) / e["file"]).stat().st_size for e in entries)
    print(f"wrote {len(entries)} files ({total / 1e6:.1f} MB) + ground truth to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
