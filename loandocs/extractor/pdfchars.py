"""A PDF page's characters and images through PDFium's text page: the fast half of the text layer.

pdfminer interprets every content stream in Python (about 0.4 s for a statement page on a
shared 2-core machine); PDFium parses the same page in native code and hands out each character
with its box in a few microseconds. What comes out here is what ``textlayer`` used to take from
pdfplumber, in the same terms:

- each character: its text, a box in pixels of the page as the loader renders it at ``dpi`` (the
  CropBox cut to the MediaBox and turned clockwise by /Rotate, as PDFium renders it), its font
  size in pixels, and whether it is upright (pdfminer's test on the character's matrix in display
  space: ``a*d > 0 and b*c <= 0``);
- the box is pdfminer's: the advance width from the origin, and the em from the font's descent
  (PDFium's "loose" box), so gaps between characters, and with them cells and word spaces, come
  out as before;
- characters drawn twice at (almost) the same place in the same font and size are kept once,
  as pdfplumber's ``dedupe_chars(tolerance=1)`` did (generators fake bold that way);
- characters whose font has no Unicode mapping come back as ``(cid:N)``, as pdfminer gives them;
- images: the page-space bounds of every image, also inside forms (reportlab wraps each image in
  a form XObject), turned into pixels the same way.

Every call must hold ``loading.PDFIUM_LOCK``: PDFium is not thread-safe.
"""

from __future__ import annotations

import ctypes
import itertools
from dataclasses import dataclass

import numpy as np
import pypdfium2.raw as pc

MAX_IMAGES = 500  # image objects looked at per page; a page of thousands of tiny images is no scan
MAX_FORM_DEPTH = 4
DEDUPE_TOLERANCE = 1.0  # points, as pdfplumber's dedupe_chars

# pdfminer's page matrix for each /Rotate (its linear part): the display space characters are
# judged upright in.
_ROT = {0: (1.0, 0.0, 0.0, 1.0), 90: (0.0, -1.0, 1.0, 0.0), 180: (-1.0, 0.0, 0.0, -1.0), 270: (0.0, 1.0, -1.0, 0.0)}


@dataclass
class PageGeometry:
    """PDF user space -> pixels of the rendered page."""

    crop: tuple[float, float, float, float]  # CropBox cut to the MediaBox (x0, y0, x1, y1)
    rotate: int  # 0, 90, 180, 270 (clockwise)
    scale: float  # pixels per point

    @property
    def size_pt(self) -> tuple[float, float]:
        cw, ch = self.crop[2] - self.crop[0], self.crop[3] - self.crop[1]
        return (ch, cw) if self.rotate in (90, 270) else (cw, ch)

    def point(self, x: float, y: float) -> tuple[float, float]:
        cx0, cy0, cx1, cy1 = self.crop
        r = self.rotate
        if r == 90:
            px, py = y - cy0, x - cx0
        elif r == 180:
            px, py = cx1 - x, y - cy0
        elif r == 270:
            px, py = cy1 - y, cx1 - x
        else:
            px, py = x - cx0, cy1 - y
        return px * self.scale, py * self.scale

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        a, b = self.point(x0, y0), self.point(x1, y1)
        return (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))


def geometry(page: pc.FPDF_PAGE, dpi: float) -> PageGeometry:
    media = _box(pc.FPDFPage_GetMediaBox, page) or (0.0, 0.0, 612.0, 792.0)  # PDFium's default: Letter
    crop = _box(pc.FPDFPage_GetCropBox, page) or media
    cut = (max(crop[0], media[0]), max(crop[1], media[1]), min(crop[2], media[2]), min(crop[3], media[3]))
    return PageGeometry(crop=cut, rotate=(pc.FPDFPage_GetRotation(page) % 4) * 90, scale=dpi / 72.0)


def _box(getter, page) -> tuple[float, float, float, float] | None:  # type: ignore[no-untyped-def]
    v = [ctypes.c_float() for _ in range(4)]
    if not getter(page, *(ctypes.byref(x) for x in v)):
        return None
    left, bottom, right, top = (x.value for x in v)
    return min(left, right), min(bottom, top), max(left, right), max(bottom, top)


@dataclass
class PdfChar:
    text: str
    box: tuple[float, float, float, float]  # pixels
    size: float  # font size in pixels (the height of pdfminer's box)
    upright: bool


def read_chars(page: pc.FPDF_PAGE, geo: PageGeometry) -> list[PdfChar]:
    """The page's characters in content order, duplicates dropped (see the module docstring)."""
    tp = pc.FPDFText_LoadPage(page)
    if not tp:
        return []
    try:
        return _chars(tp, geo)
    finally:
        pc.FPDFText_ClosePage(tp)


def _proto(fn, restype, *argtypes):  # type: ignore[no-untyped-def]
    """The same PDFium function with plain C types: called half a million times for a long
    statement, pypdfium2's typed pointers cost more than the call itself."""
    return ctypes.cast(fn, ctypes.CFUNCTYPE(restype, *argtypes))


_VP, _INT = ctypes.c_void_p, ctypes.c_int
_get_text_object = _proto(pc.FPDFText_GetTextObject, _VP, _VP, _INT)
_get_unicode = _proto(pc.FPDFText_GetUnicode, ctypes.c_uint, _VP, _INT)
_map_error = _proto(pc.FPDFText_HasUnicodeMapError, _INT, _VP, _INT)
_loose_box = _proto(pc.FPDFText_GetLooseCharBox, _INT, _VP, _INT, _VP)
_get_font = _proto(pc.FPDFTextObj_GetFont, _VP, _VP)


def _chars(tp, geo: PageGeometry) -> list[PdfChar]:  # type: ignore[no-untyped-def]
    n = pc.FPDFText_CountChars(tp)
    if n <= 0:
        return []
    tpv = ctypes.cast(tp, _VP).value
    rect = pc.FS_RECTF()
    rect_p = ctypes.addressof(rect)
    ra, rb, rc, rd = _ROT[geo.rotate]
    # Per text object (every character of one shares its matrix and font): whether it is
    # upright, and its font's address (the dedupe key's "fontname").
    objects: dict[int, tuple[bool, int]] = {}
    mat = pc.FS_MATRIX()
    mat_p = ctypes.byref(mat)
    raw: list[tuple[str, float, float, float, float, float, bool, int]] = []
    append = raw.append
    text_obj, get_unicode, map_error, loose = _get_text_object, _get_unicode, _map_error, _loose_box
    for i in range(n):
        addr = text_obj(tpv, i)
        if not addr:
            continue  # a space or line break PDFium inserted: pdfminer has no such character
        info = objects.get(addr)
        if info is None:
            if pc.FPDFText_GetMatrix(tp, i, mat_p):
                a, b, c, d = mat.a, mat.b, mat.c, mat.d
                a2, b2 = a * ra + b * rc, a * rb + b * rd
                c2, d2 = c * ra + d * rc, c * rb + d * rd
                upright = a2 * d2 > 0 and b2 * c2 <= 0
            else:
                upright = True
            info = objects[addr] = (upright, _get_font(addr) or 0)
        code = get_unicode(tpv, i)
        if map_error(tpv, i) == 1:
            text = f"(cid:{code})"
        else:
            try:
                text = chr(code)
            except (ValueError, OverflowError):
                text = "\ufffd"
        if not loose(tpv, i, rect_p):
            continue
        left, right, bottom, top = rect.left, rect.right, rect.bottom, rect.top
        x0, x1 = (left, right) if left <= right else (right, left)
        y0, y1 = (bottom, top) if bottom <= top else (top, bottom)
        append((text, x0, y0, x1, y1, y1 - y0, info[0], info[1]))
    if not raw:
        return []
    keep = _dedupe(raw)
    pts = np.array([raw[k][1:5] for k in keep], dtype=np.float64)
    boxes = _to_pixels(pts, geo)
    scale = geo.scale
    return [PdfChar(raw[k][0], tuple(b), raw[k][5] * scale, raw[k][6]) for k, b in zip(keep, boxes.tolist())]


def _to_pixels(pts: np.ndarray, geo: PageGeometry) -> np.ndarray:
    """(x0, y0, x1, y1) rows in PDF user space -> pixel boxes (x0, y0, x1, y1), as ``geo.box``."""
    # geo.point is plain arithmetic, so it maps whole columns of corners at once.
    px, py = geo.point(pts[:, [0, 2]], pts[:, [1, 3]])  # type: ignore[arg-type]  # arrays, not floats
    return np.stack([px.min(axis=1), py.min(axis=1), px.max(axis=1), py.max(axis=1)], axis=1)


def _dedupe(raw: list[tuple[str, float, float, float, float, float, bool, int]]) -> list[int]:
    """Indices of the characters pdfplumber's ``dedupe_chars(tolerance=1)`` keeps: among those
    with the same (upright, text, font, size), clustered by top and then by x0 within the
    tolerance (chained), the first by (top, x0) of each cluster; in content order.

    Most pages have no duplicate at all: the clustering is first done for all characters at
    once in numpy, and only the keys where it finds one are clustered again one by one."""
    n = len(raw)
    ids: dict[tuple, int] = {}
    kid = np.fromiter((ids.setdefault((r[6], r[0], r[7], round(r[5], 3)), len(ids)) for r in raw), np.int64, n)
    if len(ids) == n:
        return list(range(n))
    top = -np.fromiter((r[4] for r in raw), np.float64, n)
    x0 = np.fromiter((r[1] for r in raw), np.float64, n)
    o = np.lexsort((top, kid))
    new = np.ones(n, bool)
    new[1:] = (kid[o][1:] != kid[o][:-1]) | (np.diff(top[o]) > DEDUPE_TOLERANCE)
    cluster = np.empty(n, np.int64)
    cluster[o] = np.cumsum(new)
    o2 = np.lexsort((x0, cluster))
    dup = (cluster[o2][1:] == cluster[o2][:-1]) & (np.diff(x0[o2]) <= DEDUPE_TOLERANCE)
    if not dup.any():
        return list(range(n))
    suspects = set(kid[o2[1:][dup]].tolist())
    groups: dict[int, list[int]] = {}
    keep: list[int] = []
    for i, k in enumerate(kid.tolist()):
        if k in suspects:
            groups.setdefault(k, []).append(i)
        else:
            keep.append(i)
    for idx in groups.values():
        for ycl in _clusters(idx, lambda i: -raw[i][4]):  # top, downwards: -y1
            for xcl in _clusters(ycl, lambda i: raw[i][1]):
                keep.append(min(xcl, key=lambda i: (-raw[i][4], raw[i][1], i)))
    keep.sort()
    return keep


def _clusters(items: list[int], value) -> list[list[int]]:  # type: ignore[no-untyped-def]
    """Items grouped where sorted values are no more than the tolerance apart (chained)."""
    ordered = sorted(items, key=value)
    out: list[list[int]] = []
    last = None
    for i in ordered:
        v = value(i)
        if last is None or v - last > DEDUPE_TOLERANCE:
            out.append([])
        out[-1].append(i)
        last = v
    return out


def image_boxes(page: pc.FPDF_PAGE, geo: PageGeometry) -> list[tuple[float, float, float, float]]:
    """Pixel boxes of the page's images (those inside forms too), at most ``MAX_IMAGES``."""
    boxes: list[tuple[float, float, float, float]] = []
    n = pc.FPDFPage_CountObjects(page)
    _collect((pc.FPDFPage_GetObject(page, i) for i in range(n)), None, geo, boxes, 0)
    return boxes


def _collect(objects, form_matrix, geo: PageGeometry, boxes: list, depth: int) -> None:  # type: ignore[no-untyped-def]
    for obj in itertools.islice(objects, 100_000):
        if len(boxes) >= MAX_IMAGES:
            return
        if not obj:
            continue
        kind = pc.FPDFPageObj_GetType(obj)
        if kind == pc.FPDF_PAGEOBJ_IMAGE:
            b = _bounds(obj)
            if b is not None:
                if form_matrix is not None:
                    b = _transform(b, form_matrix)
                boxes.append(geo.box(*b))
        elif kind == pc.FPDF_PAGEOBJ_FORM and depth < MAX_FORM_DEPTH:
            m = pc.FS_MATRIX()
            if not pc.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
                continue
            mine = (m.a, m.b, m.c, m.d, m.e, m.f)
            total = mine if form_matrix is None else _compose(mine, form_matrix)
            k = pc.FPDFFormObj_CountObjects(obj)
            _collect((pc.FPDFFormObj_GetObject(obj, j) for j in range(max(0, k))), total, geo, boxes, depth + 1)


def _bounds(obj) -> tuple[float, float, float, float] | None:  # type: ignore[no-untyped-def]
    v = [ctypes.c_float() for _ in range(4)]
    if not pc.FPDFPageObj_GetBounds(obj, *(ctypes.byref(x) for x in v)):
        return None
    left, bottom, right, top = (x.value for x in v)
    return left, bottom, right, top


def _compose(inner: tuple, outer: tuple) -> tuple:  # type: ignore[type-arg]
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer  # noqa: N806 - the matrix's own letters
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _transform(b: tuple[float, float, float, float], m: tuple) -> tuple[float, float, float, float]:  # type: ignore[type-arg]
    a, bb, c, d, e, f = m
    xs, ys = [], []
    for x, y in ((b[0], b[1]), (b[2], b[1]), (b[0], b[3]), (b[2], b[3])):
        xs.append(a * x + c * y + e)
        ys.append(bb * x + d * y + f)
    return min(xs), min(ys), max(xs), max(ys)
