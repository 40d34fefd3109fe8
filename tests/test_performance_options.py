"""The performance switches, on real engines and services: the OCR runtime, pages read at
once, the PDFium text layer's duplicates, SQLite transactions taking turns, the worker's
priority. Values are asserted, never times (speed is for benchmarks/)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading

import cv2
import pytest
from sqlalchemy import text

from loandocs.extractor import parallel
from loandocs.extractor.ocr.base import get_engine
from loandocs.extractor.options import Limits, OcrOptions
from loandocs.extractor.textlayer import read_text_layer
from loandocs.reader import Pipeline, PipelineOptions
from loandocs.store.db import make_engine, session_factory

from .helpers import CJK_FONT, reportlab_cjk_font

ID_FRONT = os.path.join(os.path.dirname(__file__), "..", "samples", "idcards", "front_scan_001.jpg")


def test_openvino_and_onnxruntime_read_the_same_card():
    img = cv2.imread(ID_FRONT)
    ov = get_engine(OcrOptions(runtime="openvino"))
    ort = get_engine(OcrOptions(runtime="onnxruntime"))
    assert ov is not ort and ov.runtime == "openvino" and ort.runtime == "onnxruntime"
    a = [ln.text.replace(" ", "") for ln in ov.read(img)]
    b = [ln.text.replace(" ", "") for ln in ort.read(img)]
    assert a == b and any("公民身份号码" in t for t in a)


def test_the_default_runtime_is_openvino():
    assert OcrOptions().runtime == "openvino"
    assert OcrOptions(runtime="onnxruntime").runtime == "onnxruntime"
    with pytest.raises(ValueError):
        OcrOptions(runtime="tensorflow")


def test_plan_shares_the_threads():
    assert parallel.plan(OcrOptions(threads=2), parts=10) == (2, 1)
    assert parallel.plan(OcrOptions(threads=4), parts=10) == (4, 1)
    assert parallel.plan(OcrOptions(threads=4, page_workers=2), parts=10) == (2, 2)
    assert parallel.plan(OcrOptions(threads=8), parts=3) == (3, 2)
    assert parallel.plan(OcrOptions(threads=1), parts=10) == (1, 0)  # one core: one after the other
    assert parallel.plan(OcrOptions(threads=4, page_workers=1), parts=10) == (1, 0)
    assert parallel.plan(OcrOptions(threads=4), parts=1) == (1, 0)
    assert parallel.plan(OcrOptions(), parts=10, cores=16) == (parallel.MAX_AUTO, 4)


def _scan_pdf(pages: int) -> bytes:
    """An image-only PDF of ``pages`` statement-like pages (text drawn into pixels)."""
    from PIL import Image, ImageDraw, ImageFont

    reportlab_cjk_font()  # skips without the font
    font = ImageFont.truetype(str(CJK_FONT), 34)
    images = []
    for n in range(pages):
        im = Image.new("RGB", (1240, 700), "white")
        d = ImageDraw.Draw(im)
        d.text((60, 60), f"中国工商银行 个人账户明细 第{n + 1}页", fill="black", font=font)
        for r in range(4):
            d.text((60, 180 + 110 * r), f"2026-07-{r + 10:02d}  工资收入  {1000 * (n + 1) + r:,}.00", fill="black", font=font)
        images.append(im)
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return buf.getvalue()


def test_pages_read_at_once_read_as_one_after_the_other():
    data = _scan_pdf(3)
    runs = {}
    for workers in (1, 3):
        options = PipelineOptions(ocr=OcrOptions(threads=3, page_workers=workers))
        work = Pipeline(options).run(data, "scan.pdf")
        runs[workers] = [(p.page, [ln.text for ln in p.lines]) for p in work.parts]
    assert runs[1] == runs[3]
    assert [page for page, _ in runs[3]] == [1, 2, 3]
    assert any("3,002.00" in t for t in runs[3][2][1])


def test_a_glyph_drawn_twice_is_read_once():
    """Fake bold (the same glyph again 0.3 pt to the right) and a real repeat 20 pt away."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = reportlab_cjk_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont(font, 12)
    for dx in (0, 0.3):
        c.drawString(50 + dx, 780, "余额合计人民币")
    c.drawString(50, 700, "收入收入收入收入收入")
    c.showPage()
    c.save()
    page = read_text_layer(buf.getvalue(), Limits())[0]
    assert [ln.text for ln in page.lines] == ["余额合计人民币", "收入收入收入收入收入"]
    assert page.char_count == 7 + 10


def test_sqlite_transactions_take_turns(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    sessions = session_factory(engine)
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for _ in range(15):
                with sessions() as s:
                    s.execute(text("SELECT count(*) FROM t"))  # read, then write: BEGIN IMMEDIATE
                    s.commit()  # a commit mid-way hands the turn on; the session goes on
                    s.execute(text("INSERT INTO t VALUES (:x)"), {"x": i})
                    s.commit()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 8 * 15
        with pytest.raises(Exception):
            s.execute(text("INSERT INTO nowhere VALUES (1)"))
        s.rollback()  # a failed transaction gives its turn back too
    with sessions() as s:
        s.execute(text("INSERT INTO t VALUES (0)"))
        s.commit()
    engine.dispose()


def test_worker_priority_is_raised_never_lowered():
    base = os.getpriority(os.PRIO_PROCESS, 0)  # the test run may be niced itself
    if base > 16:
        pytest.skip("the test run is niced too far to raise the level")
    code = ("import os, threading, time; from loandocs.worker.runner import lower_priority\n"
            "t = threading.Thread(target=time.sleep, args=(1,)); t.start()\n"
            f"a = lower_priority({base + 3}); b = lower_priority({base})\n"
            "print(a, b, os.getpriority(os.PRIO_PROCESS, t.native_id))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(base + 3)] * 3  # raised, not lowered again, the running thread too
