"""The default stages, in order. Each is ``stage(work) -> None`` and is timed by its name.

PDF pages whose text layer is usable are read from it and never OCRed (nor rendered, unless
a page image is needed, e.g. to look for a seal); other pages are rendered and OCRed.
"""

from __future__ import annotations

import re

from loandocs.errors import InputError
from loandocs.extractor import preprocess
from loandocs.extractor.classify import classify_text
from loandocs.extractor.layout import group_rows, page_text
from loandocs.extractor.loading import load_file, render_pdf_pages
from loandocs.extractor.ocr.base import OcrLine, OcrWord
from loandocs.extractor.orientation import deskew, is_sideways, is_upside_down, rotate_lines_180, skew_angle, split_front_back
from loandocs.extractor.parsers.idcard import parse_back, parse_front
from loandocs.extractor.parsers.income import compare_seal_text, distrust_under_seal, parse_income_certificate, seal_field
from loandocs.extractor.parsers.statement import parse_statement
from loandocs.extractor.pipeline import Part, Stage, Work, stage
from loandocs.extractor.seal import find_seal, unroll_ring
from loandocs.extractor.textlayer import read_text_layer
from loandocs.rules.validation import validate
from loandocs.models import DocumentResult, PageQuality

# A whole image with a card's proportions is taken to be a scan cropped to the card.
CARD_RATIO = (1.48, 1.72)
MAX_SKEW_DEGREES = 1.0


@stage("load")
def load_stage(work: Work) -> None:
    o = work.options
    work.loaded = load_file(work.data, o.limits, pdf_dpi=o.pdf_render_dpi, render_pdf=False)
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
    is_pdf = work.loaded.kind == "pdf"
    for page in work.loaded.pages:
        if page.image is None:
            continue
        img = page.image
        regions = preprocess.card_regions(img, page.number)
        if not regions:
            h, w = img.shape[:2]
            ratio = max(h, w) / max(1, min(h, w))
            regions = [preprocess.page_region(img, page.number, assume_card=not is_pdf and CARD_RATIO[0] <= ratio <= CARD_RATIO[1])]
        for r in regions:
            work.parts.append(Part(page=page.number, image=r.image, quality=r.quality, is_card=r.is_card))
    work.parts.sort(key=lambda p: p.page)


@stage("ocr")
def ocr_stage(work: Work) -> None:
    todo = [p for p in work.parts if not p.text_layer]
    if not todo:
        return  # a born-digital PDF: the engine is not even loaded
    for part in todo:
        _read(work, part)
    _undo_false_cards(work)


def _undo_false_cards(work: Work) -> None:
    """A card-shaped box on a page that holds no ID card (a table or a framed block on a
    certificate) was cut out by mistake: read the whole page instead."""
    assert work.loaded is not None
    images = {p.number: p.image for p in work.loaded.pages}
    for page in sorted({p.page for p in work.parts if p.is_card and not p.text_layer}):
        cards = [p for p in work.parts if p.page == page and p.is_card]
        if any(classify_text(page_text(group_rows(p.lines)))[0].startswith("id_card") for p in cards):
            continue
        region = preprocess.page_region(images[page], page)
        whole = Part(page=page, image=region.image, quality=region.quality)
        _read(work, whole)
        index = work.parts.index(cards[0])
        work.parts = [p for p in work.parts if p not in cards]
        work.parts.insert(index, whole)


def _read(work: Work, part: Part) -> None:
    """OCR one part, turning and levelling it as its text requires."""
    engine = work.ocr()
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


@stage("classify")
def classify_stage(work: Work) -> None:
    for part in work.parts:
        part.doc_type, part.type_confidence = classify_text(page_text(part.rows))
    # A statement page without the words that name a statement (a middle page: only the
    # table) belongs to the statement before it.
    for prev, part in zip(work.parts, work.parts[1:]):
        if part.doc_type == "unknown" and prev.doc_type == "bank_statement" and part.page == prev.page + 1 and _looks_tabular(part):
            part.doc_type, part.type_confidence = "bank_statement", 0.5


def _looks_tabular(part: Part) -> bool:
    dated = sum(1 for r in part.rows if re.search(r"\d{4}[-/.]?\d{2}[-/.]?\d{2}", r.text))
    return dated >= 3


@stage("group")
def group_stage(work: Work) -> None:
    """Parts into documents: consecutive pages of one statement form one document; every
    other part is a document of its own."""
    docs: list[list[Part]] = []
    for part in work.parts:
        if docs and part.doc_type == "bank_statement" and docs[-1][-1].doc_type == "bank_statement" and part.page == docs[-1][-1].page + 1 and part.text_layer == docs[-1][-1].text_layer:
            docs[-1].append(part)
        else:
            docs.append([part])
    work.documents = docs


@stage("parse")
def parse_stage(work: Work) -> None:
    for parts in work.documents:
        first = parts[0]
        source = "text_layer" if first.text_layer else "ocr"
        for part in parts:
            if not part.quality.card_cut_off and not part.text_layer and _text_at_edge(part):
                part.quality.card_cut_off = True
            part.quality.problems = preprocess.quality_problems(part.quality)
        result = DocumentResult(
            file=work.filename,
            doc_type=first.doc_type,  # type: ignore[arg-type]
            pages=sorted({p.page for p in parts}),
            quality=[p.quality for p in parts],
        )
        if first.doc_type == "id_card_front":
            result.fields = parse_front(first.rows, first.page)
        elif first.doc_type == "id_card_back":
            result.fields = parse_back(first.rows, first.page)
        elif first.doc_type == "income_certificate":
            result.fields = parse_income_certificate(first.rows, first.page)
            image = _page_image(work, first)
            seal = find_seal(image)
            result.fields["has_seal"] = seal_field(seal, first.page)
            if seal is not None:
                compare_seal_text(result.fields, work.ocr().read(unroll_ring(image, seal)), first.page)
                if not first.text_layer:
                    distrust_under_seal(result.fields, seal.bbox)
        elif first.doc_type == "bank_statement":
            fields, txs, _ = parse_statement([(p.page, p.rows, p.lines) for p in parts], source)
            result.fields, result.transactions = fields, txs
        if source == "text_layer":
            for name, f in result.fields.items():
                if f.source == "ocr" and name not in ("has_seal", "seal_text"):  # those come from pixels
                    f.source = "text_layer"
        work.results.append(result)


def _page_image(work: Work, part: Part):
    """The page image, rendering a text-layer PDF page now if nobody needed it before."""
    if part.image is None:
        rendered = render_pdf_pages(work.data, work.options.limits, {part.page}, dpi=work.options.pdf_render_dpi)
        part.image = rendered[part.page].image
    return part.image


def page_images(work: Work) -> list[list]:
    """For each document, the image of each of its parts (the coordinate space of its boxes)."""
    return [[_page_image(work, part) for part in parts] for parts in work.documents]


def _text_at_edge(part: Part) -> bool:
    """Text running into the frame edge of an uncropped page: the document is cut off. A
    rectified card is exempt (its edge is the card's own)."""
    if part.image is None or (part.is_card and part.quality.card_detected):
        return False
    h, w = part.image.shape[:2]
    mx, my = 0.004 * w, 0.004 * h
    return any(ln.x0 <= mx or ln.y0 <= my or ln.x1 >= w - 1 - mx or ln.y1 >= h - 1 - my for ln in part.lines if len(ln.text) >= 2)


@stage("validate")
def validate_stage(work: Work) -> None:
    for result in work.results:
        result.checks = validate(result, work.options)


DEFAULT_STAGES: list[Stage] = [load_stage, preprocess_stage, ocr_stage, layout_stage, classify_stage, group_stage, parse_stage, validate_stage]
