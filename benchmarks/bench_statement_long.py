"""A long born-digital statement (hundreds of text-layer pages) through the whole pipeline:
wall time and peak memory of the process that reads it.

The statement is drawn by the layout zoo (family ``icbc`` unless told) with enough rows for
the pages asked for, written to a temporary file, and read by a fresh Python process so that
its peak RSS is the reading alone (not the drawing).

    .venv/bin/python benchmarks/bench_statement_long.py [--pages 300] [--family icbc]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make(path: Path, pages: int, family: str) -> dict:
    from loandocs.samplegen.financial_set import _pdf
    from loandocs.samplegen.statement import random_statement
    from loandocs.samplegen.statement_zoo import BY_NAME, render

    fam = BY_NAME[family]
    rng = random.Random(pages)
    import numpy as np

    nprng = np.random.default_rng(pages)
    rows = 34 * pages  # about 34 rows fit a page; scaled below until the count is close
    for _ in range(4):
        st = random_statement(rng, "测试用户", rows=(rows, rows))
        n: list[int] = []
        data = _pdf(lambda cv: n.append(render(cv, st, fam, rng, nprng)))
        if abs(n[0] - pages) <= max(1, pages // 100):
            break
        rows = int(rows * pages / n[0])
    path.write_bytes(data)
    return {"pages": n[0], "transactions": len(st.txns), "bytes": len(data)}


def text_layer_alone(path: Path, pdfminer_pages: int) -> dict:
    """The text layer by itself (``read_text_layer``, PDFium) over every page, and pdfminer's
    character extraction (pdfplumber, what the text layer used before) over the first
    ``pdfminer_pages`` pages: seconds per page of each, wall and CPU, in this one process."""
    import pdfplumber

    from loandocs.extractor.options import Limits
    from loandocs.extractor.textlayer import read_text_layer

    data = path.read_bytes()
    w, c = time.perf_counter(), time.process_time()
    pages = read_text_layer(data, Limits())
    new = {"pages": len(pages), "wall_s_per_page": (time.perf_counter() - w) / len(pages),
           "cpu_s_per_page": (time.process_time() - c) / len(pages)}
    out = {"pdfium": new}
    if pdfminer_pages:
        w, c = time.perf_counter(), time.process_time()
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages[:pdfminer_pages]:
                page.dedupe_chars(tolerance=1).chars  # noqa: B018 - the interpretation is the cost
                page.close()
        out["pdfminer"] = {"pages": pdfminer_pages, "wall_s_per_page": (time.perf_counter() - w) / pdfminer_pages,
                           "cpu_s_per_page": (time.process_time() - c) / pdfminer_pages}
    return out


def measure(path: Path) -> dict:
    try:  # the pipeline with its default stages moved to loandocs.reader (rules/kinds split)
        from loandocs.reader import Pipeline
    except ImportError:  # pragma: no cover - a checkout from before the split
        from loandocs.extractor import Pipeline

    t0, c0 = time.perf_counter(), time.process_time()
    docs = Pipeline().extract(path.read_bytes(), path.name)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    st = [d for d in docs if d.doc_type == "bank_statement"]
    return {"seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "peak_rss_mib": round(peak_kib / 1024), "documents": len(docs),
            "statement_pages": len(st[0].pages) if st else 0,
            "transactions": len(st[0].transactions or []) if st else 0,
            "error": docs[0].error if docs and docs[0].error else None,
            "timings_ms": docs[0].timings_ms if docs else {}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--family", default="icbc")
    ap.add_argument("--pdfminer-pages", type=int, default=20,
                    help="pages read by pdfminer too, for the side-by-side per-page figure (0: none)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)  # the child process: read this file
    ap.add_argument("--text-layer", help=argparse.SUPPRESS)  # the child process: the text layer alone
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return 0
    if args.text_layer:
        print(json.dumps(text_layer_alone(Path(args.text_layer), args.pdfminer_pages)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"long_{args.pages}.pdf"
        made = make(path, args.pages, args.family)
        print(f"statement: family {args.family}, {made['pages']} pages, {made['transactions']} transactions, "
              f"{made['bytes'] / 1e6:.1f} MB")
        out = subprocess.run([sys.executable, __file__, "--measure", str(path)], capture_output=True, text=True,
                             check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        tl = subprocess.run([sys.executable, __file__, "--text-layer", str(path), "--pdfminer-pages",
                             str(args.pdfminer_pages)], capture_output=True, text=True, check=True)
        alone = json.loads(tl.stdout.strip().splitlines()[-1])
    print(f"read     : {res['seconds']} s wall, {res['cpu_seconds']} s CPU, peak RSS {res['peak_rss_mib']} MiB (whole process)")
    print(f"result   : {res['statement_pages']} pages in the statement, {res['transactions']} transactions"
          + (f", error {res['error']}" if res["error"] else ""))
    print(f"stages ms: {res['timings_ms']}")
    for k, v in alone.items():
        print(f"text layer alone, {k:<8}: {v['wall_s_per_page'] * 1000:6.1f} ms/page wall, "
              f"{v['cpu_s_per_page'] * 1000:6.1f} ms/page CPU over {v['pages']} pages")
    if "pdfminer" in alone:
        print(f"text layer speed-up (CPU per page): {alone['pdfminer']['cpu_s_per_page'] / alone['pdfium']['cpu_s_per_page']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
