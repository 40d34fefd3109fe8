"""Regenerate samples/statements: the statement layout zoo (14 families, 4 held out), one
born-digital and one edited statement per family, and scanned statements of some families,
with ground truth beside each file (made-up people and accounts only).

    python samples/make_statement_samples.py [--out samples/statements] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from loandocs.samplegen.statement_zoo import generate_zoo  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "statements"))
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    entries = generate_zoo(args.out, seed=args.seed)
    total = sum((Path(args.out) / e["file"]).stat().st_size for e in entries)
    print(f"wrote {len(entries)} statements ({total / 1e6:.1f} MB) + ground truth to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
