"""Fuzzing with mutated samples: thousands of damaged images and PDFs (bit flips, random bytes,
truncations, header-field edits, splices of other files, repeated regions, PDF-aware edits of
numbers, names and keywords) into the loader and the PDF text-layer parser, and a smaller
number through the whole pipeline with the real OCR engine.

Each call runs in a separate process (``hostile.Sandbox``) under a time limit, so a hang in
native code or a crash of the interpreter fails the test with the input that caused it
instead of stopping the run. What may come back: a result, or a ``LoanDocsError`` whose code is
one of the loader's. Anything else (another exception, a hang, a dead process) fails.
A 20,000-case run of the same harness is ``benchmarks/fuzz_loader.py``.
"""

from __future__ import annotations

import functools
import io
import random

import pypdfium2 as pdfium
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from .hostile import LOADER_CODES, SAMPLE_PDFS, Sandbox, mutate, one_page, pdf_mutations, stream

ROOT_IMAGE = "samples/idcards/front_scan_001.jpg"
# Limits on CPU seconds as much as on wall time (hostile.Sandbox.call): a call starved by other
# work on the machine is given longer, up to five times these, before it counts as a hang.
LOAD_TIMEOUT_S = 20.0  # the slowest seed loads in ~0.1 s; two shared cores and a busy CI leave room
PIPELINE_TIMEOUT_S = 120.0
FUZZ = settings(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
pytestmark = pytest.mark.fuzz


def _encode(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


@functools.cache
def image_seeds() -> list[bytes]:
    """The sample card, and a small copy of it in every accepted format (small, so a thousand
    decodes take seconds)."""
    from .hostile import ROOT

    original = (ROOT / ROOT_IMAGE).read_bytes()
    small = Image.open(io.BytesIO(original)).convert("RGB").resize((320, 202))
    return [
        original,
        _encode(small, "JPEG", quality=80),
        _encode(small, "JPEG", quality=80, progressive=True),
        _encode(small, "PNG"),
        _encode(small.convert("L"), "PNG"),
        _encode(small, "WEBP", quality=80),
        _encode(small, "TIFF", save_all=True, append_images=[small.rotate(90)]),
        _encode(small, "TIFF", compression="tiff_deflate"),
        _encode(small, "BMP"),
    ]


@functools.cache
def pdf_seeds() -> list[bytes]:
    """Sample PDFs (born-digital with text and fonts, a scan, a mixed file), plus hand-made
    ones that reach the structure scanner's paths: compressed content, nested forms, images."""
    doc = pdfium.PdfDocument.new()
    for size in ((200, 300), (300, 200)):
        doc.new_page(*size).close()
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    import zlib

    content = zlib.compress(b"q 1 0 0 1 10 10 cm /F Do Q 0 0 m 100 100 l S\n" * 20)
    inner = stream(b"/Type /XObject /Subtype /Form /BBox [0 0 50 50] /Resources << /XObject << /I 7 0 R >> >>",
                   b"q 50 0 0 50 0 0 cm /I Do Q")
    outer = stream(b"/Type /XObject /Subtype /Form /BBox [0 0 50 50] /Resources << /XObject << /G 6 0 R >> >>",
                   b"/G Do /G Do")
    image = stream(b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 "
                   b"/Filter /FlateDecode", zlib.compress(bytes(range(64))))
    forms = one_page(stream(b"/Filter /FlateDecode", content), [outer, inner, image], b"<< /XObject << /F 5 0 R >> >>")
    # The statement's text layer takes pdfminer 0.3 s a call: in the benchmark, not in CI.
    samples = [p.read_bytes() for p in SAMPLE_PDFS if not p.name.startswith("statement_pdf")]
    return samples + [buf.getvalue(), forms]


@pytest.fixture(scope="module")
def loader():
    sandbox = Sandbox("load")
    yield sandbox
    sandbox.close()


def _check(outcome: tuple[str, object], data: bytes) -> None:
    kind, value = outcome
    if kind == "error":
        assert value in LOADER_CODES, f"unknown error code {value!r}"
        return
    assert kind == "ok", f"{kind}: {value} (input {len(data)} bytes, starts {data[:32]!r})"


def test_seeds_load_cleanly(loader):
    """The harness itself: unmutated seeds load, so the mutated runs start from valid files."""
    for data in image_seeds() + pdf_seeds():
        kind, value = loader.call(data, LOAD_TIMEOUT_S)
        assert kind == "ok", (kind, value)


@settings(FUZZ, max_examples=1200)
@given(seed=st.integers(0, 10_000), salt=st.integers(0, 2**32 - 1))
def test_loader_on_mutated_images(loader, seed, salt):
    seeds = image_seeds()
    data = mutate(seeds[seed % len(seeds)], random.Random(salt), donors=seeds + pdf_seeds()[:1])
    _check(loader.call(data, LOAD_TIMEOUT_S), data)


@settings(FUZZ, max_examples=700)
@given(seed=st.integers(0, 10_000), salt=st.integers(0, 2**32 - 1), pdf_aware=st.booleans())
def test_loader_and_text_layer_on_mutated_pdfs(loader, seed, salt, pdf_aware):
    seeds = pdf_seeds()
    rng = random.Random(salt)
    base = seeds[seed % len(seeds)]
    data = pdf_mutations(base, rng) if pdf_aware else mutate(base, rng, donors=seeds)
    _check(loader.call(data, LOAD_TIMEOUT_S), data)


# ---------------------------------------------------------------------------------- OFD

OFD_CODES = LOADER_CODES | {"too_many_entries", "unsafe_entry_name", "archive_too_large", "unsafe_xml"}


@functools.cache
def ofd_seeds() -> list[bytes]:
    """The checked-in OFD samples with text (a certificate, a two-page statement) and a small
    image-only one (a scan wrapped in OFD)."""
    from loandocs.samplegen.ofd import images_to_ofd

    from .hostile import ROOT

    small = Image.open(ROOT / ROOT_IMAGE).convert("RGB").resize((320, 202))
    return [(ROOT / "samples/materials" / n).read_bytes() for n in ("property_ofd_001.ofd", "statement_ofd_001.ofd")] + [
        images_to_ofd([_encode(small, "JPEG", quality=80)], 85.6, 54.0)]


def _mutate_entry(data: bytes, rng: random.Random) -> bytes:
    """One entry of the archive (an XML page, the document, an image) damaged, the rest intact,
    so the damage reaches the XML parser and the page reader instead of the ZIP's CRC check."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    victim = rng.choice(names)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            body = src.read(name)
            z.writestr(name, mutate(body, rng) if name == victim and body else body)
    return out.getvalue()


def test_ofd_seeds_load_cleanly(loader):
    for data in ofd_seeds():
        kind, value = loader.call(data, LOAD_TIMEOUT_S)
        assert kind == "ok" and value[0] == "ofd", (kind, value)


@settings(FUZZ, max_examples=300)
@given(seed=st.integers(0, 10_000), salt=st.integers(0, 2**32 - 1), entry_aware=st.booleans())
def test_loader_on_mutated_ofd(loader, seed, salt, entry_aware):
    seeds = ofd_seeds()
    rng = random.Random(salt)
    base = seeds[seed % len(seeds)]
    data = _mutate_entry(base, rng) if entry_aware else mutate(base, rng, donors=seeds)
    kind, value = loader.call(data, LOAD_TIMEOUT_S)
    if kind == "error":
        assert value in OFD_CODES, f"unknown error code {value!r}"
    else:
        assert kind == "ok", f"{kind}: {value} (input {len(data)} bytes)"


@pytest.fixture(scope="module")
def pipeline_box():
    sandbox = Sandbox("pipeline")
    yield sandbox
    sandbox.close()


@settings(FUZZ, max_examples=8)
@given(seed=st.integers(0, 10_000), salt=st.integers(0, 2**32 - 1))
def test_whole_pipeline_on_mutated_files(pipeline_box, seed, salt):
    """Damaged files that still decode reach preprocessing, OCR, layout and the parsers."""
    seeds = [image_seeds()[0], pdf_seeds()[0]]  # the card photo, the income certificate PDF
    data = mutate(seeds[seed % len(seeds)], random.Random(salt))
    kind, value = pipeline_box.call(data, PIPELINE_TIMEOUT_S)
    assert kind == "ok", f"{kind}: {value}"
    assert value and all(code is None or code in LOADER_CODES for _, code in value), value
