"""The extraction pipeline: a list of stages with one call shape, ``stage(work) -> None``.

The stages are passed in: the reading stages live in ``loandocs.extractor.stages``, the ones
that know document kinds in ``loandocs.kinds.stages``, and ``loandocs.reader`` puts the default
list together (with the document checks).

Each stage reads and extends one ``Work`` object and is timed under its ``name``. The
pipeline never reads the environment and never touches Redis, a database or HTTP: bytes in,
typed ``DocumentResult``s out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from loandocs.errors import InputError, LoanDocsError
from loandocs.extractor.layout import Row
from loandocs.extractor.loading import LoadedFile, render_pdf_pages
from loandocs.extractor.ocr.base import OcrEngine, OcrLine, get_engine
from loandocs.extractor.options import PipelineOptions
from loandocs.models import DocumentResult, PageQuality


@dataclass
class Part:
    """One document candidate: a region of a page (a rectified card, or a page) and what was
    read from it."""

    page: int
    image: np.ndarray | None  # None for a PDF page read from its text layer, until rendered
    quality: PageQuality
    is_card: bool = False
    text_layer: bool = False
    lines: list[OcrLine] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    doc_type: str = "unknown"
    type_confidence: float = 0.0


@dataclass
class Work:
    data: bytes
    filename: str
    options: PipelineOptions
    engine: OcrEngine | None = None
    loaded: LoadedFile | None = None
    parts: list[Part] = field(default_factory=list)
    documents: list[list[Part]] = field(default_factory=list)  # parts grouped into documents
    results: list[DocumentResult] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def ocr(self) -> OcrEngine:
        if self.engine is None:
            self.engine = get_engine(self.options.ocr)
        return self.engine

    def page_image(self, part: Part) -> np.ndarray:
        """The part's image, rendering a text-layer PDF page now if nobody needed it before."""
        if part.image is None:
            o = self.options
            part.image = render_pdf_pages(self.data, o.limits, {part.page}, dpi=o.pdf_render_dpi)[part.page].image
        return part.image

    def page_images(self) -> list[list[np.ndarray]]:
        """For each document, the image of each of its parts (the coordinate space of its boxes)."""
        return [[self.page_image(part) for part in parts] for parts in self.documents]


class Stage(Protocol):
    name: str

    def __call__(self, work: Work) -> None: ...


def stage(name: str) -> Callable[[Callable[[Work], None]], Stage]:
    def wrap(fn: Callable[[Work], None]) -> Stage:
        fn.name = name  # type: ignore[attr-defined]
        return fn  # type: ignore[return-value]

    return wrap


class Pipeline:
    def __init__(self, stages: list[Stage], options: PipelineOptions | None = None, engine: OcrEngine | None = None):
        self.options = options or PipelineOptions()
        self.engine = engine
        self.stages = list(stages)

    def run(self, data: bytes, filename: str = "upload") -> Work:
        """Run every stage; a ``LoanDocsError`` propagates with its code."""
        work = Work(data=data, filename=filename, options=self.options, engine=self.engine)
        for stage in self.stages:
            t0 = time.perf_counter()
            stage(work)
            work.timings_ms[stage.name] = round((time.perf_counter() - t0) * 1000, 1)
        self.engine = work.engine
        return work

    def extract(self, data: bytes, filename: str = "upload") -> list[DocumentResult]:
        """Documents found in the file; a bad file gives one ``unknown`` result carrying
        ``error: {code, message}`` instead of raising."""
        t0 = time.perf_counter()
        try:
            work = self.run(data, filename)
        except InputError as exc:
            return [DocumentResult(file=filename, error=exc.to_dict(), timings_ms={"total": _ms(t0)})]
        except LoanDocsError:
            raise  # engine or configuration trouble is the operator's, not the file's
        docs = work.results
        timings = dict(work.timings_ms, total=_ms(t0))
        for d in docs:
            d.timings_ms = timings
        return docs

    def extract_with_images(self, data: bytes, filename: str = "upload") -> tuple[list[DocumentResult], list[list[np.ndarray]]]:
        """Like ``extract``, plus for each document the page images its boxes refer to (the
        rectified card, the upright page; text-layer PDF pages rendered now)."""
        t0 = time.perf_counter()
        try:
            work = self.run(data, filename)
        except InputError as exc:
            return [DocumentResult(file=filename, error=exc.to_dict(), timings_ms={"total": _ms(t0)})], [[]]
        images = work.page_images()
        timings = dict(work.timings_ms, total=_ms(t0))
        for d in work.results:
            d.timings_ms = timings
        return work.results, images

    def extract_path(self, path: str | Path) -> list[DocumentResult]:
        path = Path(path)
        return self.extract(path.read_bytes(), path.name)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)
