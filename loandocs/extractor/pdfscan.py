"""A cheap look at a PDF's raw bytes before PDFium or pdfminer parses it.

Why: the costly PDF attacks are small files. PDFium expands Form XObjects when it loads a page,
in native code that no job timeout can interrupt, so a 600-byte PDF whose form draws itself
twice (2^40 draws at PDFium's depth limit) hangs a worker for good; a 400 KB page whose
content stream inflates to 200 MB takes PDFium 40 s and 4 GB; pdfminer (the text layer) needs
seconds and gigabytes for a few MB of drawing operators. None of this shows in the page count
or page sizes, so before anything is parsed this module estimates, from the bytes:

- the number of objects (headers, object streams, trailer ``/Size``) -> ``too_many_objects``;
- each image's pixels from ``/Width``/``/Height`` -> ``too_many_pixels``;
- the decoded size of every non-image stream, inflated with a cap (never the whole bomb), and
  the *expanded* content of each page and each form: its own operators plus everything its
  ``Do`` calls draw, followed through the XObject resources -> ``too_complex``; a form that
  draws itself (directly or in a cycle) is refused the same way.

It is an estimate that errs on the side of refusing: names it cannot resolve count as the
most expensive form that could answer them. Encrypted streams cannot be inflated; they count
with their raw size. Every failure is an ``InputError``; nothing else leaves ``scan_pdf``.
"""

from __future__ import annotations

import base64
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field

from loandocs.errors import InputError
from loandocs.extractor.options import Limits

_HEADER = re.compile(rb"(\d{1,10})[ \t\r\n\f\x00]+(\d{1,5})[ \t\r\n\f\x00]+obj(?![A-Za-z])")
_STREAM_KW = re.compile(rb">>[ \t\r\n\f\x00]*stream(?:\r\n|\r|\n)")
_SIZE = re.compile(rb"/Size[ \t\r\n\f\x00]+(\d{1,12})")
_INT = rb"[ \t\r\n\f\x00]*(\d{1,12})"
_REF = re.compile(rb"(\d{1,10})[ \t\r\n\f\x00]+\d{1,5}[ \t\r\n\f\x00]+R(?![A-Za-z])")
_NAME_REF = re.compile(rb"/([^ \t\r\n\f\x00/<>\[\]()%{}]+)[ \t\r\n\f\x00]+(\d{1,10})[ \t\r\n\f\x00]+\d{1,5}[ \t\r\n\f\x00]+R(?![A-Za-z])")
_DO = re.compile(rb"/([^ \t\r\n\f\x00/<>\[\]()%{}]+)[ \t\r\n\f\x00]*Do(?![A-Za-z0-9_])")
_PAGE = re.compile(rb"/Type[ \t\r\n\f\x00]*/Page(?![A-Za-z])")
_FILTER_NAMES = re.compile(rb"/([A-Za-z0-9]+)")
_BRACKETS = re.compile(rb"<<|>>")

# Streams that are data, not drawing operators: font programs, colour profiles, metadata,
# cross-reference and object streams, attachments, functions.
_DATA_STREAM = re.compile(
    rb"/Length1|/Length2|/Subtype[ \t\r\n\f\x00]*/(?:Type1C|CIDFontType0C|OpenType|XML)"
    rb"|/Type[ \t\r\n\f\x00]*/(?:XRef|ObjStm|Metadata|EmbeddedFile)|/FunctionType|/N[ \t\r\n\f\x00]+[134](?![0-9])"
)
_IMAGE = re.compile(rb"/Subtype[ \t\r\n\f\x00]*/Image(?![A-Za-z])")
_FORM = re.compile(rb"/Subtype[ \t\r\n\f\x00]*/Form(?![A-Za-z])|/PatternType[ \t\r\n\f\x00]*1(?![0-9])")

# What drawing an image once costs, in content-byte equivalents: cheap, but not free, so a
# page drawing one image a million times is still refused.
IMAGE_DRAW_COST = 256
MAX_FORM_DEPTH = 32  # deeper nesting than any producer writes; PDFium itself stops near 40
# Cap on inflated bytes of data streams (fonts, profiles, object streams) for the whole file:
# a 30 MB CJK font is legitimate, a font that inflates to gigabytes is a bomb. Data streams are
# only counted, never held; object streams are held (they are parsed), so each has its own cap.
MAX_DATA_STREAM_BYTES = 128 * 1024 * 1024
MAX_OBJECT_STREAM_BYTES = 16 * 1024 * 1024
_MAX_FILTERS = 4


def _too_complex(message: str, **details: object) -> InputError:
    return InputError(message, code="too_complex", **details)


@dataclass
class _Obj:
    num: int
    dict_text: bytes
    raw: bytes | None = None  # stream bytes as stored
    data: bytes | None = None  # decoded (content streams only; None when not decodable)
    kind: str = "none"  # "image", "form", "content", "data", "none"
    cost: int = 0  # decoded bytes (content and form streams)


@dataclass
class _Scan:
    limits: Limits
    objs: dict[int, _Obj] = field(default_factory=dict)
    count: int = 0
    data_budget: int = MAX_DATA_STREAM_BYTES


def scan_pdf(data: bytes, limits: Limits) -> None:
    """Refuse a PDF that is too big to parse safely. Raises ``InputError`` or returns None."""
    try:
        _scan(data, limits)
    except InputError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise _too_complex("The PDF is too complex to be processed safely", reason=type(exc).__name__) from exc
    except Exception as exc:  # noqa: BLE001 - a scanner bug must look like a bad file, never crash a worker
        raise InputError("The PDF file is damaged and cannot be read", code="corrupt_file",
                         reason=f"scan: {type(exc).__name__}: {exc}"[:300]) from exc


def _scan(data: bytes, limits: Limits) -> None:
    s = _Scan(limits)
    # A trailer's /Size counts when it could be true; one larger than the file has bytes is a
    # damaged number PDFium's repair ignores, not a reason to refuse the file.
    declared = max((n for n in (int(m.group(1)) for m in _SIZE.finditer(data)) if n <= len(data)), default=0)
    _check_count(declared, limits)
    _read_objects(data, s)
    for obj in list(s.objs.values()):
        _classify(obj, s)
    _check_costs(s)


# ------------------------------------------------------------------------------- objects


def _check_count(objects: int, limits: Limits) -> None:
    if objects > limits.max_pdf_objects:
        raise InputError(f"The PDF has {objects} objects or more; the limit is {limits.max_pdf_objects}",
                         code="too_many_objects", objects=objects, limit=limits.max_pdf_objects)


def _pairs(data: bytes):  # type: ignore[no-untyped-def]
    """Each object header with where the next one starts, lazily: a file of a million tiny
    objects is refused after the limit, not after a million matches were built."""
    it = _HEADER.finditer(data)
    current = next(it, None)
    while current is not None:
        following = next(it, None)
        yield current, following.start() if following is not None else len(data)
        current = following


def _read_objects(data: bytes, s: _Scan) -> None:
    cursor = 0
    for m, end in _pairs(data):
        if m.start() < cursor:
            continue  # a header-like run inside the previous object's stream data
        body_start = m.end()
        num = int(m.group(1))
        s.count += 1
        _check_count(s.count, s.limits)
        stream = _STREAM_KW.search(data, body_start, end)
        endobj = data.find(b"endobj", body_start, end)
        if stream and (endobj < 0 or stream.start() < endobj):
            dict_text = data[body_start:stream.start() + 2]
            stop = data.find(b"endstream", stream.end())
            stop = len(data) if stop < 0 else stop
            s.objs[num] = _Obj(num, dict_text, raw=data[stream.end():stop])
            cursor = stop
        else:
            s.objs[num] = _Obj(num, data[body_start:endobj if endobj >= 0 else end])
    for obj in [o for o in s.objs.values() if o.raw is not None and b"/ObjStm" in o.dict_text]:
        _read_object_stream(obj, s)
        _check_count(s.count, s.limits)


def _read_object_stream(obj: _Obj, s: _Scan) -> None:
    decoded = _decode(obj, min(s.data_budget, MAX_OBJECT_STREAM_BYTES) + 1)
    s.data_budget -= len(decoded)
    if s.data_budget < 0 or len(decoded) > MAX_OBJECT_STREAM_BYTES:
        raise _too_complex("The PDF's compressed objects inflate beyond the limit")
    n = _int_of(obj.dict_text, b"/N") or 0
    first = _int_of(obj.dict_text, b"/First") or 0
    nums = decoded[:first].split()
    pairs = [(int(nums[i]), int(nums[i + 1])) for i in range(0, min(len(nums) - 1, 2 * n), 2)
             if nums[i].isdigit() and nums[i + 1].isdigit()]
    s.count += max(n, len(pairs))
    for i, (num, off) in enumerate(pairs):
        stop = pairs[i + 1][1] if i + 1 < len(pairs) else len(decoded) - first
        if num not in s.objs:  # top-level definitions win (later incremental updates)
            s.objs[num] = _Obj(num, decoded[first + off:first + max(off, stop)])


def _int_of(text: bytes, key: bytes) -> int | None:
    m = re.search(re.escape(key) + rb"(?![A-Za-z0-9])" + _INT, text)
    return int(m.group(1)) if m else None


# ------------------------------------------------------------------------------- streams


def _classify(obj: _Obj, s: _Scan) -> None:
    if obj.raw is None:
        return
    text = obj.dict_text
    if _IMAGE.search(text):
        obj.kind = "image"
        w, h = _int_of(text, b"/Width"), _int_of(text, b"/Height")
        if w and h and w * h > s.limits.max_pixels:
            raise InputError(f"A PDF image is {w}x{h} pixels; the limit is {s.limits.max_pixels} pixels",
                             code="too_many_pixels", pixels=w * h, limit=s.limits.max_pixels)
        return
    if _FORM.search(text):
        obj.kind = "form"
    elif _DATA_STREAM.search(text):
        obj.kind = "data"
        s.data_budget -= _decode(obj, s.data_budget + 1, count_only=True)
        if s.data_budget < 0:
            raise _too_complex("The PDF's embedded data (fonts, profiles) inflates beyond the limit")
        return
    else:
        obj.kind = "content"
    budget = s.limits.max_pdf_page_content_bytes
    obj.data = _decode(obj, budget + 1)
    obj.cost = len(obj.data)
    if obj.cost > budget:
        raise _too_complex("A PDF content stream is larger than the limit once inflated",
                           limit=budget)


def _decode(obj: _Obj, cap: int, *, count_only: bool = False):  # type: ignore[no-untyped-def]
    """The stream decoded through its filters, at most ``cap`` bytes (``count_only``: just how
    many, without holding a final Flate output). Filters we do not decode (image codecs,
    Crypt) leave the bytes as they are: the size is then the raw size."""
    data = obj.raw or b""
    m = re.search(rb"/Filter[ \t\r\n\f\x00]*(\[[^\]]*\]|/[A-Za-z0-9]+)", obj.dict_text)
    names = [n for n in (_FILTER_NAMES.findall(m.group(1)) if m else [])][:_MAX_FILTERS]
    for k, name in enumerate(names):
        decoder = _DECODERS.get(name)
        if decoder is None:
            break
        if count_only and k == len(names) - 1 and decoder is _inflate:
            return _inflate_count(data, cap)
        data = decoder(data, cap)
    return len(data[:cap]) if count_only else data[:cap]


def _inflate_chunks(data: bytes, cap: int):  # type: ignore[no-untyped-def]
    # Fed in pieces so a corrupt tail still yields what came before it, as PDFium does; output
    # capped at cap + 1 bytes, so a bomb is never inflated beyond the point of refusing it.
    d = zlib.decompressobj()
    size = 0
    for i in range(0, len(data), 65536):
        try:
            chunk = d.decompress(data[i:i + 65536], cap + 1 - size)
            while True:
                size += len(chunk)
                yield chunk
                if size > cap or not d.unconsumed_tail:
                    break
                chunk = d.decompress(d.unconsumed_tail, cap + 1 - size)
        except zlib.error:
            return
        if size > cap or d.eof:
            return


def _inflate(data: bytes, cap: int) -> bytes:
    return b"".join(_inflate_chunks(data, cap))


def _inflate_count(data: bytes, cap: int) -> int:
    return sum(len(chunk) for chunk in _inflate_chunks(data, cap))


def _hex(data: bytes, cap: int) -> bytes:
    digits = re.sub(rb"[^0-9A-Fa-f]", b"", data.split(b">", 1)[0])
    if len(digits) % 2:
        digits += b"0"
    return bytes.fromhex(digits[: 2 * (cap + 1)].decode())


def _a85(data: bytes, cap: int) -> bytes:
    body = data.split(b"~>", 1)[0]
    body = re.sub(rb"[ \t\r\n\f\x00]", b"", body)
    if body.startswith(b"<~"):
        body = body[2:]
    # 'z' is four zero bytes, so 5/4 * (cap + 1) input characters produce at least cap + 1.
    body = body[: 5 * (cap // 4 + 2)]
    try:
        return base64.a85decode(body)[: cap + 1]
    except ValueError:
        return b""


def _lzw(data: bytes, cap: int) -> bytes:
    from io import BytesIO

    from pdfminer.lzw import LZWDecoder

    out: list[bytes] = []
    size = 0
    try:
        for chunk in LZWDecoder(BytesIO(data)).run():
            out.append(chunk)
            size += len(chunk)
            if size > cap:
                break
    except Exception:  # noqa: BLE001 - a broken LZW stream ends where it breaks, as in the readers
        pass
    return b"".join(out)


def _run_length(data: bytes, cap: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data) and len(out) <= cap:
        n = data[i]
        if n == 128:
            break
        if n < 128:
            out += data[i + 1:i + 2 + n]
            i += n + 2
        else:
            out += data[i + 1:i + 2] * (257 - n)
            i += 2
    return bytes(out)


_DECODERS = {
    b"FlateDecode": _inflate, b"Fl": _inflate, b"ASCIIHexDecode": _hex, b"AHx": _hex,
    b"ASCII85Decode": _a85, b"A85": _a85, b"LZWDecode": _lzw, b"LZW": _lzw,
    b"RunLengthDecode": _run_length, b"RL": _run_length,
}


# --------------------------------------------------------------------------------- costs


def _inline_dict(text: bytes, key: bytes) -> bytes | None:
    """The value of ``key`` in a dictionary's text: an inline ``<< >>`` (balanced) or the
    text of the object a reference points to is resolved by the caller."""
    m = re.search(re.escape(key) + rb"(?![A-Za-z0-9])[ \t\r\n\f\x00]*", text)
    if not m:
        return None
    i = m.end()
    if not text.startswith(b"<<", i):
        return None
    depth = 0
    for token in _BRACKETS.finditer(text, i):  # found by the regex engine, not byte by byte
        depth += 1 if token.group() == b"<<" else -1
        if depth == 0:
            return text[i:token.end()]
    return text[i:]


def _value(text: bytes, key: bytes, s: _Scan) -> bytes | None:
    inline = _inline_dict(text, key)
    if inline is not None:
        return inline
    m = re.search(re.escape(key) + rb"(?![A-Za-z0-9])[ \t\r\n\f\x00]*" + _REF.pattern, text)
    if m:
        target = s.objs.get(int(m.group(1)))
        return target.dict_text if target is not None else None
    return None


def _xobject_map(text: bytes, s: _Scan, depth: int = 0) -> dict[bytes, int] | None:
    """Name -> object number from the /Resources of a form or page (a page inherits them from
    its /Parent chain). None when they cannot be resolved from the bytes."""
    resources = _value(text, b"/Resources", s)
    if resources is None:
        parent = re.search(rb"/Parent" + rb"[ \t\r\n\f\x00]*" + _REF.pattern, text)
        if parent and depth < MAX_FORM_DEPTH:
            up = s.objs.get(int(parent.group(1)))
            if up is not None:
                return _xobject_map(up.dict_text, s, depth + 1)
        return None
    xobjects = _value(resources, b"/XObject", s)
    if xobjects is None:
        return {}
    return {name: int(num) for name, num in _NAME_REF.findall(xobjects)}


@dataclass
class _Costs:
    s: _Scan
    union: dict[bytes, set[int]]
    memo: dict[int, int] = field(default_factory=dict)
    active: set[int] = field(default_factory=set)
    calls: dict[int, Counter[bytes]] = field(default_factory=dict)  # Do names per stream, counted once

    def stream(self, obj: _Obj, names: dict[bytes, int] | None, depth: int = 0) -> int:
        limit = self.s.limits.max_pdf_page_content_bytes
        total = obj.cost
        if obj.num not in self.calls:  # a content stream many pages share is searched once
            self.calls[obj.num] = Counter(_DO.findall(obj.data or b""))
        for name, times in self.calls[obj.num].items():
            targets = {names[name]} if names is not None and name in names else self.union.get(name, set())
            each = max((self.target(t, depth) for t in targets), default=0)
            total += times * each
            if total > limit:
                return total
        return total

    def target(self, num: int, depth: int) -> int:
        obj = self.s.objs.get(num)
        if obj is None or obj.kind not in ("form", "image"):
            return 0
        if obj.kind == "image":
            return IMAGE_DRAW_COST
        if num in self.active:
            raise _too_complex("A form in the PDF draws itself", object=num)
        if depth >= MAX_FORM_DEPTH:
            raise _too_complex("Forms in the PDF are nested too deeply", limit=MAX_FORM_DEPTH)
        if num not in self.memo:
            self.active.add(num)
            try:
                self.memo[num] = self.stream(obj, _xobject_map(obj.dict_text, self.s), depth + 1)
            finally:
                self.active.discard(num)
        return self.memo[num]


def _check_costs(s: _Scan) -> None:
    union: dict[bytes, set[int]] = {}
    for obj in s.objs.values():
        if b"/XObject" in obj.dict_text:
            for name, num in (_xobject_map(obj.dict_text, s) or {}).items():
                union.setdefault(name, set()).add(num)
    costs = _Costs(s, union)
    page_limit = s.limits.max_pdf_page_content_bytes
    # Every form on its own (appearance streams of annotations are forms no page names).
    for obj in s.objs.values():
        if obj.kind == "form" and costs.target(obj.num, 0) > page_limit:
            raise _too_complex("A PDF form draws more than the page content limit", limit=page_limit)
    total = 0
    pages = [obj for obj in s.objs.values() if obj.raw is None and _PAGE.search(obj.dict_text)]
    # A long text-layer statement (hundreds of pages, max_text_layer_pages) draws its operators
    # page by page like any short one: the budget grows with the pages beyond max_pages.
    # Counted up to max_text_layer_pages: fake page objects must not buy an unbounded budget.
    extra = max(0, min(len(pages), s.limits.max_text_layer_pages) - s.limits.max_pages)
    total_limit = s.limits.max_pdf_content_bytes + extra * s.limits.max_pdf_content_bytes_per_extra_page
    for obj in pages:
        contents = _contents_of(obj.dict_text)
        names = _xobject_map(obj.dict_text, s)
        page = sum(costs.stream(c, names) for c in (s.objs.get(n) for n in contents) if c is not None and c.raw is not None)
        if page > page_limit:
            raise _too_complex("A PDF page draws more than the page content limit", limit=page_limit)
        total += page
        if total > total_limit:
            raise _too_complex("The PDF's pages draw more than the content limit", limit=total_limit)


def _contents_of(page_text: bytes) -> list[int]:
    m = re.search(rb"/Contents[ \t\r\n\f\x00]*(\[[^\]]*\]|" + _REF.pattern + rb")", page_text)
    if not m:
        return []
    return [int(n) for n in _REF.findall(m.group(1))]


__all__ = ["scan_pdf"]
