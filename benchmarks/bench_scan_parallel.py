"""A scanned multi-page statement read page after page against its pages read at once
(``OcrOptions.page_workers``), in one process, interleaved, with the same output checked.

The scan is a born-digital statement of the layout zoo (family ``icbc``) rendered at 200 dpi
into an image-only PDF, so every page is OCRed. Both sides use every core the machine gives:
sequential is one engine with all the threads, parallel is one engine per page worker with its
share of them.

    .venv/bin/python benchmarks/bench_scan_parallel.py [--pages 10] [--repeat 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_statement import image_only_pdf  # noqa: E402
from bench_statement_long import make  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workers", type=int, default=0, help="page workers of the parallel side (0: by cores)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from loandocs.extractor import parallel
    from loandocs.reader import OcrOptions, Pipeline, PipelineOptions

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "statement.pdf"
        made = make(path, args.pages, "icbc")
        scan = image_only_pdf(path.read_bytes(), 200)
        short = Path(tmp) / "short.pdf"
        make(short, 2, "icbc")
        warm = image_only_pdf(short.read_bytes(), 200)
    pipelines = {
        "sequential": Pipeline(PipelineOptions(ocr=OcrOptions(page_workers=1))),
        "parallel": Pipeline(PipelineOptions(ocr=OcrOptions(page_workers=args.workers))),
    }
    plan = parallel.plan(pipelines["parallel"].options.ocr, made["pages"])
    outputs: dict[str, object] = {}
    times: dict[str, list[float]] = {k: [] for k in pipelines}
    for k, p in pipelines.items():  # warm-up on two pages: engines loaded, arenas allocated
        p.extract(warm, "warm.pdf")
    for _ in range(args.repeat):
        for k, p in pipelines.items():
            t0 = time.perf_counter()
            docs = p.extract(scan, "scan.pdf")
            times[k].append(time.perf_counter() - t0)
            outputs[k] = [(d.doc_type, {f: v.value for f, v in d.fields.items()},
                           [(t.date, t.amount, t.balance, t.description) for t in (d.transactions or [])]) for d in docs]
    seq, par = statistics.median(times["sequential"]), statistics.median(times["parallel"])
    out = {"pages": made["pages"], "transactions_drawn": made["transactions"], "repeat": args.repeat,
           "page_engines": plan[0], "threads_per_engine": plan[1],
           "sequential_s": round(seq, 1), "parallel_s": round(par, 1), "speedup": round(seq / par, 2),
           "same_output": outputs["sequential"] == outputs["parallel"],
           "transactions_read": len(outputs["parallel"][0][2]) if outputs["parallel"] else 0}  # type: ignore[index]
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"scan: {out['pages']} pages at 200 dpi, {out['transactions_drawn']} transactions drawn, repeats {args.repeat}")
    print(f"sequential : {seq:7.1f} s median (one engine, all threads)")
    print(f"parallel   : {par:7.1f} s median ({plan[0]} engines x {plan[1]} thread(s))")
    print(f"speed-up   : {seq / par:7.2f}x   same output: {out['same_output']}   transactions read: {out['transactions_read']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
