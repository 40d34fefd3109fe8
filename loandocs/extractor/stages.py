"""The reading stages, in order: load, preprocess, OCR, layout. Each is ``stage(work) -> None``
and is timed by its name. What the text means (which kind, which fields) is decided by the
stages in ``loandocs.kinds.stages``; this module knows no document kind.

PDF pages whose text layer is usable are read from it and never OCRed (nor rendered, unless
a page image is needed, e.g. to look for a seal); other pages are rendered and OCRed.
"""

from __future__ import annotations

import re

import numpy as np

from loandocs.errors import InputError
from loandocs.extractor import overlay, parallel, preprocess
from loandocs.extractor.layout import group_rows
from loandocs.extractor.loading import load_file, render_pdf_pages
from loandocs.extractor.ocr.base import OcrLine, OcrWord
from loandocs.extractor.orientation import BACK_ANCHORS, FRONT_ANCHORS, deskew, is_sideways, is_upside_down, rotate_lines_180, skew_angle, split_front_back
from loandocs.extractor.pipeline import Part, Work, stage
from loandocs.extractor.textlayer import read_text_layer
from loandocs.models import PageQuality

# A whole image with a card's proportions is taken to be a scan cropped to the card.
CARD_RATIO = (1.48, 1.72)
MAX_SKEW_DEGREES = 1.0


@stage("load")
def load_stage(work: Work) -> None:
    o = work.options
    work.loaded = load_file(work.data, o.limits, pdf_dpi=o.pdf_render_dpi, render_pdf=False)
    if work.loaded.kind == "ofd":
        # Pages with text are read from their text objects, like a PDF's text layer; the
        # others (scans wrapped in OFD) keep their image and are OCRed.
        for page in work.loaded.pages:
            if page.text_lines is not None and page.image is not None:
                h, w = page.image.shape[:2]
                q = PageQuality(page=page.number, width=w, height=h)
                work.parts.append(Part(page=page.number, image=page.image, quality=q, text_layer=True, lines=page.text_lines))
                page.image = None
        return
    if work.loaded.kind != "pdf":
        return
    try:
        text_pages = {p.number: p for p in read_text_layer(work.data, o.limits, dpi=o.pdf_render_dpi)}
    except InputError:
        # PDFium opened the file (the loader said so) but pdfminer cannot read it (an
        # encryption or structure it does not know): render and OCR every page instead.
        text_pages = {}
    for page in work.loaded.pages:
        tp = text_pages.get(page.number)
        if tp is not None and tp.usable:
            lines, ratio = tp.lines, (page.dpi or o.pdf_render_dpi) / o.pdf_render_dpi
            if abs(ratio - 1) > 1e-3:
                # A page too large for the pixel limit is rendered at a lower dpi; keep the
                # text boxes in that page image's pixels.
                lines = [_scaled(ln, ratio) for ln in lines]
            q = PageQuality(page=page.number, width=int(tp.width * ratio), height=int(tp.height * ratio))
            work.parts.append(Part(page=page.number, image=None, quality=q, text_layer=True, lines=lines))
    need = {p.number for p in work.loaded.pages} - {p.page for p in work.parts}
    if need:
        rendered = render_pdf_pages(work.data, o.limits, need, dpi=o.pdf_render_dpi)
        for page in work.loaded.pages:
            if page.number in rendered:
                page.image = rendered[page.number].image


def _scaled(line: OcrLine, k: float) -> OcrLine:
    def box(b):
        return (b[0] * k, b[1] * k, b[2] * k, b[3] * k)

    words = [OcrWord(text=w.text, score=w.score, bbox=box(w.bbox)) for w in line.words]
    return OcrLine(text=line.text, score=line.score, bbox=box(line.bbox), words=words, source=line.source)


@stage("preprocess")
def preprocess_stage(work: Work) -> None:
    assert work.loaded is not None
    is_pdf = work.loaded.kind in ("pdf", "ofd")  # pages, not photos of a card
    for page in work.loaded.pages:
        if page.image is None:
            continue
        img = page.image
        regions = preprocess.card_regions(img, page.number)
        if not regions:
            h, w = img.shape[:2]
            ratio = max(h, w) / max(1, min(h, w))
            flat = None if is_pdf else flat_sheet(img)
            if flat is not None:
                img = page.image = flat
            regions = [preprocess.page_region(img, page.number, assume_card=flat is None and not is_pdf and CARD_RATIO[0] <= ratio <= CARD_RATIO[1])]
        for r in regions:
            work.parts.append(Part(page=page.number, image=r.image, quality=r.quality, is_card=r.is_card))
    work.parts.sort(key=lambda p: p.page)


def flat_sheet(image: np.ndarray) -> np.ndarray | None:
    """A photographed sheet put flat and cropped (so the reviewer's page image shows the page
    and OCR reads it straight); None when no sheet stands out from its background."""
    sheet = preprocess.find_page(image)
    return None if sheet is None else preprocess.flatten_page(image, sheet)


@stage("ocr")
def ocr_stage(work: Work) -> None:
    todo = [p for p in work.parts if not p.text_layer]
    if not todo:
        return  # a born-digital PDF: the engine is not even loaded
    if len(todo) > 1 and parallel.read_parts(work, todo, read_part):
        return  # the pages of a scan, each by an engine of its own (extractor.parallel)
    for part in todo:
        read_part(work, part)


def _read(engine, image) -> list[OcrLine]:
    """One OCR pass over the image with coloured stamps taken out (the part keeps its
    colours: the seal is looked for there later)."""
    return engine.read(overlay.without_stamps(image, overlay.find_stamps(image)))


def _text(lines: list[OcrLine]) -> list[OcrLine]:
    """The lines that are print, not watermark: orientation and skew are judged on these."""
    return [ln for ln in lines if not overlay.is_overlay_text(ln.text)]


def read_part(work: Work, part: Part) -> None:
    """OCR one part, turning and levelling it as its text requires; then take watermarks
    and stamps out of what was read (``overlay``)."""
    engine = work.ocr()
    part.lines = _read(engine, part.image)
    # A card outlined and rectified lies landscape, so its print runs level (right way up or
    # upside down); writing that runs down it is a watermark, not a reason to turn it.
    rectified = part.is_card and bool(part.quality.card_detected)
    if not rectified and is_sideways(_text(part.lines)):
        # The text runs vertically: the page lies on its side. Turn it and read again.
        part.image = preprocess.rotate(part.image, 90)
        part.quality.rotation = (part.quality.rotation + 90) % 360
        part.lines = _read(engine, part.image)
    angle = skew_angle(_text(part.lines))
    if abs(angle) > MAX_SKEW_DEGREES:
        # A crooked scan or a card we could not outline: level the page so that rows
        # group right (fields would otherwise merge across rows).
        part.image, part.lines = deskew(part.image, part.lines, angle)
        part.quality.width, part.quality.height = part.image.shape[1], part.image.shape[0]
    if is_upside_down(group_rows(_text(part.lines))):
        # The angle classifier already read each line the right way up; what is left is
        # to put the boxes where they are on the upright page. Reading the turned image
        # again costs a second pass and can help one-character values (性别, 民族).
        shape = part.image.shape
        part.image = preprocess.rotate(part.image, 180)
        part.quality.rotation = (part.quality.rotation + 180) % 360
        if work.options.reread_upside_down:
            part.lines = _read(engine, part.image)
        else:
            part.lines = rotate_lines_180(part.lines, shape)
    stamps = overlay.find_stamps(part.image)
    lines, report = overlay.clean_lines(part.lines, stamps)
    if part.is_card and report.found:
        # Watermark writing or a stamp lies over a card: read it again with the translucent
        # ink taken out, and keep the reading that shows more of what a card prints (labels,
        # an ID number, dates). Lines under the overlay stay capped whichever is kept. Only
        # cards: on a page (a statement) light print would go with the ink, and a bank's
        # seal line is not a reason to read a whole page twice.
        again, _ = overlay.clean_lines(engine.read(overlay.without_watermark(overlay.without_stamps(part.image, stamps))), stamps)
        if _print_score(again) >= _print_score(lines):
            # A line both readings agree on is corroborated; one that only the cleaned image
            # gave is new evidence from an image we altered, so it is under review too.
            first = {ln.text for ln in lines}
            lines = [ln if ln.text in first else overlay.cap_covered([ln], report, always=True)[0] for ln in overlay.cap_covered(again, report)]
    part.lines = lines


_ANCHORS = FRONT_ANCHORS + BACK_ANCHORS + ("公司", "收入", "证明", "日期")
_ID_RUN = re.compile(r"\d{17}[\dXx]")
_DATE_RUN = re.compile(r"\d{4}\D{0,2}\d{1,2}\D{0,2}\d{1,2}")


def _print_score(lines: list[OcrLine]) -> int:
    """How much of a document's own print a reading shows: labels found, an ID number,
    dates. Used to choose between two readings of one part."""
    text = "\n".join(ln.text.replace(" ", "") for ln in lines)
    return sum(a in text for a in _ANCHORS) + 2 * bool(_ID_RUN.search(text)) + len(_DATE_RUN.findall(text))


@stage("layout")
def layout_stage(work: Work) -> None:
    parts: list[Part] = []
    for part in work.parts:
        halves = split_front_back(part.lines)
        if halves is None:
            part.rows = group_rows(part.lines)
            parts.append(part)
            continue
        for lines in halves:
            parts.append(Part(page=part.page, image=part.image, quality=part.quality, is_card=True, lines=lines, rows=group_rows(lines), text_layer=part.text_layer))
    work.parts = parts
