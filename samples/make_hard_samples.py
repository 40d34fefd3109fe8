"""Write the hard sample set (photocopies with overlays and stamps, full-frame cards, clean
photos of white documents, other documents, a complete application of clean photos).

    .venv/bin/python samples/make_hard_samples.py                 # samples/hard (tuning, tests)
    .venv/bin/python samples/make_hard_samples.py --held-out DIR  # the held-out seed, for reports only
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loandocs.samplegen.hard import DEFAULT_SEED, HELD_OUT_SEED, generate_hard_samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).parent / "hard"))
    ap.add_argument("--held-out", metavar="DIR", help="write the held-out seed's set to DIR instead")
    ap.add_argument("--seed", type=int)
    args = ap.parse_args()
    out = args.held_out or args.out
    seed = args.seed or (HELD_OUT_SEED if args.held_out else DEFAULT_SEED)
    entries = generate_hard_samples(out, seed)
    print(f"{len(entries)} samples in {out} (seed {seed})")


if __name__ == "__main__":
    main()
