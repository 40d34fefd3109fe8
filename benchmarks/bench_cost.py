"""CPU-seconds per document, by kind and source, for the capacity table in RESULTS.md.

Each file is read by ``Pipeline.extract`` in a process with one OCR thread and OpenCV on one
thread (``--threads 1``), so the CPU time of the process is the work, not the scheduling:
on a shared machine wall time says how busy the neighbours are, CPU time what a document
costs. Memory: RSS of the process after the engine is loaded, and its peak.

    .venv/bin/python benchmarks/bench_cost.py [--repeat 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
S = ROOT / "samples"
SETS: dict[str, list[Path]] = {
    "ID card photo (one side)": sorted((S / "idcards").glob("front_photo_*.jpg"))[:4],
    "ID card scan (one side)": sorted((S / "idcards").glob("front_scan_*.jpg"))[:4],
    "income certificate, text PDF": sorted((S / "financial").glob("income_pdf_00[123].pdf")),
    "income certificate, photo": sorted((S / "financial").glob("income_photo_*.jpg")),
    "statement, text PDF (per page)": [S / "statements" / "icbc_pdf_01.pdf", S / "statements" / "ccb_pdf_01.pdf"],
    "statement, scan PDF (per page)": [S / "statements" / "icbc_scan_01.pdf", S / "statements" / "psbc_scan_01.pdf"],
    "credit report, text PDF": sorted((S / "materials").glob("credit_pdf_00[12].pdf")),
    "credit report, scan image": sorted((S / "materials").glob("credit_scan_*.jpg"))[:2],
}


def pages_of(path: Path) -> int:
    if path.suffix != ".pdf":
        return 1
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path.read_bytes())
    try:
        return len(doc)
    finally:
        doc.close()


def _rss_mib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runtime", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import cv2

    cv2.setNumThreads(args.threads)
    from loandocs.reader import OcrOptions, Pipeline, PipelineOptions, get_engine

    ocr = OcrOptions(threads=args.threads, **({"runtime": args.runtime} if args.runtime else {}))
    options = PipelineOptions(ocr=ocr)
    t0 = time.process_time()
    engine = get_engine(ocr)
    load_cpu = time.process_time() - t0
    rss_loaded = _rss_mib()
    pipeline = Pipeline(options, engine=engine)
    pipeline.extract((S / "idcards" / "front_scan_001.jpg").read_bytes(), "warm.jpg")
    rows = {}
    for label, files in SETS.items():
        per_doc, per_page = [], []
        for f in files:
            if not f.exists():
                continue
            data, pages = f.read_bytes(), pages_of(f)
            for _ in range(args.repeat):
                c0 = time.process_time()
                pipeline.extract(data, f.name)
                cpu = time.process_time() - c0
                per_doc.append(cpu)
                per_page.append(cpu / pages)
        if per_doc:
            rows[label] = {"cpu_s_per_document": round(statistics.median(per_doc), 2),
                           "cpu_s_per_page": round(statistics.median(per_page), 3), "files": len(files)}
    out = {"runtime": ocr.runtime, "threads": args.threads, "engine_load_cpu_s": round(load_cpu, 2),
           "rss_engine_loaded_mib": rss_loaded,
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "rows": rows}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"runtime {out['runtime']}, {args.threads} thread(s); engine load {out['engine_load_cpu_s']} CPU-s, "
          f"RSS loaded {rss_loaded} MiB, peak {out['peak_rss_mib']} MiB")
    for label, r in rows.items():
        print(f"  {label:<34} {r['cpu_s_per_document']:6.2f} CPU-s/document  {r['cpu_s_per_page']:6.3f} CPU-s/page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
