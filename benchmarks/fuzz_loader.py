"""The fuzz harness of tests/test_fuzz.py at scale: N mutated samples (images and PDFs) into
the loader (``load_file``, rendering at 50 dpi) and, for PDFs under 200 KB, the text-layer
parser, each in a sandbox process under a time limit.

    python benchmarks/fuzz_loader.py --cases 20000 --seed 1 [--timeout 20] [--save DIR]
    python benchmarks/fuzz_loader.py --hostile [--no-scan] [--timeout 30]

Prints the outcome counts (ok / each error code / crash / hang / died) and call times. Any
input that crashed, hung or killed the process is written to ``--save`` for reproduction.
Exit status 1 when there was any such input or an unknown error code.

``--hostile`` instead times each file of ``tests/hostile.py`` through the same call;
``--no-scan`` switches the PDF structure scan and the JPEG scan cap off in the sandbox, to show
what they prevent.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from tests.hostile import LOADER_CODES, SAMPLE_IMAGES, SAMPLE_PDFS, Sandbox, mutate, pdf_mutations
    from tests.test_fuzz import image_seeds, pdf_seeds

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per call before it counts as a hang")
    ap.add_argument("--save", type=Path, default=None, help="folder for inputs that crashed or hung")
    ap.add_argument("--hostile", action="store_true", help="time the hostile files instead of fuzzing")
    ap.add_argument("--no-scan", action="store_true", help="with --hostile: PDF scan and JPEG scan cap off")
    args = ap.parse_args()
    if args.hostile:
        return hostile_files(args.timeout, args.no_scan)

    images = image_seeds() + [p.read_bytes() for p in SAMPLE_IMAGES[1:]]
    pdfs = pdf_seeds() + [p.read_bytes() for p in SAMPLE_PDFS if p.name.startswith("statement_pdf")]
    rng = random.Random(args.seed)
    sandbox = Sandbox("load")
    outcomes: Counter[str] = Counter()
    times: dict[str, list[float]] = {"image": [], "pdf": []}
    bad: list[tuple[str, str]] = []
    t_start = time.perf_counter()
    try:
        for i in range(args.cases):
            is_pdf = i % 2 == 1
            base = rng.choice(pdfs if is_pdf else images)
            data = pdf_mutations(base, rng) if is_pdf and rng.random() < 0.5 else mutate(base, rng, images[:2] + pdfs[:2])
            t0 = time.perf_counter()
            kind, value = sandbox.call(data, args.timeout)
            times["pdf" if is_pdf else "image"].append(time.perf_counter() - t0)
            label = value if kind == "error" else kind
            outcomes[str(label)] += 1
            if kind in ("crash", "hang", "died") or (kind == "error" and value not in LOADER_CODES):
                bad.append((f"case{i:06d}", f"{kind}: {value}"))
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    (args.save / f"case{i:06d}.bin").write_bytes(data)
            if (i + 1) % 2000 == 0:
                print(f"{i + 1} cases, {time.perf_counter() - t_start:.0f} s", file=sys.stderr, flush=True)
    finally:
        sandbox.close()
    wall = time.perf_counter() - t_start

    print(f"cases: {args.cases} (seed {args.seed}), wall {wall:.0f} s")
    for label, n in outcomes.most_common():
        print(f"  {label:20s} {n:6d}")
    for kind, ts in times.items():
        if ts:
            q = statistics.quantiles(ts, n=100)
            print(f"{kind:5s} calls: {len(ts)}, median {statistics.median(ts) * 1000:.0f} ms, "
                  f"p99 {q[98] * 1000:.0f} ms, max {max(ts) * 1000:.0f} ms")
    print(f"crashes, hangs, dead processes, unknown codes: {len(bad)}")
    for name, what in bad[:20]:
        print(f"  {name}: {what[:300]}")
    return 1 if bad else 0


def hostile_files(timeout: float, no_scan: bool) -> int:
    from tests.hostile import Sandbox, hostile

    sandbox = Sandbox("load-noscan" if no_scan else "load")
    try:
        print(f"{'file':28s} {'bytes':>9s} {'seconds':>8s}  outcome (expected code)")
        for name, (data, code) in hostile().items():
            t0 = time.perf_counter()
            kind, value = sandbox.call(data, timeout)
            took = time.perf_counter() - t0
            outcome = value if kind == "error" else f"{kind} after {took:.0f} s" if kind == "hang" else kind
            print(f"{name:28s} {len(data):9d} {took:8.3f}  {outcome} ({code})", flush=True)
    finally:
        sandbox.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
