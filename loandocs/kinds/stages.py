"""The stages that give the text its meaning: which kind each part is, which parts form one
document, and the kind's own parse. They follow the reading stages of
``loandocs.extractor.stages`` and, like them, are ``stage(work) -> None``.
"""

from __future__ import annotations

import re

from loandocs import kinds
from loandocs.extractor import preprocess
from loandocs.extractor.layout import Row, group_rows
from loandocs.extractor.pipeline import Part, Work, stage
from loandocs.extractor.stages import flat_sheet, read_part
from loandocs.kinds.base import PagePart, ParseInput
from loandocs.models import DocumentResult


def _card_kind(rows: list[Row]) -> bool:
    kind = kinds.get(kinds.classify_rows(rows, card_shaped=True)[0])
    return kind is not None and kind.is_card


@stage("cards")
def false_cards_stage(work: Work) -> None:
    """A card-shaped box on a page that holds no card (a table or a framed block on a
    certificate) was cut out by mistake: read the whole page instead."""
    if work.loaded is None:
        return
    images = {p.number: p.image for p in work.loaded.pages}
    for part in work.parts:
        if part.is_card and not part.text_layer:
            _upright_card(work, part)
    for page in sorted({p.page for p in work.parts if p.is_card and not p.text_layer}):
        cards = [p for p in work.parts if p.page == page and p.is_card]
        if any(_card_kind(group_rows(p.lines)) for p in cards):
            continue
        image = images[page]
        if image is None:  # a card part was cut from a rendered image, so the page has one
            continue
        flat = flat_sheet(image)
        if flat is not None:
            image = flat
            next(p for p in work.loaded.pages if p.number == page).image = flat
        region = preprocess.page_region(image, page)
        whole = Part(page=page, image=region.image, quality=region.quality)
        read_part(work, whole)
        # By identity: parts hold arrays, which == cannot compare.
        index = next(i for i, p in enumerate(work.parts) if p is cards[0])
        work.parts = [p for p in work.parts if not any(p is c for c in cards)]
        work.parts.insert(index, whole)


def _upright_card(work: Work, part: Part) -> None:
    """Each card is turned on its own (two cards on one photocopy may lie either way): a card
    whose text reads as no card may be upside down or on its side with too few labels read
    to tell, so it is read again turned by 180, then 90 and 270 degrees, and the first
    reading that is a card is kept."""
    if part.image is None or _card_kind(group_rows(part.lines)):
        return
    h, w = part.image.shape[:2]
    # An upright card is landscape: a portrait image (turned on a wrong guess) is tried on its
    # sides too.
    for turn in (180, 90, 270) if h > w else (180,):
        quality = part.quality.model_copy()
        quality.rotation = (quality.rotation + turn) % 360
        image = preprocess.rotate(part.image, turn)
        quality.width, quality.height = image.shape[1], image.shape[0]
        trial = Part(page=part.page, image=image, quality=quality, is_card=True)
        read_part(work, trial)
        if _card_kind(group_rows(trial.lines)):
            part.image, part.lines, part.quality = trial.image, trial.lines, trial.quality
            return


@stage("classify")
def classify_stage(work: Work) -> None:
    for part in work.parts:
        part.doc_type, part.type_confidence = kinds.classify_rows(part.rows, card_shaped=part.is_card)
    # A page of a multi-page kind without the words that name it (a statement's middle page:
    # only the table) belongs to the document before it.
    for prev, part in zip(work.parts, work.parts[1:]):
        kind = kinds.get(prev.doc_type)
        if part.doc_type == kinds.UNKNOWN and kind and kind.multi_page and part.page == prev.page + 1 and _looks_tabular(part):
            part.doc_type, part.type_confidence = prev.doc_type, 0.5


# 2026-04-02, 2026/4/2, 20260402, 2026年4月2日
# (a time may follow with no space: 2026-07-0615:28:29 in a text layer)
_DATE = re.compile(r"(?<!\d)(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|(?:19|20)\d{6}(?!\d))")


def _looks_tabular(part: Part) -> bool:
    dated = sum(1 for r in part.rows if _DATE.search(r.text))
    return dated >= 3


@stage("group")
def group_stage(work: Work) -> None:
    """Parts into documents: consecutive pages of one multi-page kind (a statement) form one
    document; every other part is a document of its own."""
    docs: list[list[Part]] = []
    for part in work.parts:
        kind = kinds.get(part.doc_type)
        last = docs[-1][-1] if docs else None
        if (
            last is not None and kind is not None and kind.multi_page and last.doc_type == part.doc_type
            and part.page == last.page + 1 and part.text_layer == last.text_layer
        ):  # fmt: skip
            docs[-1].append(part)
        else:
            docs.append([part])
    work.documents = docs


@stage("parse")
def parse_stage(work: Work) -> None:
    for parts in work.documents:
        first = parts[0]
        for part in parts:
            if not part.quality.card_cut_off and not part.text_layer and _text_at_edge(part):
                part.quality.card_cut_off = True
            part.quality.text_layer = part.text_layer
            part.quality.problems = [] if part.text_layer else preprocess.quality_problems(part.quality)
        result = DocumentResult(
            file=work.filename,
            doc_type=first.doc_type,
            pages=sorted({p.page for p in parts}),
            quality=[p.quality for p in parts],
        )
        kind = kinds.get(first.doc_type)
        if kind is not None:
            parsed = kind.parse(ParseInput(parts=[_page_part(work, p) for p in parts], ocr=work.ocr))
            result.fields, result.transactions = parsed.fields, parsed.transactions
            result.tables = parsed.tables
            result.notes = parsed.notes
            if first.text_layer:
                pixels = {f.name for f in kind.fields if f.from_pixels}
                for name, f in result.fields.items():
                    if f.source == "ocr" and name not in pixels:
                        f.source = "text_layer"
        work.results.append(result)


def _page_part(work: Work, part: Part) -> PagePart:
    return PagePart(page=part.page, rows=part.rows, lines=part.lines, text_layer=part.text_layer,
                    image=lambda: work.page_image(part))  # fmt: skip


def _text_at_edge(part: Part) -> bool:
    """Text running into the frame edge of an uncropped page: the document is cut off. A
    rectified card is exempt (its edge is the card's own)."""
    if part.image is None or (part.is_card and part.quality.card_detected):
        return False
    h, w = part.image.shape[:2]
    mx, my = 0.004 * w, 0.004 * h
    return any(ln.x0 <= mx or ln.y0 <= my or ln.x1 >= w - 1 - mx or ln.y1 >= h - 1 - my for ln in part.lines if len(ln.text) >= 2)
