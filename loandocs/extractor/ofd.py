"""OFD (GB/T 33190, China's fixed-layout format: a ZIP of XML pages) read like a PDF's text
layer: every TextObject's TextCode gives characters with positions, turned into the same
``OcrLine`` model as OCR and the PDF text layer; a page with no text to speak of (a scan
wrapped in OFD) is rendered and left to OCR.

Rendering is simple, and meant for the reviewer's page image and for OCR of image-only pages:
a white page at the requested dpi, the page's ImageObjects pasted into their boundaries, each
character of the text drawn with a CJK font into its box. Paths, clips, colours, fonts and
annotations are not drawn.

Hostile files end in ``InputError`` with a stable code, checked before anything is inflated
or parsed: ``too_many_entries`` (the ZIP's entry count, read from its end record),
``unsafe_entry_name`` (absolute names, ``..``, backslashes, NUL), ``archive_too_large`` (an
entry inflating beyond its budget, or beyond ``MAX_RATIO`` times its compressed size: ZIP
bombs), ``unsafe_xml`` (a DTD or entity: billion laughs, external entities; parsed with
``defusedxml``), and the PDF codes for pages (``too_many_pages``, ``page_too_large``,
``too_many_pixels``, ``no_pages``, ``corrupt_file``).
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as _xml_fromstring
from PIL import Image, ImageDraw, ImageFont

from loandocs.errors import InputError
from loandocs.extractor.layout import normalize_text
from loandocs.extractor.ocr.base import OcrLine
from loandocs.extractor.options import Limits
from loandocs.extractor.textlayer import MIN_CHARS, _Ch, build_lines

MAX_ENTRIES = 10_000  # a real OFD has a few files per page
MAX_XML_BYTES = 16 * 1024 * 1024  # one XML file inflated
MAX_IMAGE_BYTES = 32 * 1024 * 1024  # one image file inflated
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # everything inflated while reading one file
MAX_RATIO = 200  # inflated / compressed size of one entry; deflate tops out near 1032
MAX_CHARS_PER_PAGE = 200_000
MM_PER_INCH = 25.4
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


def is_ofd(data: bytes) -> bool:
    """A ZIP that names an ``OFD.xml`` entry (its main file); never judged by a file name."""
    return data.startswith(b"PK\x03\x04") and b"OFD.xml" in data


@dataclass
class OfdPage:
    number: int
    width: float  # pixels at dpi
    height: float
    lines: list[OcrLine]
    usable: bool  # enough text to read from the text objects
    image: np.ndarray | None = None  # BGR rendering, when asked for
    images: list[tuple[tuple[float, float, float, float], str]] = field(default_factory=list)  # (box px, entry)


class _Zip:
    """The archive with every read bounded: entry names vetted, sizes budgeted."""

    def __init__(self, data: bytes):
        count = _entry_count(data)
        if count > MAX_ENTRIES:
            raise InputError(f"The OFD archive has {count} entries; the limit is {MAX_ENTRIES}", code="too_many_entries", entries=count, limit=MAX_ENTRIES)
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
            raise InputError("The OFD file is not a readable ZIP archive", code="corrupt_file", reason=str(exc)[:200]) from exc
        infos = self.zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise InputError(
                f"The OFD archive has {len(infos)} entries; the limit is {MAX_ENTRIES}", code="too_many_entries", entries=len(infos), limit=MAX_ENTRIES
            )
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if _unsafe(name):
                raise InputError("The OFD archive has an entry whose name leaves the archive", code="unsafe_entry_name", entry=name[:200])
            self.infos[name.lstrip("./")] = info
        self.spent = 0

    def read(self, name: str, budget: int) -> bytes:
        info = self.infos.get(name.lstrip("/").lstrip("./")) or self._case_insensitive(name)
        if info is None:
            raise InputError(f"The OFD file lacks {name[:100]}", code="corrupt_file")
        cap = min(budget, MAX_TOTAL_BYTES - self.spent, max(4096, info.compress_size * MAX_RATIO))
        if info.file_size > cap:
            raise InputError("An OFD entry inflates beyond what can be read safely", code="archive_too_large", entry=name[:200])
        try:
            with self.zf.open(info) as fh:
                out = fh.read(cap + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, EOFError, OSError) as exc:
            raise InputError("An OFD entry cannot be inflated", code="corrupt_file", reason=str(exc)[:200]) from exc
        if len(out) > cap:  # the header understated the size: a bomb
            raise InputError("An OFD entry inflates beyond what can be read safely", code="archive_too_large", entry=name[:200])
        self.spent += len(out)
        return out

    def _case_insensitive(self, name: str) -> zipfile.ZipInfo | None:
        low = name.lstrip("/").lower()
        return next((i for n, i in self.infos.items() if n.lower() == low), None)


def _entry_count(data: bytes) -> int:
    """Total entries from the end-of-central-directory record (ZIP64's when present), before
    ``zipfile`` builds an object per entry."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        raise InputError("The OFD file is not a readable ZIP archive", code="corrupt_file")
    total = struct.unpack_from("<H", data, at + 10)[0]
    loc = data.rfind(b"PK\x06\x07", max(0, at - 20), at)
    if loc >= 0 and loc + 20 <= len(data):
        z64 = struct.unpack_from("<Q", data, loc + 8)[0]
        if z64 + 56 <= len(data) and data[z64 : z64 + 4] == b"PK\x06\x06":
            total = max(total, struct.unpack_from("<Q", data, z64 + 32)[0])
    return int(total)


def _unsafe(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return "\\" in name or "\x00" in name or name.startswith("/") or ".." in parts or bool(re.match(r"^[A-Za-z]:", name))


def _xml(z: _Zip, name: str) -> Element:
    raw = z.read(name, MAX_XML_BYTES)
    try:
        return _xml_fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)  # type: ignore[no-any-return]
    except DefusedXmlException as exc:
        raise InputError("The OFD file declares a DTD or entities, which are refused", code="unsafe_xml", entry=name[:200]) from exc
    except (ParseError, ValueError) as exc:
        raise InputError("The OFD file has malformed XML", code="corrupt_file", entry=name[:200], reason=str(exc)[:200]) from exc


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _child(el: Element | None, name: str) -> Element | None:
    if el is None:
        return None
    return next((c for c in el if _local(c.tag) == name), None)


def _find(el: Element, name: str) -> Element | None:
    return next((c for c in el.iter() if _local(c.tag) == name), None)


def _floats(text: str | None) -> list[float]:
    out: list[float] = []
    for tok in (text or "").split():
        try:
            v = float(tok)
        except ValueError:
            continue
        if math.isfinite(v):
            out.append(v)
    return out


def _box(text: str | None) -> tuple[float, float, float, float] | None:
    v = _floats(text)
    return (v[0], v[1], v[2], v[3]) if len(v) >= 4 and v[2] > 0 and v[3] > 0 else None


def _deltas(text: str | None) -> list[float]:
    """DeltaX/DeltaY with the ``g N v`` run-length form (N times v)."""
    toks = (text or "").split()
    out: list[float] = []
    i = 0
    while i < len(toks) and len(out) < MAX_CHARS_PER_PAGE:
        if toks[i] == "g" and i + 2 < len(toks):
            try:
                n, v = int(toks[i + 1]), float(toks[i + 2])
            except ValueError:
                break
            out.extend([v] * max(0, min(n, MAX_CHARS_PER_PAGE - len(out))))
            i += 3
            continue
        try:
            out.append(float(toks[i]))
        except ValueError:
            break
        i += 1
    return out


def _resolve(base: str, loc: str) -> str:
    loc = loc.replace("\\", "/")
    path = loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc)
    norm = posixpath.normpath(path)
    if norm.startswith("..") or _unsafe(norm):
        raise InputError("The OFD file refers outside its archive", code="unsafe_entry_name", entry=loc[:200])
    return norm


def read_ofd(data: bytes, limits: Limits, dpi: float = 200, *, render: bool | set[int] = True) -> list[OfdPage]:
    """Every page's characters (as lines in pixels at ``dpi``), and its rendering where asked
    (True: every page; a set: those 1-based pages; image-only pages are always rendered when
    ``render`` is not False)."""
    z = _Zip(data)
    root = _xml(z, "OFD.xml")
    doc_root = _find(root, "DocRoot")
    if doc_root is None or not (doc_root.text or "").strip():
        raise InputError("The OFD file names no document", code="corrupt_file")
    doc_path = _resolve("", doc_root.text.strip())
    doc_dir = posixpath.dirname(doc_path)
    document = _xml(z, doc_path)
    default_box = _box(_text(_find(document, "PhysicalBox"))) or (0, 0, 210, 297)
    media = _media(z, document, doc_dir)
    page_els = [p for p in document.iter() if _local(p.tag) == "Page" and p.get("BaseLoc")]
    if not page_els:
        raise InputError("The OFD file has no pages", code="no_pages")
    if len(page_els) > max(limits.max_pages, limits.max_text_layer_pages):
        limit = max(limits.max_pages, limits.max_text_layer_pages)
        raise InputError(f"OFD has {len(page_els)} pages; the limit is {limit}", code="too_many_pages", pages=len(page_els), limit=limit)
    pages = []
    for n, el in enumerate(page_els, start=1):
        path = _resolve(doc_dir, el.get("BaseLoc", ""))
        content = _xml(z, path)
        pbox = _box(_text(_find(content, "PhysicalBox"))) or default_box
        pages.append(_page(n, content, pbox, dpi, limits, posixpath.dirname(path), media))
    needing_pixels = [p for p in pages if not p.usable]
    if len(needing_pixels) > limits.max_pages:
        raise InputError(f"OFD has {len(needing_pixels)} pages without text; the limit is {limits.max_pages}", code="too_many_pages",
                         pages=len(needing_pixels), limit=limits.max_pages)  # fmt: skip
    for p in pages:
        if render is True or (isinstance(render, set) and p.number in render) or (render is not False and not p.usable):
            p.image = _render(p, z, limits)
    return pages


def _text(el: Element | None) -> str | None:
    return el.text if el is not None else None


def _media(z: _Zip, document: Element, doc_dir: str) -> dict[str, str]:
    """MultiMedia ID -> archive entry, from the document's resource files."""
    out: dict[str, str] = {}
    for res in document.iter():
        if _local(res.tag) not in ("DocumentRes", "PublicRes") or not (res.text or "").strip():
            continue
        path = _resolve(doc_dir, res.text.strip())
        if path.lower() not in {n.lower() for n in z.infos}:
            continue
        el = _xml(z, path)
        base = _resolve(posixpath.dirname(path), el.get("BaseLoc", "")) if el.get("BaseLoc") else posixpath.dirname(path)
        for mm in el.iter():
            if _local(mm.tag) == "MultiMedia" and mm.get("ID"):
                f = _child(mm, "MediaFile")
                if f is not None and (f.text or "").strip():
                    out[mm.get("ID", "")] = _resolve(base, f.text.strip())
    return out


def _page(n: int, content: Element, pbox: tuple[float, float, float, float], dpi: float, limits: Limits, page_dir: str,
          media: dict[str, str]) -> OfdPage:  # fmt: skip
    del page_dir
    k = dpi / MM_PER_INCH  # pixels per millimetre
    w_mm, h_mm = pbox[2], pbox[3]
    points = max(w_mm, h_mm) / MM_PER_INCH * 72
    if points > limits.max_page_points:
        raise InputError(f"OFD page {n} is too large", code="page_too_large", page=n, limit=limits.max_page_points)
    scale = k
    if (w_mm * k) * (h_mm * k) > limits.max_pixels:
        scale = math.sqrt(limits.max_pixels / (w_mm * h_mm)) * 0.995
    chars: list[_Ch] = []
    images = []
    for obj in content.iter():
        tag = _local(obj.tag)
        if tag == "ImageObject" and (b := _box(obj.get("Boundary"))) and obj.get("ResourceID") in media:
            images.append(((b[0] * scale, b[1] * scale, (b[0] + b[2]) * scale, (b[1] + b[3]) * scale), media[obj.get("ResourceID", "")]))
        if tag != "TextObject":
            continue
        b = _box(obj.get("Boundary"))
        if b is None:
            continue
        ctm = _floats(obj.get("CTM"))
        sx, sy = (ctm[0], ctm[3]) if len(ctm) == 6 and ctm[0] > 0 and ctm[3] > 0 else (1.0, 1.0)
        size = (_floats(obj.get("Size")) or [3.5])[0] * sy
        if size <= 0:
            continue
        x, y = 0.0, 0.0
        for code in obj:
            if _local(code.tag) != "TextCode" or not code.text:
                continue
            x = _floats(code.get("X"))[0] * sx if code.get("X") else x
            y = _floats(code.get("Y"))[0] * sy if code.get("Y") else y
            dx, dy = _deltas(code.get("DeltaX")), _deltas(code.get("DeltaY"))
            for i, ch in enumerate(code.text):
                if len(chars) >= MAX_CHARS_PER_PAGE:
                    break
                adv = dx[i] * sx if i < len(dx) else size
                cx, base = b[0] + x, b[1] + y
                if not ch.isspace():
                    text = normalize_text(ch)
                    # The glyph's own width: the advance may include the gap to the next cell.
                    natural = size * (0.55 if ch.isascii() else 1.0)
                    width = min(adv, natural) if adv > 0 else natural
                    box = ((cx) * scale, (base - 0.88 * size) * scale, (cx + width) * scale, (base + 0.12 * size) * scale)
                    chars.append(_Ch(text=text, box=box, size=size * scale))
                x += adv
                y += dy[i] * sy if i < len(dy) else 0.0
    lines = build_lines(chars)
    visible = sum(len(c.text.strip()) for c in chars)
    return OfdPage(number=n, width=w_mm * scale, height=h_mm * scale, lines=lines, usable=visible >= MIN_CHARS, images=images)


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONT_CANDIDATES:
        if Path(path).is_file():
            return ImageFont.truetype(path, max(6, px))
    return ImageFont.load_default()


def _render(page: OfdPage, z: _Zip, limits: Limits) -> np.ndarray:
    w, h = max(1, int(round(page.width))), max(1, int(round(page.height)))
    if w * h > limits.max_pixels:
        raise InputError("OFD page cannot be rendered within the pixel limit", code="too_many_pixels")
    canvas = Image.new("RGB", (w, h), "white")
    for box, entry in page.images:
        _paste(canvas, box, entry, z, limits)
    draw = ImageDraw.Draw(canvas)
    for line in page.lines:
        for word in line.words:
            x0, y0, x1, y1 = word.bbox
            draw.text((x0, y1), word.text, fill=(0, 0, 0), font=_font(int(round(y1 - y0))), anchor="ls")
    return np.ascontiguousarray(np.asarray(canvas)[:, :, ::-1])


def _paste(canvas: Image.Image, box: tuple[float, float, float, float], entry: str, z: _Zip, limits: Limits) -> None:
    raw = z.read(entry, MAX_IMAGE_BYTES)
    try:
        im: Any = Image.open(io.BytesIO(raw), formats=["PNG", "JPEG", "BMP", "TIFF"])
        if im.size[0] * im.size[1] > limits.max_pixels:
            raise InputError("An image in the OFD file has too many pixels", code="too_many_pixels")
        im.load()
    except InputError:
        raise
    except Exception:
        return  # an image we cannot decode is left out of the picture; the text still reads
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    if x1 - x0 < 1 or y1 - y0 < 1 or (x1 - x0) * (y1 - y0) > limits.max_pixels:
        return
    im = im.convert("RGBA").resize((x1 - x0, y1 - y0))
    canvas.paste(im, (x0, y0), im)


__all__ = ["OfdPage", "is_ofd", "read_ofd"]
