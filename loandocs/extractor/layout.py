"""Layout: OCR lines -> rows of characters with boxes, so that a regular expression over a
row's text can be mapped back to a box and a confidence.

Both OCR and (later) the PDF text layer produce ``OcrLine``s, so the parsers see one model.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from loandocs.extractor.ocr.base import OcrLine
from loandocs.extractor.vocab import TRADITIONAL_TO_SIMPLIFIED

Box = tuple[float, float, float, float]


@dataclass
class Char:
    ch: str
    score: float
    bbox: Box


@dataclass
class Row:
    """Characters of one visual row, left to right; ``text`` has no spaces."""

    chars: list[Char]

    @property
    def text(self) -> str:
        return "".join(c.ch for c in self.chars)

    @property
    def bbox(self) -> Box:
        return union([c.bbox for c in self.chars])

    @property
    def cy(self) -> float:
        b = self.bbox
        return (b[1] + b[3]) / 2

    def span(self, start: int, end: int) -> "Span":
        return Span(self.chars[start:end])

    def after(self, start: int) -> "Row":
        return Row(self.chars[start:])


@dataclass
class Span:
    chars: list[Char]

    @property
    def text(self) -> str:
        return "".join(c.ch for c in self.chars)

    @property
    def bbox(self) -> Box | None:
        return union([c.bbox for c in self.chars]) if self.chars else None

    @property
    def confidence(self) -> float:
        """Mean character probability, capped at twice the weakest one. A lone character at
        0.5 is usually the recogniser splitting its vote between a simplified and a
        traditional form (长/長) and keeps the field above 0.8 in a long value; one below 0.4
        is a likely misread and pulls the field below any sensible threshold."""
        if not self.chars:
            return 0.0
        scores = [c.score for c in self.chars]
        return min(sum(scores) / len(scores), 2 * min(scores))


def union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


_FULLWIDTH = {ord("（"): "(", ord("）"): ")", ord("："): ":", ord("，"): ",", ord("．"): ".", ord("－"): "-", ord("—"): "-", ord("–"): "-", ord("～"): "~"}


def normalize_text(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), common punctuation to ASCII, and
    traditional character forms to the simplified ones mainland documents print."""
    return unicodedata.normalize("NFKC", text).translate(_FULLWIDTH).translate(TRADITIONAL_TO_SIMPLIFIED)


def line_chars(line: OcrLine) -> list[Char]:
    """Characters of a line with a box each. Uses the engine's word boxes where they spell the
    line; otherwise splits boxes evenly (fine for the monospaced digits of an ID number)."""
    chars: list[Char] = []
    words = line.words or []
    if words and "".join(normalize_text(w.text) for w in words).replace(" ", "") == normalize_text(line.text).replace(" ", ""):
        for w in words:
            chars.extend(_split_box(normalize_text(w.text).replace(" ", ""), w.bbox, w.score))
    else:
        chars = _split_box(normalize_text(line.text).replace(" ", ""), line.bbox, line.score)
    return chars


def _split_box(text: str, bbox: Box, score: float) -> list[Char]:
    if not text:
        return []
    x0, y0, x1, y1 = bbox
    step = (x1 - x0) / len(text)
    return [Char(c, score, (x0 + i * step, y0, x0 + (i + 1) * step, y1)) for i, c in enumerate(text)]


def group_rows(lines: list[OcrLine], min_overlap: float = 0.5) -> list[Row]:
    """Lines whose vertical extents overlap by ``min_overlap`` of the smaller height form a
    row; rows are returned top to bottom, characters left to right."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: ln.cy):
        for row in rows:
            top = min(ln.y0 for ln in row)
            bottom = max(ln.y1 for ln in row)
            overlap = min(bottom, line.y1) - max(top, line.y0)
            if overlap >= min_overlap * min(line.height, bottom - top):
                row.append(line)
                break
        else:
            rows.append([line])
    out = []
    for row in rows:
        chars = [c for ln in sorted(row, key=lambda ln: ln.x0) for c in line_chars(ln)]
        if chars:
            out.append(Row(chars))
    out.sort(key=lambda r: r.cy)
    return out


def find_label(row: Row, label: str, max_start: int = 1) -> tuple[int, int] | None:
    """Where ``label`` begins the row (allowing one misread character in a label of two or
    more, and up to ``max_start`` stray characters before it). Returns (start, end) indices."""
    text = row.text
    n = len(label)
    for start in range(0, min(max_start, max(0, len(text) - n)) + 1):
        window = text[start : start + n]
        if window == label:
            return start, start + n
    for start in range(0, min(max_start, max(0, len(text) - n)) + 1):
        window = text[start : start + n]
        if n >= 2 and len(window) == n and sum(a == b for a, b in zip(window, label)) >= n - 1 and n - 1 >= max(1, n // 2):
            return start, start + n
    return None


def search(row: Row, pattern: re.Pattern[str], start: int = 0) -> tuple[re.Match[str], Span] | None:
    m = pattern.search(row.text, start)
    if not m:
        return None
    return m, row.span(m.start(), m.end())


def page_text(rows: list[Row]) -> str:
    return "\n".join(r.text for r in rows)


class Flat:
    """All rows as one string (rows joined by newlines) that remembers each character's box,
    so that a regular expression over free text (a certificate's sentences) maps back to a
    box and a confidence."""

    def __init__(self, rows: list[Row], separate_rows: bool = True):
        # ``separate_rows=False`` lets a sentence that wraps onto the next row read on
        # (自\n2020年1月起); labels want the separators so a value stops at its row's end.
        self.chars: list[Char | None] = []
        for row in rows:
            self.chars.extend(row.chars)
            if separate_rows:
                self.chars.append(None)
        self.text = "".join(c.ch if c is not None else "\n" for c in self.chars)

    def span(self, start: int, end: int) -> Span:
        return Span([c for c in self.chars[start:end] if c is not None])

    def group(self, m: re.Match[str], g: int | str = 1) -> Span:
        return self.span(m.start(g), m.end(g))
