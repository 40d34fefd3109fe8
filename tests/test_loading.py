"""Loading stage: real files built here (Pillow, pypdfium2, hand-written PDF/PNG bytes)."""

from __future__ import annotations

import functools
import hashlib
import io
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pypdfium2 as pdfium
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from loandocs.errors import FileTooLarge, InputError
from loandocs.extractor.loading import LoadedFile, load_file, sniff_type
from loandocs.extractor.options import Limits

from .hostile import pdf as handwritten_pdf

LIMITS = Limits()


# ------------------------------------------------------------------------------ builders


def _noise(w: int, h: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB").convert(mode)


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


@functools.cache
def jpeg_bytes() -> bytes:
    return _encode(_noise(200, 150), "JPEG", quality=90)


@functools.cache
def png_bytes() -> bytes:
    return _encode(_noise(64, 48), "PNG")


def pdf_bytes(sizes: list[tuple[float, float]]) -> bytes:
    doc = pdfium.PdfDocument.new()
    try:
        for w, h in sizes:
            doc.new_page(w, h).close()
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()
    finally:
        doc.close()


@functools.cache
def small_pdf_bytes() -> bytes:
    return pdf_bytes([(72, 144), (144, 72)])


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def encrypted_pdf_bytes(user_pw: bytes = b"secret", owner_pw: bytes = b"owner") -> bytes:
    """Standard security handler, RC4 40-bit (V1/R2), PDF 1.7 spec algorithms 3.2-3.4. The
    page has no strings or streams, so only /O and /U need computing."""
    perms = -44
    file_id = hashlib.md5(b"loandocs-test").digest()
    o_key = hashlib.md5((owner_pw + _PAD)[:32]).digest()[:5]
    o_val = _rc4(o_key, (user_pw + _PAD)[:32])
    hex_id = file_id.hex().encode()
    seed = (user_pw + _PAD)[:32] + o_val + struct.pack("<i", perms) + file_id
    key = hashlib.md5(seed).digest()[:5]
    u_val = _rc4(key, _PAD)
    return handwritten_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
            % (o_val.hex().encode(), u_val.hex().encode(), perms),
        ],
        b"/Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>]" % (hex_id, hex_id),
    )


def png_header_only(w: int, h: int) -> bytes:
    """A PNG signature + IHDR claiming w x h, then a 1-byte IDAT: decoding it would fail, so a
    too_many_pixels answer proves the limit is checked from the header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)  # 1-bit grayscale
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"\x00") + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def code_of(data: bytes, limits: Limits = LIMITS, **kw) -> str:
    with pytest.raises(InputError) as info:
        load_file(data, limits, **kw)
    return info.value.code


def one_page(data: bytes, limits: Limits = LIMITS) -> np.ndarray:
    loaded = load_file(data, limits)
    assert loaded.page_count == len(loaded.pages) == 1
    image = loaded.pages[0].image
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.flags.c_contiguous
    return image


# ------------------------------------------------------------------------------- images


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("BMP", "bmp"), ("TIFF", "tiff")],
)
def test_valid_images_load_with_right_shape(fmt, kind):
    data = _encode(_noise(40, 30), fmt)
    assert sniff_type(data) == kind
    loaded = load_file(data, LIMITS)
    assert loaded.kind == kind
    assert one_page(data).shape == (30, 40, 3)
    assert loaded.pages[0].number == 1 and loaded.pages[0].dpi is None


def test_png_pixels_come_back_as_bgr():
    im = Image.new("RGB", (4, 3), (255, 0, 0))  # pure red
    assert one_page(_encode(im, "PNG"))[0, 0].tolist() == [0, 0, 255]


def test_two_frame_tiff_gives_two_pages():
    frames = [_noise(40, 30, seed=1), _noise(20, 10, seed=2)]
    data = _encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    loaded = load_file(data, LIMITS)
    assert loaded.kind == "tiff" and loaded.page_count == 2
    assert [p.number for p in loaded.pages] == [1, 2]
    assert [p.image.shape for p in loaded.pages] == [(30, 40, 3), (10, 20, 3)]


def test_tiff_with_more_frames_than_max_pages():
    frames = [_noise(8, 8, seed=i) for i in range(3)]
    data = _encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    assert code_of(data, Limits(max_pages=2)) == "too_many_pages"


def test_exif_orientation_6_rotates_jpeg():
    # Left half red, right half blue, 40 wide x 20 tall; orientation 6 = rotate 90 clockwise.
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = (255, 0, 0)
    arr[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(Image.fromarray(arr), "JPEG", exif=exif.tobytes(), quality=95)
    image = one_page(data)
    assert image.shape == (40, 20, 3)
    top, bottom = image[5, 10], image[35, 10]  # BGR
    assert top[2] > 200 and top[0] < 60  # red on top
    assert bottom[0] > 200 and bottom[2] < 60  # blue below


@pytest.mark.parametrize("mode", ["1", "L", "P", "LA", "RGBA", "CMYK", "I;16", "I", "F"])
def test_any_mode_becomes_bgr(mode):
    if mode in ("I;16", "I", "F"):
        ramp = (np.arange(48 * 64).reshape(48, 64) * 20).astype(np.uint16)
        im = Image.fromarray(ramp).convert(mode)
    else:
        im = _noise(64, 48, mode)
    fmt = {"CMYK": "JPEG", "I": "TIFF", "F": "TIFF"}.get(mode, "PNG")
    image = one_page(_encode(im, fmt))
    assert image.shape == (48, 64, 3)
    if mode.startswith("I") or mode == "F":
        assert 0 < image.mean() < 255  # scaled to 8 bits, not clipped to white


def test_transparency_is_composited_on_white():
    im = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    im.putpixel((0, 0), (0, 0, 255, 255))
    image = one_page(_encode(im, "PNG"))
    assert image[5, 5].tolist() == [255, 255, 255]
    assert image[0, 0].tolist() == [255, 0, 0]


def test_truncated_jpeg_is_corrupt():
    data = jpeg_bytes()
    assert code_of(data[: len(data) // 2]) == "corrupt_file"


def test_huge_png_rejected_before_decoding():
    # 20000x20000 = 400M pixels: beyond Pillow's own bomb error, mapped to our code.
    assert code_of(png_header_only(20000, 20000)) == "too_many_pixels"


def test_pixel_limit_is_ours_and_checked_from_header():
    data = png_header_only(2000, 2000)  # Pillow accepts the header; decoding would fail
    assert code_of(data, Limits(max_pixels=1_000_000)) == "too_many_pixels"
    assert code_of(data, Limits(max_pixels=10_000_000)) == "corrupt_file"


def test_pillow_bomb_warning_does_not_leak():
    # 95M pixels: above Pillow's warning threshold (~89M), below its error threshold.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert code_of(png_header_only(10000, 9500)) == "too_many_pixels"


# ----------------------------------------------------------------------- type and size


def test_empty_file():
    assert code_of(b"") == "empty_file"
    with pytest.raises(InputError) as info:
        sniff_type(b"")
    assert info.value.code == "empty_file"


def test_text_is_unsupported():
    assert code_of(b"hello world\n" * 10) == "unsupported_type"
    assert code_of(b"BM is not a bitmap header\n") == "unsupported_type"


def test_heic_is_sniffed_and_needs_the_extra():
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert sniff_type(data) == "heic"
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        with pytest.raises(InputError) as info:
            load_file(data, LIMITS)
        assert info.value.code == "unsupported_type" and "heic" in info.value.message
    else:
        assert code_of(data) == "corrupt_file"


def test_file_over_max_bytes():
    data = png_bytes()
    with pytest.raises(FileTooLarge) as info:
        load_file(data, Limits(max_file_bytes=len(data) - 1))
    assert info.value.code == "file_too_large"
    load_file(data, Limits(max_file_bytes=len(data)))  # the limit itself is allowed


def test_size_is_checked_before_type():
    assert code_of(b"hello" * 100, Limits(max_file_bytes=10)) == "file_too_large"


# ----------------------------------------------------------------------------------- PDF


def test_two_page_pdf_renders_two_pages():
    loaded = load_file(small_pdf_bytes(), LIMITS, pdf_dpi=100)
    assert isinstance(loaded, LoadedFile) and loaded.kind == "pdf" and loaded.page_count == 2
    assert [p.number for p in loaded.pages] == [1, 2]
    assert [p.image.shape for p in loaded.pages] == [(200, 100, 3), (100, 200, 3)]
    assert all(p.dpi == pytest.approx(100) for p in loaded.pages)
    assert loaded.pages[0].image.dtype == np.uint8
    assert (loaded.pages[0].image == 255).all()  # blank page on white


def test_pdf_render_scale_is_reduced_to_fit_pixels():
    data = pdf_bytes([(612, 792)])  # Letter: 1700x2200 px at 200 dpi
    page = load_file(data, Limits(max_pixels=1_000_000)).pages[0]
    h, w, _ = page.image.shape
    assert h * w <= 1_000_000 and h * w > 900_000
    assert page.dpi < 200


def test_encrypted_pdf():
    data = encrypted_pdf_bytes()
    doc = pdfium.PdfDocument(data, password="secret")  # the file really is a valid PDF
    try:
        assert len(doc) == 1
    finally:
        doc.close()
    with pytest.raises(InputError) as info:
        load_file(data, LIMITS)
    assert info.value.code == "encrypted_pdf"
    assert "encrypted" in info.value.message


def test_too_many_pdf_pages():
    assert code_of(pdf_bytes([(100, 100)] * 3), Limits(max_pages=2)) == "too_many_pages"


def test_zero_page_pdf():
    data = handwritten_pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"],
        b"/Root 1 0 R",
    )
    assert code_of(data) == "no_pages"


def test_page_too_large():
    data = pdf_bytes([(100, 100), (20000, 20000)])
    assert code_of(data) == "page_too_large"


def test_pdf_loads_from_many_threads():
    # PDFium is not thread-safe; the module lock must serialise concurrent uploads.
    data = small_pdf_bytes()
    expected = [p.image for p in load_file(data, LIMITS, pdf_dpi=72).pages]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: load_file(data, LIMITS, pdf_dpi=72), range(32)))
    for loaded in results:
        assert all(np.array_equal(p.image, e) for p, e in zip(loaded.pages, expected, strict=True))


def test_corrupt_pdf():
    data = b"%PDF-1.7\n" + bytes(np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8))
    assert code_of(data) == "corrupt_file"


# ---------------------------------------------------------------------------- robustness

FUZZ_LIMITS = Limits(max_pixels=4_000_000, max_pages=5)


def _load_or_input_error(data: bytes) -> None:
    try:
        loaded = load_file(data, FUZZ_LIMITS, pdf_dpi=72)
    except InputError:
        return
    for page in loaded.pages:
        assert page.image.dtype == np.uint8 and page.image.ndim == 3 and page.image.shape[2] == 3


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes_only_raise_input_error(data):
    _load_or_input_error(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(["png", "jpeg", "pdf"]),
    edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=16),
    cut=st.one_of(st.none(), st.integers(0, 1 << 20)),
)
def test_mutated_files_only_raise_input_error(base, edits, cut):
    data = bytearray({"png": png_bytes, "jpeg": jpeg_bytes, "pdf": small_pdf_bytes}[base]())
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    _load_or_input_error(bytes(data))
