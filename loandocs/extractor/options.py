"""Options for the extraction pipeline: plain pydantic models, passed in, never read from the
environment here (see ``loandocs.config.Settings``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from loandocs.models.policy import Thresholds


class Limits(BaseModel):
    max_file_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 60_000_000  # per image / rendered page; guards decompression bombs
    max_pages: int = 50  # pages that must be rendered and OCRed (scans, pages without a usable text layer)
    # PDF pages read from their text layer only: no pixels, a few ms each, so a year of a busy
    # account (hundreds of pages) is accepted. Rendered pages still count against max_pages.
    max_text_layer_pages: int = 1000
    # ... and each page beyond max_pages adds this much to max_pdf_content_bytes (a statement
    # page draws ~25 KiB of operators).
    max_pdf_content_bytes_per_extra_page: int = 64 * 1024
    max_page_points: float = 5000.0  # PDF page side in points (1/72 in); ~1.76 m
    # PDF structure, estimated from the raw bytes before parsing (extractor/pdfscan.py): real
    # statements have a few hundred objects and tens of KB of drawing operators per page.
    max_pdf_objects: int = 100_000
    max_pdf_page_content_bytes: int = 1024 * 1024  # inflated operators per page, forms expanded
    max_pdf_content_bytes: int = 8 * 1024 * 1024  # the same, all pages together
    # Pages whose own content streams are bigger than this are not parsed by pdfminer (its cost
    # grows to seconds and GBs per MiB of operators) but rendered and OCRed instead.
    text_layer_max_page_content_bytes: int = 256 * 1024


class OcrOptions(BaseModel):
    engine: Literal["rapidocr", "paddleocr"] = "rapidocr"
    # The runtime rapidocr runs the same PP-OCR ONNX files on: OpenVINO reads them directly and
    # was about 3x faster than ONNX Runtime on this project's CPUs with the same text
    # (benchmarks/RESULTS.md, "OCR runtime"); ONNX Runtime stays selectable.
    runtime: Literal["openvino", "onnxruntime"] = "openvino"
    threads: int = Field(default=0, ge=0, description="0 = let the runtime use all cores")
    model_dir: Path | None = None
    # Recognition batch (text lines per rec call) and the detector's input size (the shorter
    # side is scaled to at least this many pixels: rapidocr's ``limit_type: min``). The
    # defaults are rapidocr's; what else was tried is in benchmarks/RESULTS.md.
    rec_batch: int = Field(default=6, ge=1, le=64)
    det_limit_side_len: int = Field(default=736, ge=320, le=2048)
    # Pages of one scanned document OCRed at once within a worker, each with an engine of its
    # own (``extractor.parallel``). 0 = as many as the OCR threads allow (threads // 2 when
    # threads is set, else cores // 2), 1 = one page after the other.
    page_workers: int = Field(default=0, ge=0, le=16)


class PipelineOptions(BaseModel):
    limits: Limits = Limits()
    ocr: OcrOptions = OcrOptions()
    application_date: dt.date | None = None  # None = today
    # For the document checks the default pipeline runs (``loandocs.reader``): the checklist's
    # defaults unless a loan type's, and the environment's overrides, are passed in.
    thresholds: Thresholds = Thresholds()
    pdf_render_dpi: int = 200
    reread_upside_down: bool = False  # a second OCR pass on upside-down pages; same accuracy on our sets (RESULTS.md)

    def effective_application_date(self) -> dt.date:
        return self.application_date or dt.date.today()
