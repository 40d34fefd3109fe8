"""The PDF text layer: characters with boxes, turned into the same ``OcrLine`` model OCR gives.

A PDF produced by a bank's or an employer's system carries its text exactly; reading it is
faster and more accurate than OCR. Scans wrapped in a PDF, PDFs whose fonts lack a Unicode
mapping, and scans with an invisible OCR layer of unknown quality are told apart here, so the
pipeline can decide per page whether to trust the text layer or to OCR the rendered image.

Coordinates: every box is in pixels of the page as the loader renders it at ``dpi`` (PDFium
renders the CropBox, turned by /Rotate), so fields read from the text layer can be drawn on the
same page image as OCR fields. The loader may lower the dpi of a huge page to fit the pixel
limit; pass the dpi it actually used (``LoadedPage.dpi``).

No OCR and no rendering here. pdfplumber/pdfminer are pure Python, so ``PDFIUM_LOCK`` is not
needed.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdftypes import PDFStream, resolve1
from pdfminer.psparser import LIT

from loandocs.errors import InputError
from loandocs.extractor.layout import normalize_text
from loandocs.extractor.ocr.base import OcrLine, OcrWord
from loandocs.extractor.options import Limits

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
    pdf = None
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = pdf.pages
        if not pages:
            raise InputError("The PDF has no pages", code="no_pages")
        limit = max(limits.max_pages, limits.max_text_layer_pages)
        if len(pages) > limit:
            raise InputError(
                f"PDF has {len(pages)} pages; the limit is {limit}",
                code="too_many_pages", pages=len(pages), limit=limit,
            )
        out = []
        unusable = 0
        for page in pages:
            try:
                out.append(_read_page(page, limits, dpi))
            finally:
                page.close()  # drops the parsed layout: long-lived workers must not accumulate
            # Pages without a usable text layer will be rendered and OCRed: those keep the
            # (lower) limit for pages that cost pixels and OCR time.
            unusable += not out[-1].usable
            if unusable > limits.max_pages:
                raise InputError(
                    f"PDF has more than {limits.max_pages} pages without a usable text layer; the limit "
                    f"is {limits.max_pages}", code="too_many_pages", pages=len(pages), limit=limits.max_pages,
                )
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
        if pdf is not None:
            try:
                pdf.close()
            except Exception:
                pass


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


class _Geometry:
    """pdfminer coordinates -> pixels of the page as PDFium renders it.

    pdfminer turns /Rotate into its own "display" space (u, v: y up, origin at the MediaBox
    corner), pdfplumber then shifts x by the MediaBox origin. pdfplumber's own CropBox is
    wrong for rotated pages, so the mapping is done here from the raw boxes: back to PDF user
    space, then into the CropBox (intersected with the MediaBox, as PDFium does) turned
    clockwise by /Rotate."""

    def __init__(self, page, dpi: float) -> None:
        obj = page.page_obj
        self.mx0, self.my0, self.mx1, self.my1 = (float(v) for v in obj.mediabox)
        cx0, cy0, cx1, cy1 = _sorted_rect(obj.cropbox)
        mx0, my0, mx1, my1 = _sorted_rect(obj.mediabox)
        self.c = (max(cx0, mx0), max(cy0, my0), min(cx1, mx1), min(cy1, my1))
        self.r = int(obj.rotate) % 360
        self.u_shift = float(page.mediabox[0])  # what pdfplumber added to x0/x1
        self.s = dpi / 72.0
        cw, ch = self.c[2] - self.c[0], self.c[3] - self.c[1]
        self.w_pt, self.h_pt = (ch, cw) if self.r in (90, 270) else (cw, ch)

    def _raw(self, u: float, v: float) -> tuple[float, float]:
        r = self.r  # inverse of pdfminer's page CTM for each rotation
        if r == 90:
            return self.mx1 - v, u + self.my0
        if r == 180:
            return self.mx1 - u, self.my1 - v
        if r == 270:
            return v + self.mx0, self.my1 - u
        return u + self.mx0, v + self.my0

    def _px(self, x: float, y: float) -> tuple[float, float]:
        cx0, cy0, cx1, cy1 = self.c
        r = self.r
        if r == 90:
            px, py = y - cy0, x - cx0
        elif r == 180:
            px, py = cx1 - x, y - cy0
        elif r == 270:
            px, py = cy1 - y, cx1 - x
        else:
            px, py = x - cx0, cy1 - y
        return px * self.s, py * self.s

    def box(self, obj: dict) -> tuple[float, float, float, float]:
        u0, u1 = float(obj["x0"]) - self.u_shift, float(obj["x1"]) - self.u_shift
        a = self._px(*self._raw(u0, float(obj["y0"])))
        b = self._px(*self._raw(u1, float(obj["y1"])))
        return (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))


def _sorted_rect(r) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in r)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _read_page(page, limits: Limits, dpi: float) -> TextPage:
    geo = _Geometry(page, dpi)
    if geo.w_pt <= 0 or geo.h_pt <= 0:
        raise InputError(f"PDF page {page.page_number} has no area", code="corrupt_file")
    if geo.w_pt > limits.max_page_points or geo.h_pt > limits.max_page_points:
        raise InputError(
            f"PDF page {page.page_number} is {geo.w_pt:.0f}x{geo.h_pt:.0f} points; the limit is "
            f"{limits.max_page_points:.0f} points per side",
            code="page_too_large", page=page.page_number, limit=limits.max_page_points,
        )
    width, height = geo.w_pt * geo.s, geo.h_pt * geo.s
    if _content_bytes(page.page_obj, limits.text_layer_max_page_content_bytes) > limits.text_layer_max_page_content_bytes:
        # Checked before ``page.chars`` makes pdfminer interpret the page; PDFium renders such
        # a page in a fraction of the time, so the page is OCRed instead.
        return TextPage(number=page.page_number, width=width, height=height, dpi=dpi, lines=[], usable=False,
                        reason="too_complex", char_count=0, image_coverage=0.0, invisible_text=False,
                        largest_image=0.0)

    chars = []
    # dedupe_chars: some generators fake bold by drawing each glyph twice at a tiny offset.
    for c in page.dedupe_chars(tolerance=1).chars:
        if not c.get("upright", True):
            continue  # rotated text is watermark or stamp text, never a field we read
        text = normalize_text(c.get("text") or "")
        if not text:
            continue
        box = geo.box(c)
        if box[2] <= 0 or box[3] <= 0 or box[0] >= width or box[1] >= height:
            continue  # outside the CropBox: not on the page image either
        size = float(c.get("size") or 0.0) * geo.s or (box[3] - box[1]) or 1.0
        chars.append(_Ch(text, box, size))

    largest, coverage = _image_shares([geo.box(im) for im in page.images[:500]], width, height)
    invisible = _has_invisible_text(page.page_obj)
    texts = [c.text for c in chars if not c.text.isspace()]
    usable, reason = classify_page(texts, largest_image=largest, image_coverage=coverage,
                                   invisible_text=invisible)
    return TextPage(
        number=page.page_number, width=width, height=height, dpi=dpi,
        lines=build_lines(chars), usable=usable, reason=reason, char_count=len(texts),
        image_coverage=round(coverage, 4), invisible_text=invisible, largest_image=round(largest, 4),
    )


# ---------------------------------------------------------------------------- usability


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


@dataclass
class _Ch:
    text: str
    box: tuple[float, float, float, float]  # pixels
    size: float  # font size in pixels

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2

    @property
    def h(self) -> float:
        return max(self.box[3] - self.box[1], 1e-6)


def build_lines(chars: list[_Ch]) -> list[OcrLine]:
    """Characters -> OcrLines in reading order (top to bottom, left to right).

    Characters whose vertical extents overlap by half the smaller height share a visual row;
    a row is cut wherever the gap between neighbouring glyphs exceeds ``SPLIT_GAP`` font sizes.
    Whitespace characters are not emitted but their width stays in the gap, so a run of
    spaces separates cells the same way empty space does.
    """
    rows: list[list[_Ch]] = []
    ref: list[tuple[float, float]] = []  # each row's running mean top/bottom (no chaining drift)
    for ch in sorted(chars, key=lambda c: c.cy):
        placed = False
        # only the last few rows can still overlap a character in centre order
        for i in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            t, b = ref[i]
            overlap = min(b, ch.box[3]) - max(t, ch.box[1])
            if overlap >= 0.5 * min(b - t, ch.h):
                rows[i].append(ch)
                n = len(rows[i])
                ref[i] = (t + (ch.box[1] - t) / n, b + (ch.box[3] - b) / n)
                placed = True
                break
        if not placed:
            rows.append([ch])
            ref.append((ch.box[1], ch.box[3]))

    lines: list[OcrLine] = []
    for row in sorted(rows, key=lambda r: sum(c.cy for c in r) / len(r)):
        row.sort(key=lambda c: (c.box[0], c.box[2]))
        segment: list[_Ch] = []
        for ch in row:
            if segment and ch.box[0] - _last_ink(segment).box[2] > SPLIT_GAP * max(ch.size, _last_ink(segment).size):
                _emit(segment, lines)
                segment = []
            if ch.text.isspace() and not segment:
                continue
            segment.append(ch)
        _emit(segment, lines)
    return lines


def _last_ink(segment: list[_Ch]) -> _Ch:
    for ch in reversed(segment):
        if not ch.text.isspace():
            return ch
    return segment[-1]


def _emit(segment: list[_Ch], out: list[OcrLine]) -> None:
    """One OcrLine from a run of characters: a word per visible character; ``text`` keeps a
    single space between ASCII words (from a space glyph or a word-sized gap)."""
    words: list[OcrWord] = []
    text = ""
    pending_space = False
    prev: _Ch | None = None
    for ch in segment:
        if ch.text.isspace():
            pending_space = True
            continue
        if prev is not None and text:
            ascii_pair = text[-1].isascii() and text[-1].isalnum() and ch.text[0].isascii() and ch.text[0].isalnum()
            gap = ch.box[0] - prev.box[2]
            if ascii_pair and (pending_space or gap > SPACE_GAP * ch.size):
                text += " "
        words.append(OcrWord(text=ch.text, score=1.0, bbox=ch.box))
        text += ch.text
        pending_space = False
        prev = ch
    if not words:
        return
    bbox = (min(w.bbox[0] for w in words), min(w.bbox[1] for w in words),
            max(w.bbox[2] for w in words), max(w.bbox[3] for w in words))
    out.append(OcrLine(text=text, score=1.0, bbox=bbox, words=words, source="text_layer"))


__all__ = ["TextPage", "read_text_layer", "classify_page", "is_garbage", "build_lines"]
