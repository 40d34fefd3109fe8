"""Is a CJK font installed? Checked when a worker starts (``worker.runner.run_worker``).

Without one nothing fails loudly, it just reads worse: PDFium draws a PDF page whose Chinese
fonts are not embedded with a substitute that has no Chinese glyphs, so the page image the
OCR reads and the reviewer sees lacks that text; and the sample generator (``make run``'s
demo, ``loandocs samples``, many tests) cannot draw a document at all. So the worker says so
at start, in the log and on stderr, with the command that fixes it.

PDFium on Linux finds system fonts by scanning the usual font folders (/usr/share/fonts,
/usr/local/share/fonts), the same ones fontconfig indexes, so ``fc-list :lang=zh`` answers
for it. The sample generator opens fixed font files (``samplegen.idcard.FONT_CANDIDATES``,
``samplegen.financial.PDF_FONT_CANDIDATES``), so for it we look for those files.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
from typing import Iterable

log = logging.getLogger(__name__)

FIX = ("install CJK fonts and restart the worker: apt-get install fonts-noto-cjk fonts-wqy-zenhei "
       "(Debian/Ubuntu), or dnf install google-noto-sans-cjk-fonts wqy-zenhei-fonts (Fedora/RHEL)")


def fontconfig_cjk_fonts() -> list[str] | None:
    """Font files fontconfig knows that cover Chinese; None when ``fc-list`` is not installed."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run([fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})


def samplegen_font_files() -> list[str]:
    """Every font file the sample generator would try, raster (Pillow) and PDF (reportlab)."""
    from loandocs.samplegen.financial import PDF_FONT_CANDIDATES
    from loandocs.samplegen.idcard import FONT_CANDIDATES

    return [path for path, _ in FONT_CANDIDATES] + [path for _, path, _, _ in PDF_FONT_CANDIDATES]


def font_problems(fc_fonts: list[str] | None, samplegen_files: Iterable[str]) -> list[str]:
    """What is missing, one sentence each with its consequence and the fix; [] when all is well."""
    problems = []
    if fc_fonts is None:
        problems.append("fontconfig's fc-list is not installed, so it cannot be checked that PDFium has a "
                        "CJK font; PDF pages whose Chinese fonts are not embedded may be rendered without "
                        f"their Chinese text. Fix: apt-get install fontconfig, then {FIX}")
    elif not fc_fonts:
        problems.append("no CJK font is installed (fc-list :lang=zh finds none): PDF pages whose Chinese "
                        "fonts are not embedded are rendered without their Chinese text, so OCR and the "
                        f"reviewer's page image miss it. Fix: {FIX}")
    files = list(samplegen_files)
    if not any(os.path.isfile(f) for f in files):
        problems.append("none of the sample generator's CJK font files exists, so `make run`'s demo, "
                        "`loandocs samples` and the tests that draw documents fail (looked for "
                        f"{', '.join(sorted(set(files)))}). Fix: {FIX}")
    return problems


@functools.lru_cache(maxsize=1)
def check_cjk_fonts() -> tuple[str, ...]:
    """Check once per process; log each problem as a warning and also print it to stderr,
    where an operator starting a worker by hand looks, whatever the log format."""
    problems = tuple(font_problems(fontconfig_cjk_fonts(), samplegen_font_files()))
    for p in problems:
        log.warning("CJK fonts: %s", p)
        print(f"WARNING: CJK fonts: {p}", file=sys.stderr, flush=True)
    return problems
