"""The CJK font check at worker start (loandocs/fonts.py): a worker on a machine without CJK
fonts says so, with the fix, in its log and on stderr. "No fonts" is made real for fontconfig by
giving the worker a fontconfig file that names no font folder; Redis is the real one (db 13, as
tests/test_worker.py, flushed around the test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from loandocs.fonts import FIX, font_problems, fontconfig_cjk_fonts, samplegen_font_files

from .helpers import flushed_redis

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOANDOCS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
EMPTY_FONTCONFIG = '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n'


def test_worker_start_without_cjk_fonts_says_so_with_the_fix(tmp_path):
    conf = tmp_path / "fonts.conf"
    conf.write_text(EMPTY_FONTCONFIG)
    env = dict(os.environ, FONTCONFIG_FILE=str(conf), LOANDOCS_DATA_DIR=str(tmp_path / "data"),
               LOANDOCS_REDIS_URL=REDIS_URL, LOANDOCS_LOG_FORMAT="json")
    with flushed_redis(REDIS_URL):
        run = subprocess.run([sys.executable, "-m", "loandocs.cli", "worker", "--burst"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    printed = [line for line in run.stderr.splitlines() if line.startswith("WARNING: CJK fonts:")]
    assert len(printed) == 1, run.stderr[-2000:]
    assert "fc-list :lang=zh finds none" in printed[0] and "apt-get install fonts-noto-cjk" in printed[0]
    # The same sentence as a log record (JSON line) for log collectors.
    logged = [line for line in run.stderr.splitlines() if line.startswith("{") and "CJK fonts" in line]
    assert len(logged) == 1 and '"level": "WARNING"' in logged[0] and "fonts-noto-cjk" in logged[0]


def test_with_fonts_installed_nothing_is_said():
    # This machine has them (.ci/run installs fonts-noto-cjk and friends).
    found = fontconfig_cjk_fonts()
    assert found, "fc-list :lang=zh finds no font here; install fonts-noto-cjk"
    assert font_problems(found, samplegen_font_files()) == []


def test_each_missing_piece_is_named_with_its_fix(tmp_path):
    present = tmp_path / "font.ttc"
    present.write_bytes(b"")
    assert font_problems(["/usr/share/fonts/x.ttc"], [str(present)]) == []
    (no_fc,) = font_problems(None, [str(present)])
    assert no_fc.startswith("fontconfig's fc-list is not installed") and "apt-get install fontconfig" in no_fc
    none, no_files = font_problems([], [str(tmp_path / "missing.ttc")])
    assert "rendered without their Chinese text" in none and none.endswith(FIX)
    assert str(tmp_path / "missing.ttc") in no_files and no_files.endswith(FIX)
