"""Regenerate the checked-in synthetic income certificates and bank statements (made-up
people, employers and accounts only).

    python samples/make_financial_samples.py [--out samples/financial] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from loandocs.samplegen.financial_set import (  # noqa: E402
    DEFAULT_COUNTS,
    DEFAULT_SEED,
    generate_financial_samples,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "financial"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    for key, n in DEFAULT_COUNTS.items():
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, type=int, default=n,
                            help=f"how many {key} samples ({n})")
    args = parser.parse_args(argv)
    counts = {key: getattr(args, key) for key in DEFAULT_COUNTS}
    entries = generate_financial_samples(args.out, seed=args.seed, counts=counts, clean=True)
    total = sum((Path(args.out) / e["file"]).stat().st_size for e in entries)
    print(f"wrote {len(entries)} files ({total / 1e6:.1f} MB) + ground truth to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
