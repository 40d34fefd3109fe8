"""The extraction pipeline: a list of stages with one call shape, ``stage(work) -> None``.

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
from loandocs.extractor import preprocess
from loandocs.extractor.classify import classify_text
from loandocs.extractor.layout import Row, group_rows, page_text
from loandocs.extractor.loading import LoadedFile, load_file
from loandocs.extractor.ocr.base import OcrEngine, OcrLine, get_engine
from loandocs.extractor.options import PipelineOptions
from loandocs.extractor.orientation import deskew, is_sideways, is_upside_down, rotate_lines_180, skew_angle, split_front_back
from loandocs.extractor.parsers.idcard import parse_back, parse_front
from loandocs.extractor.validation import validate
from loandocs.models import DocumentResult, PageQuality

# A whole image with a card's proportions is taken to be a scan cropped to the card.
CARD_RATIO = (1.48, 1.72)
MAX_SKEW_DEGREES = 1.0


@dataclass
class Part:
    """One document candidate: a region of a page (a rectified card, or a page) and what was
    read from it."""

    page: int
    image: np.ndarray
    quality: PageQuality
    is_card: bool = False
    lines: list[OcrLine] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    doc_type: str = "unknown"
    type_confidence: float = 0.0
    result: DocumentResult | None = None


@dataclass
class Work:
    data: bytes
    filename: str
    options: PipelineOptions
    engine: OcrEngine | None = None
    loaded: LoadedFile | None = None
    parts: list[Part] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def ocr(self) -> OcrEngine:
        if self.engine is None:
            self.engine = get_engine(self.options.ocr)
        return self.engine


class Stage(Protocol):
    name: str

    def __call__(self, work: Work) -> None: ...


def _stage(name: str) -> Callable[[Callable[[Work], None]], Stage]:
    def wrap(fn: Callable[[Work], None]) -> Stage:
        fn.name = name  # type: ignore[attr-defined]
        return fn  # type: ignore[return-value]

    return wrap


@_stage("load")
def load_stage(work: Work) -> None:
    work.loaded = load_file(work.data, work.options.limits, pdf_dpi=work.options.pdf_render_dpi)


@_stage("preprocess")
def preprocess_stage(work: Work) -> None:
    assert work.loaded is not None
    for page in work.loaded.pages:
        img = page.image
        regions = preprocess.card_regions(img, page.number)
        if not regions:
            h, w = img.shape[:2]
            ratio = max(h, w) / max(1, min(h, w))
            regions = [preprocess.page_region(img, page.number, assume_card=CARD_RATIO[0] <= ratio <= CARD_RATIO[1])]
        for r in regions:
            work.parts.append(Part(page=page.number, image=r.image, quality=r.quality, is_card=r.is_card))


@_stage("ocr")
def ocr_stage(work: Work) -> None:
    engine = work.ocr()
    for part in work.parts:
        part.lines = engine.read(part.image)
        if is_sideways(part.lines):
            # The text runs vertically: the page lies on its side. Turn it and read again.
            part.image = preprocess.rotate(part.image, 90)
            part.quality.rotation = (part.quality.rotation + 90) % 360
            part.lines = engine.read(part.image)
        angle = skew_angle(part.lines)
        if abs(angle) > MAX_SKEW_DEGREES:
            # A crooked scan or a card we could not outline: level the page so that rows
            # group right (fields would otherwise merge across rows).
            part.image, part.lines = deskew(part.image, part.lines, angle)
            part.quality.width, part.quality.height = part.image.shape[1], part.image.shape[0]
        if is_upside_down(group_rows(part.lines)):
            # The angle classifier already read each line the right way up; what is left is
            # to put the boxes where they are on the upright page. Reading the turned image
            # again costs a second pass and can help one-character values (性别, 民族).
            shape = part.image.shape
            part.image = preprocess.rotate(part.image, 180)
            part.quality.rotation = (part.quality.rotation + 180) % 360
            if work.options.reread_upside_down:
                part.lines = engine.read(part.image)
            else:
                part.lines = rotate_lines_180(part.lines, shape)


@_stage("layout")
def layout_stage(work: Work) -> None:
    parts: list[Part] = []
    for part in work.parts:
        halves = split_front_back(part.lines)
        if halves is None:
            part.rows = group_rows(part.lines)
            parts.append(part)
            continue
        for lines in halves:
            parts.append(Part(page=part.page, image=part.image, quality=part.quality, is_card=True, lines=lines, rows=group_rows(lines)))
    work.parts = parts


@_stage("classify")
def classify_stage(work: Work) -> None:
    for part in work.parts:
        part.doc_type, part.type_confidence = classify_text(page_text(part.rows))


PARSERS = {"id_card_front": parse_front, "id_card_back": parse_back}


@_stage("parse")
def parse_stage(work: Work) -> None:
    for part in work.parts:
        parser = PARSERS.get(part.doc_type)
        fields = parser(part.rows, part.page) if parser else {}
        if not part.quality.card_cut_off and _text_at_edge(part):
            part.quality.card_cut_off = True
        part.quality.problems = preprocess.quality_problems(part.quality)
        part.result = DocumentResult(
            file=work.filename,
            doc_type=part.doc_type,  # type: ignore[arg-type]
            pages=[part.page],
            fields=fields,
            quality=[part.quality],
        )


@_stage("validate")
def validate_stage(work: Work) -> None:
    for part in work.parts:
        assert part.result is not None
        part.result.checks = validate(part.result, work.options)


DEFAULT_STAGES: list[Stage] = [load_stage, preprocess_stage, ocr_stage, layout_stage, classify_stage, parse_stage, validate_stage]


class Pipeline:
    def __init__(self, options: PipelineOptions | None = None, engine: OcrEngine | None = None, stages: list[Stage] | None = None):
        self.options = options or PipelineOptions()
        self.engine = engine
        self.stages = list(stages or DEFAULT_STAGES)

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
        docs = [p.result for p in work.parts if p.result is not None]
        timings = dict(work.timings_ms, total=_ms(t0))
        for d in docs:
            d.timings_ms = timings
        return docs

    def extract_path(self, path: str | Path) -> list[DocumentResult]:
        path = Path(path)
        return self.extract(path.read_bytes(), path.name)


def _text_at_edge(part: Part) -> bool:
    """Text running into the frame edge of an uncropped page: the document is cut off. A
    rectified card is exempt (its edge is the card's own), as is text in a generous margin."""
    if part.is_card and part.quality.card_detected:
        return False
    h, w = part.image.shape[:2]
    mx, my = 0.004 * w, 0.004 * h
    return any(ln.x0 <= mx or ln.y0 <= my or ln.x1 >= w - 1 - mx or ln.y1 >= h - 1 - my for ln in part.lines if len(ln.text) >= 2)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)
