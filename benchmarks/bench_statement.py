"""A multi-page digital statement through the text-layer path against the same pages
rasterised and OCRed, in one run.

The OCR side gets an image-only PDF made from the statement's own pages rendered at the
pipeline's dpi, so both sides parse the same content; its time includes rendering and OCR.

    .venv/bin/python benchmarks/bench_statement.py [samples/financial/statement_pdf_002.pdf] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import pypdfium2 as pdfium

from loandocs.reader import Pipeline, PipelineOptions, get_engine


def image_only_pdf(data: bytes, dpi: int) -> bytes:
    doc = pdfium.PdfDocument(data)
    images = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            images.append(page.render(scale=dpi / 72).to_pil().convert("RGB"))
            page.close()
    finally:
        doc.close()
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("pdf", nargs="?", default="samples/financial/statement_pdf_002.pdf")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = Path(args.pdf).read_bytes()
    options = PipelineOptions()
    pipeline = Pipeline(options, engine=get_engine(options.ocr))
    scanned = image_only_pdf(data, options.pdf_render_dpi)

    def run(blob: bytes) -> tuple[float, int, str]:
        t0 = time.perf_counter()
        docs = pipeline.extract(blob, "bench.pdf")
        dt = time.perf_counter() - t0
        stmt = next(d for d in docs if d.doc_type == "bank_statement")
        return dt, len(stmt.transactions or []), stmt.fields["account_number"].source

    run(data)  # warm-up: imports, ONNX sessions
    text, ocr = [], []
    for _ in range(args.repeat):
        t, n_text, src_text = run(data)
        text.append(t)
        t, n_ocr, src_ocr = run(scanned)
        ocr.append(t)
    mt, mo = statistics.median(text), statistics.median(ocr)
    pages = len(pdfium.PdfDocument(data))
    print(f"statement: {args.pdf} ({pages} pages), repeats: {args.repeat}")
    print(f"text layer   : {mt * 1000:8.0f} ms median  ({n_text} transactions, source {src_text})")
    print(f"rasterise+OCR: {mo * 1000:8.0f} ms median  ({n_ocr} transactions, source {src_ocr})")
    print(f"speed-up     : {mo / mt:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
