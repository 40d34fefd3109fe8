"""Hostile files, built here byte by byte, and the mutations the fuzz tests apply to samples.

Each builder returns bytes a real attacker could upload; ``HOSTILE`` maps a name to the bytes
and the error code the loader must answer. Shared by tests/test_hostile_input.py,
tests/test_fuzz.py and benchmarks/fuzz_loader.py.
"""

from __future__ import annotations

import functools
import io
import os
import random
import struct
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_IMAGES = [ROOT / "samples/idcards/front_scan_001.jpg", ROOT / "samples/idcards/back_photo_001.jpg",
                 ROOT / "samples/financial/income_scan_001.jpg"]
SAMPLE_PDFS = [ROOT / "samples/financial/income_pdf_001.pdf", ROOT / "samples/financial/statement_pdf_001.pdf",
               ROOT / "samples/financial/statement_scan_pdf_002.pdf", ROOT / "samples/financial/mixed_001.pdf"]

# Every code the loader may answer for a bad file (loandocs.errors.InputError).
LOADER_CODES = frozenset({
    "empty_file", "unsupported_type", "corrupt_file", "file_too_large", "too_many_pixels", "too_many_pages",
    "page_too_large", "encrypted_pdf", "no_pages", "too_many_objects", "too_complex",
})


# ------------------------------------------------------------------------------------ PDF


def pdf(objects: list[bytes], trailer: bytes = b"/Root 1 0 R") -> bytes:
    """A PDF with a correct xref table; objects are numbered from 1."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def stream(dictionary: bytes, content: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(content), content)


def one_page(content: bytes, extra: list[bytes] = (), resources: bytes = b"<< >>") -> bytes:
    """Objects 1-4: catalog, pages, page, its content stream; ``extra`` from object 5."""
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources %s >>" % resources,
                content, *extra])


def pdf_form_draws_itself() -> bytes:
    """600 bytes that hang PDFium's page load: the form draws itself twice, 2^40 times over."""
    form = stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /F 5 0 R >> >>",
                  b"0 0 m 1 1 l S /F Do /F Do")
    return one_page(stream(b"", b"/F Do"), [form], b"<< /XObject << /F 5 0 R >> >>")


def pdf_form_fanout(depth: int = 8, fan: int = 10) -> bytes:
    """Billion laughs: each form draws the next one ``fan`` times (10^8 draws, 2 KB)."""
    forms = []
    for d in range(depth):
        body = b"0 0 m 1 1 l S" if d == depth - 1 else b"/F Do " * fan
        forms.append(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /F %d 0 R >> >>"
                            % (6 + d), body))
    return one_page(stream(b"", b"/F Do " * fan), forms, b"<< /XObject << /F 5 0 R >> >>")


def pdf_flate_bomb(mib: int = 64) -> bytes:
    """A page whose content inflates to ``mib`` MiB of line drawing (PDFium: 4 GB, 40 s at 200)."""
    c = zlib.compressobj(9)
    chunk = b"0 0 m 1 1 l S\n" * 74898  # ~1 MiB
    data = b"".join(c.compress(chunk) for _ in range(mib)) + c.flush()
    return one_page(stream(b"/Filter /FlateDecode", data))


def pdf_huge_image(side: int = 20_000) -> bytes:
    c = zlib.compressobj(9)
    row = b"\x00" * ((side + 7) // 8)
    data = b"".join(c.compress(row) for _ in range(side)) + c.flush()
    image = stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                   b"/BitsPerComponent 1 /Filter /FlateDecode" % (side, side), data)
    return one_page(stream(b"", b"q 200 0 0 200 0 0 cm /Im1 Do Q"), [image], b"<< /XObject << /Im1 5 0 R >> >>")


def pdf_many_objects(n: int) -> bytes:
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] + [b"null"] * n)


def pdf_garbage() -> bytes:
    return b"%PDF-1.7\n" + bytes(range(256)) * 40


# --------------------------------------------------------------------------------- images


def _encode(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


@functools.cache
def noise_jpeg(w: int = 400, h: int = 300) -> bytes:
    rng = np.random.default_rng(0)
    return _encode(Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)), "JPEG", quality=85)


def jpeg_scan_bomb(scans: int = 3000, side: int = 2000) -> bytes:
    """A progressive JPEG with thousands of tiny AC scans over a large image: every scan walks
    every block again (measured 18 s for 5,000 scans at 49 MP before the scan limit)."""
    j = _encode(Image.new("L", (side, side), 128), "JPEG", progressive=True, quality=90)
    first, second = j.find(b"\xff\xda"), j.find(b"\xff\xda", j.find(b"\xff\xda") + 2)
    scan = j[second:j.find(b"\xff", second + 2 + int.from_bytes(j[second + 2:second + 4], "big"))]
    while True:  # extend to the end of the scan's entropy-coded data (FF00 and RSTn stay inside)
        k = j.find(b"\xff", second + len(scan))
        if j[k + 1] == 0 or 0xD0 <= j[k + 1] <= 0xD7:
            scan = j[second:k + 2]
            continue
        scan = j[second:k]
        break
    assert first > 0 and scan
    end = j.rfind(b"\xff\xd9")
    return j[:end] + scan * scans + b"\xff\xd9"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_lie(w: int, h: int) -> bytes:
    """IHDR claims w x h; the data is one byte: decoding it would fail or explode."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00")) + png_chunk(b"IEND", b"")


def png_text_bomb() -> bytes:
    """A zTXt chunk inflating to 64 MB on a 10x10 image (Pillow's 1 MB text-chunk cap stops it)."""
    ihdr = struct.pack(">IIBBBBB", 10, 10, 8, 0, 0, 0, 0)
    ztxt = png_chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"A" * 64_000_000, 9))
    raw = b"".join(b"\x00" + b"\x00" * 10 for _ in range(10))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + ztxt + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def tiff_frames(n: int) -> bytes:
    frames = [Image.new("L", (8, 8)) for _ in range(n)]
    return _encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])


def webp_header_lie() -> bytes:
    """A lossless WebP whose header says 16384 x 16384 (268 MP), with no image data."""
    bits = (16383) | (16383 << 14)
    vp8l = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 8
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


@functools.cache
def hostile() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, the code the loader answers)."""
    sample_pdf = SAMPLE_PDFS[0].read_bytes()
    jpeg = noise_jpeg()
    return {
        "html_before_pdf": (b"<html><script>alert(1)</script></html>\n" + sample_pdf, "unsupported_type"),
        "zip_before_pdf": (b"PK\x03\x04" + b"\x00" * 26 + sample_pdf, "unsupported_type"),
        "gif": (_encode(Image.new("P", (8, 8)), "GIF"), "unsupported_type"),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "unsupported_type"),
        "truncated_jpeg": (jpeg[: len(jpeg) // 2], "corrupt_file"),
        "jpeg_scan_bomb": (jpeg_scan_bomb(), "too_complex"),
        "png_header_lie_huge": (png_header_lie(70_000, 70_000), "too_many_pixels"),
        "png_header_lie_over_limit": (png_header_lie(10_000, 7_000), "too_many_pixels"),
        "png_text_bomb": (png_text_bomb(), "corrupt_file"),
        "webp_header_lie": (webp_header_lie(), "too_many_pixels"),
        "tiff_many_frames": (tiff_frames(60), "too_many_pages"),
        "pdf_garbage": (pdf_garbage(), "corrupt_file"),
        "pdf_truncated": (sample_pdf[:200], "corrupt_file"),
        "pdf_form_draws_itself": (pdf_form_draws_itself(), "too_complex"),
        "pdf_form_fanout": (pdf_form_fanout(), "too_complex"),
        "pdf_flate_bomb": (pdf_flate_bomb(), "too_complex"),
        "pdf_huge_image": (pdf_huge_image(), "too_many_pixels"),
        "pdf_many_objects": (pdf_many_objects(120_000), "too_many_objects"),
        "pdf_zero_pages": (pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]),
                           "no_pages"),
        "pdf_huge_page": (pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 20000 20000] >>"]), "page_too_large"),
    }


# ------------------------------------------------------------------------------ mutations


def mutate(data: bytes, rng: random.Random, donors: list[bytes] = ()) -> bytes:
    """One to three random edits of the kinds real damage and attacks make."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("flip", "flip", "bytes", "truncate", "header", "splice", "duplicate", "zero"))
        n = len(out)
        if n < 4:
            break
        if kind == "flip":  # single bit errors anywhere
            for _ in range(rng.randint(1, 16)):
                i = rng.randrange(n)
                out[i] ^= 1 << rng.randrange(8)
        elif kind == "bytes":  # random bytes, often 0x00 / 0xFF / digits that change numbers
            for _ in range(rng.randint(1, 8)):
                out[rng.randrange(n)] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256), ord(str(rng.randrange(10)))))
        elif kind == "truncate":
            out = out[: rng.randrange(1, n)]
        elif kind == "header":  # edits where headers live: sizes, counts, offsets
            i = rng.randrange(min(n, 512))
            width = rng.choice((1, 2, 4))
            value = rng.choice((0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, rng.getrandbits(32)))
            out[i:i + width] = value.to_bytes(4, "big")[-width:]
        elif kind == "splice" and donors:  # a piece of another file (format confusion)
            donor = rng.choice(donors)
            a = rng.randrange(len(donor))
            piece = donor[a:a + rng.randint(1, 4096)]
            i = rng.randrange(n)
            out[i:i + rng.randint(0, len(piece))] = piece
        elif kind == "duplicate":  # a repeated region (chunks, objects, scans)
            a = rng.randrange(n)
            piece = out[a:a + rng.randint(1, 2048)]
            i = rng.randrange(n)
            out[i:i] = piece * rng.randint(1, 4)
        elif kind == "zero":
            a = rng.randrange(n)
            out[a:a + rng.randint(1, 1024)] = b"\x00" * len(out[a:a + rng.randint(1, 1024)])
    return bytes(out)


def pdf_mutations(data: bytes, rng: random.Random) -> bytes:
    """PDF-aware edits: numbers in dictionaries, names, brackets, xref offsets."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(("number", "name", "bracket", "keyword"))
        i = rng.randrange(len(out))
        if kind == "number":
            j = out.find(b" ", i)
            if j > 0:
                out[j:j] = str(rng.choice((0, -1, 2**31, 2**63, 99999999, rng.randrange(1000)))).encode() + b" "
        elif kind == "name":
            out[i:i] = rng.choice((b"/Length ", b"/Count 99999 ", b"/Kids [", b"/Filter /FlateDecode ", b"/Size 2147483647 ",
                                   b"/Type /Page ", b"/Contents 1 0 R ", b"/Resources 3 0 R "))
        elif kind == "bracket":
            out[i:i] = rng.choice((b"<<", b">>", b"[", b"]", b"(", b")", b"\\"))
        else:
            out[i:i] = rng.choice((b"endstream", b"endobj", b"stream\n", b"xref\n", b"trailer", b"%%EOF", b"obj"))
    return bytes(out)


# -------------------------------------------------------------------------------- sandbox


class Sandbox:
    """Runs ``target`` on bytes in a separate process, so a hang (native code included) or a
    crash is an answer, not a stuck or dead test run. ``call`` returns one of
    ``("ok", summary)``, ``("error", code)``, ``("crash", traceback)``, ``("died", exitcode)``,
    ``("hang", seconds)``; after a hang or death the process is replaced."""

    def __init__(self, target: str):
        import multiprocessing

        self.target = target
        self._ctx = multiprocessing.get_context("spawn")  # a clean process: no forked threads or locks
        self._start()

    def _start(self) -> None:
        self.conn, child = self._ctx.Pipe()
        self.proc = self._ctx.Process(target=_serve, args=(child, self.target), daemon=True)
        self.proc.start()
        child.close()
        kind, _ = self.conn.recv()  # "ready" once the imports (and the OCR engine) are loaded
        assert kind == "ready"

    def call(self, data: bytes, timeout: float) -> tuple[str, object]:
        """A call is a hang when it has run ``timeout`` seconds and also had ``timeout`` seconds
        of CPU (on a busy machine a call that gets a sliver of a core is slow, not hung), or,
        without the CPU (a deadlock, a wait), after ``STALL_FACTOR`` times ``timeout``."""
        self.conn.send_bytes(data)
        t0, cpu0 = time.monotonic(), _cpu_seconds(self.proc.pid)
        while not self.conn.poll(min(1.0, timeout)):
            wall, cpu = time.monotonic() - t0, _cpu_seconds(self.proc.pid) - cpu0
            if (wall > timeout and cpu > timeout) or wall > timeout * STALL_FACTOR:
                self.proc.kill()
                self.proc.join()
                self._start()
                return "hang", f"{wall:.0f} s, {cpu:.0f} s of CPU"
        try:
            return self.conn.recv()
        except EOFError:
            self.proc.join()
            code = self.proc.exitcode
            self._start()
            return "died", code

    def close(self) -> None:
        self.proc.kill()
        self.proc.join()


STALL_FACTOR = 5  # a sandbox that uses no CPU at all is given this many times its time limit


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid``, all its threads (the OCR engine runs several)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve(conn, target: str) -> None:  # type: ignore[no-untyped-def]
    import logging
    import traceback
    import warnings

    from loandocs.errors import LoanDocsError
    from loandocs.extractor.options import Limits

    logging.disable(logging.WARNING)  # pdfminer warns about every damaged object it meets
    warnings.simplefilter("ignore")  # and Pillow about every damaged EXIF or TIFF tag
    limits = Limits()
    if target.endswith("-noscan"):  # benchmarks/fuzz_loader.py --hostile --no-scan: the "before"
        from loandocs.extractor import loading

        loading.scan_pdf = lambda data, limits: None
        loading.MAX_JPEG_SCANS = 10**9
    if target == "pipeline":
        import datetime as dt

        from loandocs.reader import Pipeline, PipelineOptions, get_engine

        pipeline = Pipeline(PipelineOptions(application_date=dt.date(2026, 11, 29)), engine=get_engine())

        def run(data: bytes) -> object:
            results = pipeline.extract(data, "fuzz")
            return [(r.doc_type, (r.error or {}).get("code")) for r in results]
    else:
        from loandocs.extractor.loading import load_file
        from loandocs.extractor.textlayer import read_text_layer

        def run(data: bytes) -> object:
            loaded = load_file(data, limits, pdf_dpi=50)
            summary = (loaded.kind, loaded.page_count, [p.image.shape for p in loaded.pages if p.image is not None])
            if loaded.kind == "pdf" and len(data) < 200_000:  # pdfminer: the text-layer parser
                read_text_layer(data, limits, dpi=50)
            return summary
    conn.send(("ready", None))
    while True:
        try:
            data = conn.recv_bytes()
        except EOFError:
            return
        try:
            conn.send(("ok", run(data)))
        except LoanDocsError as exc:
            conn.send(("error", exc.code))
        except BaseException:  # noqa: BLE001 - exactly what the fuzz test is looking for
            conn.send(("crash", traceback.format_exc()[-3000:]))
