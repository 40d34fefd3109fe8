"""The PDF text layer: characters with boxes, turned into the same ``OcrLine`` model OCR gives.

A PDF produced by a bank's or an employer's system carries its text exactly; reading it is
faster and more accurate than OCR. Scans wrapped in a PDF, PDFs whose fonts lack a Unicode
mapping, and scans with an invisible OCR layer of unknown quality are told apart here, so the
pipeline can decide per page whether to trust the text layer or to OCR the rendered image.

Coordinates: every box is in pixels of the page as the loader renders it at ``dpi`` (PDFium
renders the CropBox, turned by /Rotate), so fields read from the text layer can be drawn on the
same page image as OCR fields. The loader may lower the dpi of a huge page to fit the pixel
limit; pass the dpi it actually used (``LoadedPage.dpi``).

No OCR and no rendering here. The characters and images come from PDFium's text page
(``pdfchars``: native code, a few ms a page, boxes as pdfminer drew them); pdfminer still
parses the document's objects (not the pages' drawing operators) for what PDFium does not
tell: the size of each page's content streams and whether it draws invisible text. Every
PDFium call holds ``loading.PDFIUM_LOCK``, one page at a time.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pypdfium2.raw as pdfium_c
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFStream, resolve1
from pdfminer.psparser import LIT

from loandocs.errors import InputError
from loandocs.extractor.layout import normalize_text
from loandocs.extractor.ocr.base import OcrLine, OcrWord
from loandocs.extractor.options import Limits
from loandocs.extractor.pdfchars import geometry, image_boxes, read_chars

# --- usability thresholds (see classify_page) ---
MIN_CHARS = 10  # fewer non-space characters than this: the page has no text to speak of
GARBAGE_SHARE = 0.05  # (cid:N) / private-use / U+FFFD share above which the mapping is broken
DOMINANT_IMAGE = 0.60  # one image covering this share of the page looks like a scan
SPARSE_WITH_IMAGE = 80  # visible chars below this on an image-heavy page: the image holds the content
INVISIBLE_MIN_CHARS = 200  # an invisible (OCR'd) layer over a scan is trusted only when this full
IMAGE_HEAVY = 0.15  # total image coverage from which a near-empty text layer is "too_sparse"

# Line building: a horizontal gap wider than this many font sizes starts a new OcrLine, the way
# an OCR detector gives table cells and label/value pairs their own boxes.
SPLIT_GAP = 1.0
# PDFium keeps glyph widths in whole thousandths of an em where the PDF may give fractions, so
# a run of characters can end a few hundredths of a point off where pdfminer put it. Generators
# draw a column exactly one em after the last one ends: with the exact figures that gap fell on
# either side of the threshold by rounding noise. Such a gap (within 2%) now always splits.
SPLIT_SLACK = -0.02
# An ASCII word space is at least ~0.2 em; narrower gaps are kerning.
SPACE_GAP = 0.2

_CID = re.compile(r"^\(cid:\d+\)$")
# Text render modes 3 (neither fill nor stroke) and 7 (clip only) draw nothing: the way OCR
# tools lay invisible text over a scan. pdfminer does not expose the mode per character, so the
# content streams are scanned for the operator.
_INVISIBLE_TR = re.compile(rb"(?:^|[\s\]\)>/])[37]\s+Tr(?![A-Za-z0-9])")
_FORM = LIT("Form")  # PSLiterals are interned: compare by identity
_MAX_STREAM_SCAN = 8 * 1024 * 1024  # bytes of decoded content scanned per page for Tr


@dataclass
class TextPage:
    number: int  # 1-based
    width: float  # pixels at dpi
    height: float
    dpi: float
    lines: list[OcrLine]  # source="text_layer", score 1.0, one OcrWord per character
    usable: bool
    reason: str  # "no_text" | "cid_garbage" | "scanned_image" | "too_sparse" | "too_complex" | "" when usable
    char_count: int  # non-space upright characters
    image_coverage: float  # share of the page area covered by images (union)
    invisible_text: bool = False  # the page draws text in render mode 3/7 (OCR'd scan)
    largest_image: float = 0.0  # share of the page covered by the largest single image


def read_text_layer(data: bytes, limits: Limits, dpi: float = 200) -> list[TextPage]:
    """Read every page's text layer. Raises ``InputError`` (``empty_file``, ``encrypted_pdf``,
    ``corrupt_file``, ``too_many_pages``, ``page_too_large``, ``no_pages``) and nothing else
    for any bytes. An encryption pdfminer cannot open gives ``encrypted_pdf`` even where
    PDFium could render the page: the caller should then OCR the rendered pages."""
    if dpi <= 0:  # a caller bug, not a bad upload
        raise ValueError("dpi must be positive")
    if not data:
        raise InputError("The file is empty", code="empty_file")
    from loandocs.extractor.loading import PDFIUM_LOCK  # loading imports ofd, which imports this module

    doc = None
    try:
        structure = list(PDFPage.create_pages(PDFDocument(PDFParser(io.BytesIO(data)))))
        if not structure:
            raise InputError("The PDF has no pages", code="no_pages")
        limit = max(limits.max_pages, limits.max_text_layer_pages)
        if len(structure) > limit:
            raise InputError(
                f"PDF has {len(structure)} pages; the limit is {limit}",
                code="too_many_pages", pages=len(structure), limit=limit,
            )
        with PDFIUM_LOCK:
            doc = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
            if not doc:
                raise InputError("The PDF file is damaged and its text cannot be read", code="corrupt_file",
                                 reason=f"PDFium error {pdfium_c.FPDF_GetLastError()}")
            n = pdfium_c.FPDF_GetPageCount(doc)
        out = []
        unusable = 0
        for i in range(min(n, len(structure))):
            out.append(_read_page(doc, i, structure[i], limits, dpi, PDFIUM_LOCK))
            # Pages without a usable text layer will be rendered and OCRed: those keep the
            # (lower) limit for pages that cost pixels and OCR time.
            unusable += not out[-1].usable
            if unusable > limits.max_pages:
                raise InputError(
                    f"PDF has more than {limits.max_pages} pages without a usable text layer; the limit "
                    f"is {limits.max_pages}", code="too_many_pages", pages=len(structure), limit=limits.max_pages,
                )
        if not out:
            raise InputError("The PDF has no pages", code="no_pages")
        return out
    except InputError:
        raise
    except Exception as exc:  # pdfminer raises many types; one bad file must not stop a worker
        if _is_encryption_error(exc):
            raise InputError("PDF is encrypted; upload an unprotected copy", code="encrypted_pdf") from exc
        raise InputError(
            "The PDF file is damaged and its text cannot be read", code="corrupt_file",
            reason=f"{type(exc).__name__}: {exc}"[:300],
        ) from exc
    finally:
        if doc:
            with PDFIUM_LOCK:
                pdfium_c.FPDF_CloseDocument(doc)


def _is_encryption_error(exc: BaseException) -> bool:
    # pdfplumber wraps pdfminer errors in PdfminerException(original); walk args and causes.
    seen = 0
    stack: list[object] = [exc]
    while stack and seen < 10:
        e = stack.pop()
        seen += 1
        if isinstance(e, (PDFPasswordIncorrect, PDFEncryptionError)):
            return True
        if isinstance(e, BaseException):
            stack.extend(a for a in e.args if isinstance(a, BaseException))
            if e.__cause__ is not None:
                stack.append(e.__cause__)
    return False


def _read_page(doc, index: int, page_obj: PDFPage, limits: Limits, dpi: float, lock) -> TextPage:  # type: ignore[no-untyped-def]
    number = index + 1
    with lock:
        page = pdfium_c.FPDF_LoadPage(doc, index)
        if not page:
            raise InputError(f"PDF page {number} cannot be read", code="corrupt_file")
        try:
            geo = geometry(page, dpi)
            w_pt, h_pt = geo.size_pt
            if w_pt <= 0 or h_pt <= 0:
                raise InputError(f"PDF page {number} has no area", code="corrupt_file")
            if w_pt > limits.max_page_points or h_pt > limits.max_page_points:
                raise InputError(
                    f"PDF page {number} is {w_pt:.0f}x{h_pt:.0f} points; the limit is "
                    f"{limits.max_page_points:.0f} points per side",
                    code="page_too_large", page=number, limit=limits.max_page_points,
                )
            width, height = w_pt * geo.scale, h_pt * geo.scale
            cap = limits.text_layer_max_page_content_bytes
            if _content_bytes(page_obj, cap) > cap:
                # A page this heavy is most likely not a bank's statement page; it is rendered
                # and OCRed instead (the limit dates from pdfminer, whose cost grew to seconds
                # and GBs per MiB of operators; kept so the same pages take the same path).
                return TextPage(number=number, width=width, height=height, dpi=dpi, lines=[], usable=False,
                                reason="too_complex", char_count=0, image_coverage=0.0, invisible_text=False,
                                largest_image=0.0)
            pdf_chars = read_chars(page, geo)
            images = image_boxes(page, geo)
        finally:
            pdfium_c.FPDF_ClosePage(page)

    chars = []
    normalized: dict[str, str] = {}
    for c in pdf_chars:
        if not c.upright:
            continue  # rotated text is watermark or stamp text, never a field we read
        text = normalized.get(c.text)
        if text is None:
            text = normalized[c.text] = normalize_text(c.text)
        if not text:
            continue
        box = c.box
        if box[2] <= 0 or box[3] <= 0 or box[0] >= width or box[1] >= height:
            continue  # outside the CropBox: not on the page image either
        chars.append(_Ch(text, box, c.size or (box[3] - box[1]) or 1.0))

    largest, coverage = _image_shares(images, width, height)
    invisible = _has_invisible_text(page_obj)
    texts = [c.text for c in chars if not c.text.isspace()]
    usable, reason = classify_page(texts, largest_image=largest, image_coverage=coverage,
                                   invisible_text=invisible)
    return TextPage(
        number=number, width=width, height=height, dpi=dpi,
        lines=build_lines(chars), usable=usable, reason=reason, char_count=len(texts),
        image_coverage=round(coverage, 4), invisible_text=invisible, largest_image=round(largest, 4),
    )


# ---------------------------------------------------------------------------- usability


@lru_cache(maxsize=8192)
def is_garbage(text: str) -> bool:
    """A character the font could not map to Unicode."""
    if _CID.match(text):
        return True
    return any(ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cc") for ch in text if not ch.isspace())


def classify_page(texts: list[str], *, largest_image: float = 0.0, image_coverage: float = 0.0,
                  invisible_text: bool = False) -> tuple[bool, str]:
    """Whether to trust a page's text layer, from its non-space character texts.

    Order matters: a page that is one big image and has (almost) no text is reported as
    ``scanned_image`` rather than ``no_text`` because that says what to do (OCR the image).

    Invisible text (render mode 3/7) over a dominant image is an OCR layer someone else made.
    It is trusted only when plentiful (``INVISIBLE_MIN_CHARS``): a full statement page then
    reads exactly as printed in most cases, while a sparse invisible layer usually means the
    other OCR gave up on most of the page. Visible text over a full-page image is a native
    PDF with a background or watermark picture and is trusted unless it is sparse.
    """
    n = len(texts)
    dominant = largest_image > DOMINANT_IMAGE
    if n < MIN_CHARS:
        return False, "scanned_image" if dominant else "no_text"
    garbage = sum(1 for t in texts if is_garbage(t))
    if garbage > GARBAGE_SHARE * n:
        return False, "cid_garbage"
    if dominant and (n < SPARSE_WITH_IMAGE or (invisible_text and n < INVISIBLE_MIN_CHARS)):
        return False, "scanned_image"
    if image_coverage >= IMAGE_HEAVY and n < SPARSE_WITH_IMAGE:
        # e.g. two ID card photos on a page with a caption: the text layer has the caption only
        return False, "too_sparse"
    return True, ""


def _image_shares(boxes: list[tuple[float, float, float, float]], width: float,
                  height: float) -> tuple[float, float]:
    """(largest single image, union of all images) as shares of the page area."""
    area = width * height
    rects = []
    for b in boxes:  # callers cap the count: a page of thousands of tiny images is no scan
        r = (max(0.0, b[0]), max(0.0, b[1]), min(width, b[2]), min(height, b[3]))
        if r[2] > r[0] and r[3] > r[1]:
            rects.append(r)
    if not rects or area <= 0:
        return 0.0, 0.0
    largest = max((r[2] - r[0]) * (r[3] - r[1]) for r in rects) / area
    return min(1.0, largest), min(1.0, _union_area(rects) / area)


def _union_area(rects: list[tuple[float, float, float, float]]) -> float:
    """Exact union area by coordinate compression; fine for the few images a page holds."""
    xs = sorted({v for r in rects for v in (r[0], r[2])})
    total = 0.0
    for xa, xb in zip(xs, xs[1:]):
        spans = sorted((r[1], r[3]) for r in rects if r[0] <= xa and r[2] >= xb)
        covered, end = 0.0, float("-inf")
        for a, b in spans:
            if b <= end:
                continue
            covered += b - max(a, end)
            end = b
        total += covered * (xb - xa)
    return total


def _content_bytes(page_obj, cap: int) -> int:
    """Decoded size of the page's own content streams, counted up to just past ``cap``."""
    total = 0
    for st in list(getattr(page_obj, "contents", None) or []):
        st = resolve1(st)
        if not isinstance(st, PDFStream):
            continue
        try:
            total += len(st.get_data())
        except Exception:  # noqa: BLE001 - an undecodable stream draws nothing pdfminer can read
            continue
        if total > cap:
            break
    return total


def _has_invisible_text(page_obj) -> bool:
    """Whether the page (or a form XObject it draws directly) sets render mode 3 or 7."""
    budget = _MAX_STREAM_SCAN
    streams = list(getattr(page_obj, "contents", None) or [])
    try:
        xobjects = resolve1((page_obj.resources or {}).get("XObject")) or {}
        for ref in list(xobjects.values())[:50]:
            obj = resolve1(ref)
            if isinstance(obj, PDFStream) and resolve1(obj.get("Subtype")) is _FORM:
                streams.append(obj)
    except Exception:
        pass  # resources are optional evidence; a malformed dictionary just is not scanned
    for st in streams:
        st = resolve1(st)
        if not isinstance(st, PDFStream):
            continue
        try:
            data = st.get_data()
        except Exception:
            continue
        if _INVISIBLE_TR.search(data[:budget]):
            return True
        budget -= len(data)
        if budget <= 0:
            break
    return False


# ------------------------------------------------------------------------------ lines


class _Ch:
    """One character: its text, box (pixels) and font size (pixels); centre and height kept,
    since lines are built from hundreds of thousands of them on a long statement."""

    __slots__ = ("text", "box", "size", "cy", "h", "space", "alnum_start", "alnum_end")

    def __init__(self, text: str, box: tuple[float, float, float, float], size: float) -> None:
        self.text, self.box, self.size = text, box, size
        self.cy = (box[1] + box[3]) / 2
        self.h = max(box[3] - box[1], 1e-6)
        self.space = text.isspace()
        # whether an ASCII word could go on before / after this character (see _emit)
        self.alnum_start = text[:1].isascii() and text[:1].isalnum()
        self.alnum_end = text[-1:].isascii() and text[-1:].isalnum()

    def __repr__(self) -> str:
        return f"_Ch({self.text!r}, {self.box}, {self.size})"


def build_lines(chars: list[_Ch]) -> list[OcrLine]:
    """Characters -> OcrLines in reading order (top to bottom, left to right).

    Characters whose vertical extents overlap by half the smaller height share a visual row;
    a row is cut wherever the gap between neighbouring glyphs exceeds ``SPLIT_GAP`` font sizes.
    Whitespace characters are not emitted but their width stays in the gap, so a run of
    spaces separates cells the same way empty space does.
    """
    rows: list[list[_Ch]] = []
    ref: list[list[float]] = []  # each row's running mean top/bottom (no chaining drift)
    for ch in sorted(chars, key=lambda c: c.cy):
        placed = False
        top, bottom, h = ch.box[1], ch.box[3], ch.h
        # only the last few rows can still overlap a character in centre order
        for i in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            r = ref[i]
            t, b = r
            overlap = min(b, bottom) - max(t, top)
            if overlap >= 0.5 * min(b - t, h):
                row = rows[i]
                row.append(ch)
                n = len(row)
                r[0], r[1] = t + (top - t) / n, b + (bottom - b) / n
                placed = True
                break
        if not placed:
            rows.append([ch])
            ref.append([top, bottom])

    lines: list[OcrLine] = []
    factor = SPLIT_GAP + SPLIT_SLACK
    for row in sorted(rows, key=lambda r: sum(c.cy for c in r) / len(r)):
        row.sort(key=lambda c: (c.box[0], c.box[2]))
        segment: list[_Ch] = []
        ink: _Ch | None = None  # the segment's last visible character (else its last one)
        for ch in row:
            if segment:
                last = ink if ink is not None else segment[-1]
                if ch.box[0] - last.box[2] > factor * max(ch.size, last.size):
                    _emit(segment, lines)
                    segment, ink = [], None
            if ch.space and not segment:
                continue
            segment.append(ch)
            if not ch.space:
                ink = ch
        _emit(segment, lines)
    return lines


def _emit(segment: list[_Ch], out: list[OcrLine]) -> None:
    """One OcrLine from a run of characters: a word per visible character; ``text`` keeps a
    single space between ASCII words (from a space glyph or a word-sized gap)."""
    words: list[OcrWord] = []
    parts: list[str] = []
    pending_space = False
    prev: _Ch | None = None
    x0 = y0 = float("inf")
    x1 = y1 = float("-inf")
    for ch in segment:
        if ch.space:
            pending_space = True
            continue
        box = ch.box
        if prev is not None and prev.alnum_end and ch.alnum_start:
            if pending_space or box[0] - prev.box[2] > SPACE_GAP * ch.size:
                parts.append(" ")
        words.append(OcrWord(ch.text, 1.0, box))
        parts.append(ch.text)
        x0, y0 = min(x0, box[0]), min(y0, box[1])
        x1, y1 = max(x1, box[2]), max(y1, box[3])
        pending_space = False
        prev = ch
    if not words:
        return
    out.append(OcrLine(text="".join(parts), score=1.0, bbox=(x0, y0, x1, y1), words=words, source="text_layer"))


__all__ = ["TextPage", "read_text_layer", "classify_page", "is_garbage", "build_lines"]
