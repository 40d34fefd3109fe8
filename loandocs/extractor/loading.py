"""Loading stage: uploaded bytes in, page images out.

Every bad input ends as an ``InputError`` with a stable code (see ``loandocs.errors``); no
other exception leaves ``load_file`` for any bytes, because a worker must survive any upload.
The type comes from magic bytes only: file names and client MIME types are not trusted.
Limits (bytes, pixels, pages, page size) are checked from headers before anything is decoded;
PDF structure (objects, inflated drawing operators, forms that draw themselves) is estimated
from the raw bytes by ``pdfscan`` before PDFium or pdfminer parses anything.

Polyglots (one file that is valid as two formats: a JPEG that is also a ZIP, HTML before a
PDF header) are decoded as the one type the first bytes name, by that type's decoder only; a
PDF whose leading junk looks like markup or another format is refused as ``unsupported_type``.
The original bytes are never served back (page images are re-encoded from decoded pixels).
"""

from __future__ import annotations

import math
import re
import threading
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import Callable, Literal, TypeVar

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps

from loandocs.errors import FileTooLarge, InputError
from loandocs.extractor.ocr.base import OcrLine
from loandocs.extractor.ofd import is_ofd, read_ofd
from loandocs.extractor.options import Limits
from loandocs.extractor.pdfscan import scan_pdf

T = TypeVar("T")
FileKind = Literal["jpeg", "png", "webp", "tiff", "bmp", "pdf", "heic", "ofd"]

# PDFium keeps global state and is not thread-safe, even across documents. Every pdfium call
# in this process should hold this lock; other modules that use pypdfium2 should import it.
PDFIUM_LOCK = threading.Lock()

# Guards the warnings-filter swap around Image.open (catch_warnings is process-global).
_PIL_OPEN_LOCK = threading.Lock()

# The Pillow plugin allowed for each kind, so a file sniffed as one format is never decoded
# by another plugin that happens to accept it.
_PIL_FORMATS: dict[str, list[str]] = {
    "jpeg": ["JPEG"], "png": ["PNG"], "webp": ["WEBP"], "tiff": ["TIFF"], "bmp": ["BMP"],
    "heic": ["HEIF"],
}
# ISO-BMFF major brands of HEIF/HEIC stills and sequences (AVIF is not accepted).
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
                b"mif1", b"msf1"}
# BMP info-header sizes (core, v1..v5): "BM" alone is too weak a signature.
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
# Before "%PDF-" readers tolerate junk (mail headers, a BOM); markup or another format's
# signature there makes the file a polyglot that a browser could take for HTML.
_PDF_PREFIX_REFUSED = re.compile(rb"<\s*[!?/A-Za-z]|^(?:PK\x03\x04|GIF8|\x7fELF|MZ)")
# Progressive JPEG encoders write about ten scans. Each scan walks every block of the image
# again, so a file of tiny scans over a large image (~75 bytes each) costs seconds per
# hundred scans: measured 18 s for 5,000 scans of a 49 MP image. Counted as FF DA anywhere in
# the file, an upper bound (entropy-coded data cannot hold it unstuffed).
MAX_JPEG_SCANS = 64


@dataclass
class LoadedPage:
    number: int  # 1-based page number in the file
    image: np.ndarray | None  # BGR uint8, EXIF orientation applied; None for a PDF page not rendered yet
    dpi: float | None = None  # effective render dpi for PDF pages, None for images
    # An OFD page's characters (``extractor.ofd``) when it has text to read; ``image`` is then
    # its simple rendering, for the page image and pixel checks (a seal), not for OCR.
    text_lines: list[OcrLine] | None = None


@dataclass
class LoadedFile:
    kind: FileKind
    page_count: int
    pages: list[LoadedPage]


def sniff_type(data: bytes) -> FileKind:
    """The file kind from its first bytes; never from a name."""
    if not data:
        raise InputError("The file is empty", code="empty_file")
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    # Classic TIFF (42) and BigTIFF (43), both byte orders.
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_DIB_SIZES:
        return "bmp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heic"
    if is_ofd(data):  # a ZIP whose main file is OFD.xml (GB/T 33190)
        return "ofd"
    # The PDF spec and real readers accept junk before the header within the first 1 KiB.
    at = data.find(b"%PDF-", 0, 1024)
    if at >= 0 and not _PDF_PREFIX_REFUSED.search(data[:at]):
        return "pdf"
    raise InputError(
        "Unsupported file type; upload a JPEG, PNG, WebP, TIFF, BMP, HEIC image, a PDF or an OFD file",
        code="unsupported_type",
    )


def load_file(data: bytes, limits: Limits, *, pdf_dpi: int = 200, render_pdf: bool | set[int] = True) -> LoadedFile:
    """Check ``data`` against ``limits`` and decode it into BGR pages.

    ``render_pdf``: True renders every PDF page, False none (the pages come back with
    ``image=None`` after every limit was checked), a set renders those 1-based pages only.
    A page whose text layer is read needs no rendering; ``render_pdf_pages`` renders the rest
    later."""
    if pdf_dpi <= 0:  # a caller bug, not a bad upload
        raise ValueError("pdf_dpi must be positive")
    kind = _kind(data, limits)
    if kind == "pdf":
        pages = _guarded(kind, lambda: _scan_and_load_pdf(data, limits, pdf_dpi, render_pdf))
    elif kind == "ofd":
        pages = _guarded(kind, lambda: _load_ofd(data, limits, pdf_dpi))
    else:
        pages = _guarded(kind, lambda: _load_image(data, kind, limits))
    return LoadedFile(kind=kind, page_count=len(pages), pages=pages)


def check_file(data: bytes, limits: Limits) -> FileKind:
    """Everything ``load_file`` refuses, refused at upload time, at a fraction of its cost: the
    type by content, every limit, and whether the file decodes. PDFs: the structure scan,
    PDFium opening the file and every page's size, without rendering. Images: decoded but not
    converted, a JPEG at 1/8 scale (libjpeg still reads every scan, so damage shows)."""
    kind = _kind(data, limits)
    if kind == "pdf":
        _guarded(kind, lambda: _scan_and_load_pdf(data, limits, 72, False))
    elif kind == "ofd":
        _guarded(kind, lambda: read_ofd(data, limits, 72, render=False))
    else:
        _guarded(kind, lambda: _load_image(data, kind, limits, convert=False))
    return kind


def _kind(data: bytes, limits: Limits) -> FileKind:
    if not data:
        raise InputError("The file is empty", code="empty_file")
    if len(data) > limits.max_file_bytes:
        raise FileTooLarge(
            f"File is {len(data)} bytes; the limit is {limits.max_file_bytes} bytes",
            size=len(data), limit=limits.max_file_bytes,
        )
    kind = sniff_type(data)
    if kind == "heic":
        _register_heif()
    if kind == "jpeg" and (scans := data.count(b"\xff\xda")) > MAX_JPEG_SCANS:
        raise InputError(f"The JPEG has {scans} scans; more than {MAX_JPEG_SCANS} cannot be decoded safely",
                         code="too_complex", scans=scans, limit=MAX_JPEG_SCANS)
    return kind


def _guarded(kind: str, work: Callable[[], T]) -> T:
    try:
        return work()
    except InputError:
        raise
    except Image.DecompressionBombError as exc:  # raised by a later frame or by load()
        raise InputError("Image has too many pixels to be processed safely", code="too_many_pixels") from exc
    except RecursionError as exc:
        raise InputError("The file is nested too deeply to be decoded", code="too_complex") from exc
    except Exception as exc:  # MemoryError included: one bad file must not take the worker down
        raise InputError(
            f"The {kind.upper()} file is damaged or cannot be decoded", code="corrupt_file",
            reason=f"{type(exc).__name__}: {exc}"[:300],
        ) from exc


# --------------------------------------------------------------------------------- images

_heif_registered = False


def _register_heif() -> None:
    """pillow-heif is an optional extra; register its Pillow opener on first HEIC upload."""
    global _heif_registered
    if _heif_registered:
        return
    try:
        import pillow_heif
    except ImportError:
        raise InputError(
            "HEIC images are not supported by this installation; install the 'heic' extra "
            "(pip install 'loandocs[heic]') or upload a JPEG",
            code="unsupported_type",
        ) from None
    pillow_heif.register_heif_opener()
    _heif_registered = True


def _check_pixels(size: tuple[int, int], limits: Limits) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise InputError("The image has no pixels", code="corrupt_file")
    if w * h > limits.max_pixels:
        raise InputError(
            f"Image is {w}x{h} pixels; the limit is {limits.max_pixels} pixels",
            code="too_many_pixels", pixels=w * h, limit=limits.max_pixels,
        )


def _open_image(data: bytes, kind: str) -> Image.Image:
    """Image.open reads only the header. Pillow's own bomb guard runs inside it: its error is
    mapped to too_many_pixels; its warning is silenced because our check right after is the
    one that applies the configured limit."""
    try:
        with _PIL_OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(BytesIO(data), formats=_PIL_FORMATS[kind])
    except Image.DecompressionBombError as exc:
        raise InputError(
            "Image has too many pixels to be processed safely", code="too_many_pixels"
        ) from exc


def _load_image(data: bytes, kind: str, limits: Limits, *, convert: bool = True) -> list[LoadedPage]:
    im = _open_image(data, kind)
    try:
        # Only TIFF frames are pages; animated PNG/WebP and HEIC sequences give the first image.
        n_frames = _tiff_frames(im, limits.max_pages) if kind == "tiff" else 1
        if n_frames > limits.max_pages:
            raise InputError(
                f"Image has more than {limits.max_pages} pages; the limit is {limits.max_pages}",
                code="too_many_pages", pages=n_frames, limit=limits.max_pages,
            )
        pages = []
        for i in range(n_frames):
            if i:
                im.seek(i)
            _check_pixels(im.size, limits)  # header size, before the frame is decoded
            if not convert and kind == "jpeg":
                im.draft("RGB", (max(1, im.size[0] // 8), max(1, im.size[1] // 8)))
            im.load()  # raises on truncated data: LOAD_TRUNCATED_IMAGES stays off
            pages.append(LoadedPage(number=i + 1, image=_to_bgr(_orient(im)) if convert else None))
        return pages
    finally:
        im.close()


def _tiff_frames(im: Image.Image, limit: int) -> int:
    """Frames counted one IFD at a time up to ``limit`` + 1: Pillow's ``n_frames`` walks every
    IFD first, and 25 MB of tiny IFDs is a few hundred thousand of them."""
    n = 1
    try:
        while n <= limit:
            im.seek(n)
            n += 1
    except EOFError:
        pass
    im.seek(0)
    return n


def _orient(im: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im)
    except (InputError, MemoryError):
        raise
    except Exception:
        # Orientation is metadata: a malformed EXIF block should not cost an otherwise good
        # image. If the pixel data itself is bad, _to_bgr's conversion raises anyway.
        return im


def _to_bgr(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> contiguous BGR uint8 (H, W, 3)."""
    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        gray = _deep_to_gray(im)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        # Transparent areas of scans and screenshots are meant as paper: composite on white.
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(background, rgba).convert("RGB")
    else:
        rgb = im.convert("RGB")  # 1, L, P, CMYK, YCbCr, LAB, HSV, RGB
    arr = np.asarray(rgb, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise InputError("The image could not be converted to colour", code="corrupt_file")
    return np.ascontiguousarray(arr[:, :, ::-1])


def _deep_to_gray(im: Image.Image) -> np.ndarray:
    """16/32-bit and float images: scale to 8 bits instead of clipping (Pillow's convert("L")
    would turn most 16-bit scans white)."""
    a = np.asarray(im).astype(np.float32)
    hi = float(a.max()) if a.size else 0.0
    if im.mode.startswith("I;16"):
        a /= 257.0
    elif hi > 255.0:
        a *= 255.0 / (65535.0 if hi <= 65535.0 else hi)
    elif im.mode == "F" and hi <= 1.0:
        a *= 255.0
    return np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------ OFD


def _load_ofd(data: bytes, limits: Limits, dpi: int) -> list[LoadedPage]:
    """Every page rendered (simply: see ``extractor.ofd``); pages with text carry it."""
    return [LoadedPage(number=p.number, image=p.image, dpi=float(dpi), text_lines=p.lines if p.usable else None)
            for p in read_ofd(data, limits, dpi, render=True)]  # fmt: skip


# ------------------------------------------------------------------------------------ PDF


def render_pdf_pages(data: bytes, limits: Limits, numbers: set[int], *, dpi: int = 200) -> dict[int, LoadedPage]:
    """Render the given 1-based pages of a PDF that ``load_file`` already accepted."""
    try:
        pages = _load_pdf(data, limits, dpi, set(numbers))
    except InputError:
        raise
    except Exception as exc:
        raise InputError("The PDF file is damaged or cannot be rendered", code="corrupt_file",
                         reason=f"{type(exc).__name__}: {exc}"[:300]) from exc
    return {p.number: p for p in pages if p.image is not None}


def _scan_and_load_pdf(data: bytes, limits: Limits, dpi: int, which: bool | set[int]) -> list[LoadedPage]:
    scan_pdf(data, limits)  # before PDFium parses anything: see pdfscan
    return _load_pdf(data, limits, dpi, which)


def _load_pdf(data: bytes, limits: Limits, dpi: int, which: bool | set[int] = True) -> list[LoadedPage]:
    with PDFIUM_LOCK:
        # Raw load instead of PdfDocument(bytes): pypdfium2 raises on a 0-page document with
        # no way to tell it from a load failure, and leaks the handle in that case.
        # FPDF_LoadMemDocument64 does not copy: ``data`` stays referenced until close below.
        raw = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
        if not raw:
            err = pdfium_c.FPDF_GetLastError()
            if err in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
                raise InputError(
                    "PDF is encrypted; upload an unprotected copy", code="encrypted_pdf"
                )
            raise InputError("The PDF file is damaged and cannot be opened", code="corrupt_file")
        doc = pdfium.PdfDocument(raw)
        try:
            return _render_pdf(doc, limits, dpi, which)
        finally:
            doc.close()


def _render_pdf(doc: pdfium.PdfDocument, limits: Limits, dpi: int, which: bool | set[int] = True) -> list[LoadedPage]:
    n = len(doc)
    if n <= 0:
        raise InputError("The PDF has no pages", code="no_pages")
    # Only pages that are rendered cost pixels: a file whose pages are left to the text layer
    # (``which`` False, or a few numbers) may have up to max_text_layer_pages.
    rendered = n if which is True else len(which) if isinstance(which, set) else 0
    limit = limits.max_pages if which is True else max(limits.max_pages, limits.max_text_layer_pages)
    if n > limit or rendered > limits.max_pages:
        limit = limits.max_pages if rendered > limits.max_pages else limit
        raise InputError(
            f"PDF has {n} pages; the limit is {limit}",
            code="too_many_pages", pages=n, limit=limit,
        )
    # All page sizes first (read from the page tree, no page parsing), so a bad page late in
    # the file fails the upload before any rendering work is spent.
    sizes = [doc.get_page_size(i) for i in range(n)]
    for i, (w, h) in enumerate(sizes):
        if not (math.isfinite(w) and math.isfinite(h)) or w <= 0 or h <= 0:
            raise InputError(f"PDF page {i + 1} has no area", code="corrupt_file")
        if w > limits.max_page_points or h > limits.max_page_points:
            raise InputError(
                f"PDF page {i + 1} is {w:.0f}x{h:.0f} points; the limit is "
                f"{limits.max_page_points:.0f} points per side",
                code="page_too_large", page=i + 1, limit=limits.max_page_points,
            )
    pages = []
    for i, (w, h) in enumerate(sizes):
        scale = _fit_scale(w, h, dpi / 72.0, limits.max_pixels)
        if which is False or (isinstance(which, set) and i + 1 not in which):
            pages.append(LoadedPage(number=i + 1, image=None, dpi=scale * 72.0))
            continue
        page = doc.get_page(i)
        try:
            bitmap = page.render(scale=scale)  # BGR, white background
            try:
                image = np.array(bitmap.to_numpy()[:, :, :3], dtype=np.uint8)  # copy out
            finally:
                bitmap.close()
        finally:
            page.close()
        pages.append(LoadedPage(number=i + 1, image=image, dpi=scale * 72.0))
    return pages


def _fit_scale(w: float, h: float, scale: float, max_pixels: int) -> float:
    """The requested scale, or the largest smaller one whose bitmap fits in max_pixels: a
    large page is rendered at a lower dpi rather than rejected."""

    def pixels(s: float) -> int:
        return math.ceil(w * s) * math.ceil(h * s)  # the rounding pypdfium2 uses

    too_small = InputError("PDF page cannot be rendered within the pixel limit",
                           code="too_many_pixels")
    if max_pixels < 1:
        raise too_small
    if pixels(scale) <= max_pixels:
        return scale
    scale = math.sqrt(max_pixels / (w * h))
    while scale > 0 and pixels(scale) > max_pixels:
        scale *= 0.995  # ceil() can push the first estimate just over the limit
    if scale <= 0 or math.ceil(w * scale) < 1 or math.ceil(h * scale) < 1:
        raise too_small
    return scale


__all__ = ["FileKind", "LoadedFile", "LoadedPage", "PDFIUM_LOCK", "check_file", "load_file", "render_pdf_pages",
           "sniff_type"]
