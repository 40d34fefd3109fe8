"""Median `extract` time per ID card image against one raw OCR pass.

Both run in this one process on the same images, interleaved, after a warm-up, so machine
noise hits both alike. The raw pass is what any caller of the engine pays at least:
decode the bytes, then one rapidocr call on the whole image with its default settings, on
ONNX Runtime (rapidocr's default runtime) unless ``--raw-runtime`` says otherwise. ``extract``
runs with the project's default OCR options (``--runtime`` to choose).

    .venv/bin/python benchmarks/bench_idcard.py [samples/idcards] [--repeat 3] [--threads 0]
        [--runtime openvino] [--raw-runtime onnxruntime]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from loandocs.reader import OcrOptions, Pipeline, PipelineOptions, get_engine


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default="samples/idcards")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--runtime", default=None, help="extract's OCR runtime (default: the project's default)")
    ap.add_argument("--raw-runtime", default="onnxruntime", help="the raw pass's runtime (default onnxruntime)")
    args = ap.parse_args()

    files = sorted(Path(args.dir).glob("*.jpg"))
    if not files:
        print(f"no images in {args.dir}", file=sys.stderr)
        return 2
    ocr = OcrOptions(threads=args.threads, **({"runtime": args.runtime} if args.runtime else {}))
    options = PipelineOptions(ocr=ocr)
    engine = get_engine(options.ocr)
    pipeline = Pipeline(options, engine=engine)
    raw_engine = get_engine(OcrOptions(threads=args.threads, runtime=args.raw_runtime))
    raw_ocr = raw_engine._ocr  # the rapidocr object itself: no loandocs code in the raw pass

    def raw(data: bytes) -> None:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        raw_ocr(img)

    stage_share: list[float] = []

    def extract(data: bytes) -> None:
        docs = pipeline.extract(data)
        t = docs[0].timings_ms
        if t.get("ocr"):
            stage_share.append(t["total"] / t["ocr"])

    blobs = [(f.name, f.read_bytes()) for f in files]
    raw(blobs[0][1])
    extract(blobs[0][1])  # warm-up: first calls allocate ONNX Runtime arenas

    times: dict[str, dict[str, list[float]]] = {"raw": defaultdict(list), "extract": defaultdict(list)}
    for _ in range(args.repeat):
        for name, data in blobs:
            for label, fn in (("raw", raw), ("extract", extract)):
                t0 = time.perf_counter()
                fn(data)
                times[label][name].append(time.perf_counter() - t0)

    per_file_ratio = []
    by_variant: dict[str, list[float]] = defaultdict(list)
    for name, _ in blobs:
        r, e = statistics.median(times["raw"][name]), statistics.median(times["extract"][name])
        per_file_ratio.append(e / r)
        by_variant[name.split("_")[1]].append(e / r)
    raw_med = statistics.median(statistics.median(v) for v in times["raw"].values())
    ext_med = statistics.median(statistics.median(v) for v in times["extract"].values())
    print(f"images: {len(blobs)}  repeats: {args.repeat}  threads: {args.threads or 'all'}")
    print(f"median raw OCR pass:   {raw_med * 1000:7.0f} ms  (rapidocr defaults on {args.raw_runtime})")
    print(f"median extract:        {ext_med * 1000:7.0f} ms  (OCR runtime {ocr.runtime})")
    print(f"ratio of medians:      {ext_med / raw_med:7.2f}x")
    print(f"median per-image ratio:{statistics.median(per_file_ratio):7.2f}x  (max {max(per_file_ratio):.2f}x)")
    print(f"extract total / its own OCR stage: {statistics.median(stage_share):.2f}x median "
          "(everything but OCR: loading, card finding, rectifying, layout, parsing, checks)")
    for variant, ratios in sorted(by_variant.items()):
        print(f"  {variant:<10} median ratio {statistics.median(ratios):.2f}x over {len(ratios)} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
