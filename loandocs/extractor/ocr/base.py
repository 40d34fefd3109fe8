"""The OCR engine interface and the per-process engine cache."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from loandocs.errors import ConfigError
from loandocs.extractor.options import OcrOptions


@dataclass
class OcrWord:
    """One character or word with its axis-aligned box in page pixels."""

    text: str
    score: float
    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1
    quad: list[tuple[float, float]] | None = None  # the engine's corner points, if any


@dataclass
class OcrLine:
    text: str
    score: float
    bbox: tuple[float, float, float, float]
    words: list[OcrWord] = field(default_factory=list)  # may be empty if the engine has none
    source: str = "ocr"  # "ocr" or "text_layer"
    quad: list[tuple[float, float]] | None = None  # tl, tr, br, bl as the engine found them

    @property
    def x0(self) -> float:
        return self.bbox[0]

    @property
    def y0(self) -> float:
        return self.bbox[1]

    @property
    def x1(self) -> float:
        return self.bbox[2]

    @property
    def y1(self) -> float:
        return self.bbox[3]

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]

    @property
    def cy(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2


class OcrEngine(Protocol):
    """Reads text lines from a BGR uint8 image. Must be safe to call repeatedly; a process
    loads one engine and reuses it."""

    name: str

    def read(self, image: np.ndarray) -> list[OcrLine]: ...


_engines: dict[tuple, OcrEngine] = {}
_lock = threading.Lock()


def get_engine(options: OcrOptions | None = None) -> OcrEngine:
    """The engine for these options, created once per process and reused.

    Worker processes must call this after fork, not before: an ONNX Runtime session is not
    carried safely across ``fork``.
    """
    options = options or OcrOptions()
    key = (options.engine, options.runtime, options.threads, str(options.model_dir), options.rec_batch,
           options.det_limit_side_len)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create(options)
            _engines[key] = engine
        return engine


def _create(options: OcrOptions) -> OcrEngine:
    if options.engine == "rapidocr":
        from loandocs.extractor.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(threads=options.threads, model_dir=options.model_dir, runtime=options.runtime,
                              rec_batch=options.rec_batch, det_limit_side_len=options.det_limit_side_len)
    if options.engine == "paddleocr":
        from loandocs.extractor.ocr.paddle import PaddleOcrEngine

        return PaddleOcrEngine(threads=options.threads, model_dir=options.model_dir)
    raise ConfigError(f"unknown OCR engine {options.engine!r}", code="invalid_configuration")


def reset_engines() -> None:
    """Forget cached engines (tests, or a worker that recycles itself)."""
    with _lock:
        _engines.clear()


def new_engine(options: OcrOptions) -> OcrEngine:
    """A fresh engine of its own, outside the cache: for reading several pages at once, one
    engine per thread (``extractor.parallel``)."""
    return _create(options)
