"""OpenVINO against ONNX Runtime for the same PP-OCR models (the ONNX files in the rapidocr
wheel), in one run: per-image latency of one raw rapidocr call, whether the text is the same,
model load time and peak RSS, documents per minute with 1 and 2 worker processes, and the
recognition batch / detector input size variants.

Every latency is a median over images and repeats, the runtimes interleaved image by image in
one process after a warm-up. Load time and memory come from a fresh process per runtime (the
first engine of a process pays the imports). Throughput: ``Pipeline.extract`` over a batch of
ID card photos in 1 process (all cores) or 2 processes (1 thread each), wall time including
the engine load, as a worker pays it.

    .venv/bin/python benchmarks/bench_runtime.py [--repeat 2] [--sets idcards financial materials]
        [--throughput 16] [--variants] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIMES = ("onnxruntime", "openvino")


def images(sets: list[str]) -> list[Path]:
    out: list[Path] = []
    for s in sets:
        out += sorted((ROOT / "samples" / s).glob("*.jpg")) + sorted((ROOT / "samples" / s).glob("*.png"))
    return out


def child(runtime: str, files: list[str], extract: bool, threads: int) -> dict:
    """Run in a fresh process: load the engine (timed), read the files; RSS figures."""
    t0 = time.perf_counter()
    import cv2

    from loandocs.extractor.ocr.base import get_engine
    from loandocs.extractor.options import OcrOptions

    t_import = time.perf_counter() - t0
    options = OcrOptions(runtime=runtime, threads=threads)
    t1 = time.perf_counter()
    engine = get_engine(options)
    load = time.perf_counter() - t1
    rss_loaded = _rss_mib()
    t2 = time.perf_counter()
    if extract:
        from loandocs.reader import Pipeline, PipelineOptions

        pipeline = Pipeline(PipelineOptions(ocr=options), engine=engine)
        for f in files:
            pipeline.extract(Path(f).read_bytes(), Path(f).name)
    else:
        for f in files:
            engine.read(cv2.imread(f))
    return {"import_s": round(t_import, 2), "load_s": round(load, 2), "rss_loaded_mib": rss_loaded,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "work_s": round(time.perf_counter() - t2, 2)}


def _rss_mib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def spawn(runtime: str, files: list[Path], extract: bool = False, threads: int = 0) -> subprocess.Popen:
    args = [sys.executable, __file__, "--child", runtime, "--threads", str(threads)] + (["--extract"] if extract else [])
    return subprocess.Popen(args + [str(f) for f in files], stdout=subprocess.PIPE, text=True)


def result(p: subprocess.Popen) -> dict:
    out, _ = p.communicate()
    if p.returncode:
        raise RuntimeError(f"child failed with {p.returncode}")
    return json.loads(out.strip().splitlines()[-1])


def latency(files: list[Path], repeat: int, variants: bool) -> dict:
    import cv2

    from loandocs.extractor.ocr.base import new_engine
    from loandocs.extractor.options import OcrOptions

    configs = {rt: OcrOptions(runtime=rt) for rt in RUNTIMES}
    if variants:
        configs["openvino rec_batch=16"] = OcrOptions(runtime="openvino", rec_batch=16)
        configs["openvino rec_batch=1"] = OcrOptions(runtime="openvino", rec_batch=1)
        configs["openvino limit_side_len=640"] = OcrOptions(runtime="openvino", det_limit_side_len=640)
        configs["openvino limit_side_len=960"] = OcrOptions(runtime="openvino", det_limit_side_len=960)
    engines = {k: new_engine(o) for k, o in configs.items()}
    raw = {k: e._ocr for k, e in engines.items()}  # rapidocr itself, called as a caller would
    imgs = [(f.name, cv2.imread(str(f))) for f in files]
    for r in raw.values():
        r(imgs[0][1])  # warm-up
    times: dict[str, dict[str, list[float]]] = {k: {} for k in raw}
    texts: dict[str, dict[str, tuple]] = {k: {} for k in raw}
    for _ in range(repeat):
        for name, img in imgs:
            for k, r in raw.items():
                t0 = time.perf_counter()
                out = r(img)
                times[k].setdefault(name, []).append(time.perf_counter() - t0)
                texts[k][name] = tuple(out.txts or ())
    base = "onnxruntime"
    res = {}
    for k in raw:
        per = {n: statistics.median(v) for n, v in times[k].items()}
        same = sum(texts[k][n] == texts[base][n] for n in per)
        spaces = sum(texts[k][n] != texts[base][n] and tuple(t.replace(" ", "") for t in texts[k][n])
                     == tuple(t.replace(" ", "") for t in texts[base][n]) for n in per)
        ratio = statistics.median(per[n] / statistics.median(times[base][n]) for n in per)
        res[k] = {"median_ms": round(statistics.median(per.values()) * 1000), "median_ratio_to_onnxruntime": round(ratio, 2),
                  "same_text": same, "only_spaces_differ": spaces, "images": len(per)}
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["idcards", "financial", "materials"])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--throughput", type=int, default=16, help="ID card photos per throughput batch (0: skip)")
    ap.add_argument("--variants", action="store_true", help="also rec batch and detector input size variants")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--extract", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.files, args.extract, args.threads)))
        return 0

    files = images(args.sets)
    out: dict = {"images": len(files), "sets": args.sets, "repeat": args.repeat}
    # load time and memory: a fresh process per runtime reading the first 8 images
    out["process"] = {rt: result(spawn(rt, files[:8])) for rt in RUNTIMES}
    out["latency"] = latency(files, args.repeat, args.variants)
    if args.throughput:
        batch = (sorted((ROOT / "samples" / "idcards").glob("*_photo_*.jpg")) * 4)[: args.throughput]
        tp = {}
        for rt in RUNTIMES:
            for n in (1, 2):
                t0 = time.perf_counter()
                procs = [spawn(rt, batch[i::n], extract=True, threads=0 if n == 1 else 1) for i in range(n)]
                for p in procs:
                    result(p)
                tp[f"{rt} {n} worker(s)"] = round(len(batch) / (time.perf_counter() - t0) * 60, 1)
        out["docs_per_min"] = tp
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"images: {out['images']} from {', '.join(args.sets)}; repeats {args.repeat}")
    for rt, p in out["process"].items():
        print(f"  {rt:<12} load {p['load_s']} s (imports {p['import_s']} s), RSS loaded {p['rss_loaded_mib']} MiB, "
              f"peak {p['peak_rss_mib']} MiB after 8 images")
    for k, r in out["latency"].items():
        print(f"  {k:<30} median {r['median_ms']:>6} ms  ratio {r['median_ratio_to_onnxruntime']:.2f}x  "
              f"same text {r['same_text']}/{r['images']} (+{r['only_spaces_differ']} spaces only)")
    for k, v in out.get("docs_per_min", {}).items():
        print(f"  {k:<26} {v} docs/min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
