"""Watermarks and stamps over the text: know them, take them out of what was read, and say
where they lay.

Photocopies handed to a lender carry a translucent phrase across the card (复印无效,
仅供XX银行贷款使用, 再复印无效) and a round stamp (与原件一致, a bank's 复印件专用章) over a
date. The recogniser reads both into the fields (`门磊性别男民族汉复印无效`, ethnicity `复禁`)
with high scores. Three things are done about it:

- stamps in colour are taken out of the image that is OCRed (each pixel of a red or blue
  stamp's area takes its brightest channel: coloured ink turns pale, black print under it
  stays black), so text under a stamp is read at all;
- lines that are a watermark phrase are dropped, and phrases inside a field's line are cut
  out of it;
- every line a watermark or a stamp touched keeps its text but has its score capped under the
  review threshold: a value read through an overlay is for a reviewer to confirm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cv2
import numpy as np

from loandocs.extractor.ocr.base import OcrLine, OcrWord

# Capped score of a line read through an overlay: under the 0.80 low_confidence threshold.
OVERLAY_SCORE = 0.75

# The phrases, most specific first. 仅供…使用 takes up to 14 characters of a bank's name and
# purpose between its ends.
PHRASES = (
    r"此复印件仅供.{0,14}?使用",
    r"仅供.{0,14}?使用",
    r"再复印无效",
    r"复印无效",
    r"与原件一致",
    r"复印件专用章?",
    r"[^\s]{0,8}?业务专用章",
    r"作废",
)
_PHRASE_RE = re.compile("|".join(f"(?:{p})" for p in PHRASES))
# One misread character in the fixed four- and five-character phrases (复印无效 -> 复印无放,
# 复禁无效) is still the phrase.
_FUZZY = ("再复印无效", "复印无效", "与原件一致")
# Characters of the phrases; a line made mostly of them is watermark, not a field.
_OVERLAY_CHARS = set("此复印件仅供使用再无效与原一致作废专章贷款办理银行")
# The characters of the fixed phrases that words of print rarely end or start with: what a
# watermark read in pieces leaves behind (no 一: dates end in it; no bank or purpose words).
_PIECE_CHARS = set("复印件仅供再无效与原致作废")
_BIGRAMS = ("复印", "印无", "无效", "仅供", "使用", "原件", "一致", "作废", "专用", "印件")


def _fuzzy_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for ph in _FUZZY:
        n = len(ph)
        for i in range(0, len(text) - n + 1):
            window = text[i : i + n]
            if sum(a == b for a, b in zip(window, ph)) >= n - 1:
                spans.append((i, i + n))
    return spans


def phrase_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every overlay phrase in ``text`` (exact, or one character misread)."""
    exact = [m.span() for m in _PHRASE_RE.finditer(text)]
    # A near miss only where no exact phrase was found: 磊复印无效 is a name and 复印无效, not
    # a misread 再复印无效.
    fuzzy = [(a, b) for a, b in _fuzzy_spans(text) if not any(a < y and x < b for x, y in exact)]
    spans = exact + fuzzy
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def strip_phrases(text: str) -> tuple[str, bool]:
    """``text`` without its overlay phrases, and whether any was there."""
    spans = phrase_spans(text)
    if not spans:
        return text, False
    keep = np.ones(len(text), bool)
    for a, b in spans:
        keep[a:b] = False
    return "".join(c for c, k in zip(text, keep) if k), True


def is_overlay_text(text: str) -> bool:
    """A line that is watermark (or a stamp's words) rather than a field: a phrase covers
    most of it, or it is mostly the phrases' characters with one of their character pairs."""
    t = re.sub(r"\s", "", text)
    if not t:
        return False
    covered = sum(b - a for a, b in phrase_spans(t))
    if covered and len(t) - covered <= 1:  # a field's value beside the phrase is kept
        return True
    share = sum(c in _OVERLAY_CHARS for c in t) / len(t)
    return share >= 0.7 and any(bg in t for bg in _BIGRAMS)


@dataclass
class OverlayReport:
    """What was found on one part: the regions (quads) of overlay lines, the lines whose text
    had a phrase cut out, and whether coloured stamps were taken out before reading."""

    regions: list[np.ndarray] = field(default_factory=list)
    cut_lines: int = 0
    stamps: list[tuple[float, float, float]] = field(default_factory=list)  # (cx, cy, r)

    @property
    def watermark(self) -> bool:
        """Watermark writing was read as lines of its own (not just a phrase inside a field)."""
        return bool(self.regions)

    @property
    def found(self) -> bool:
        return bool(self.regions or self.cut_lines or self.stamps)


def _quad(line: OcrLine) -> np.ndarray:
    if line.quad:
        return np.array(line.quad, np.float32)
    x0, y0, x1, y1 = line.bbox
    return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], np.float32)


def _text_height(line: OcrLine) -> float:
    if line.quad:
        q = np.array(line.quad, np.float32)
        return float(np.linalg.norm(q[3] - q[0]))
    return line.height


def _slanted(line: OcrLine, typical: float) -> bool:
    """On a page already turned level, print runs level: a line slanted by more than 12
    degrees, or one standing across several rows, is writing across the page (a watermark),
    and would merge the rows it crosses."""
    if len(re.sub(r"\s", "", line.text)) < 2:
        return False
    if line.quad:
        (x0, y0), (x1, y1) = line.quad[0], line.quad[1]
        if abs(np.degrees(np.arctan2(y1 - y0, x1 - x0))) > 12:
            return True
    # Two or more characters standing in a box taller than wide and than two rows: writing
    # running down across the rows (a large title is wide, not tall).
    return typical > 0 and line.height > 2.2 * typical and line.height > line.x1 - line.x0


def _fragment(text: str) -> bool:
    t = re.sub(r"\s", "", text)
    return 0 < len(t) <= 4 and all(c in _PIECE_CHARS for c in t)


def _trim_pieces(text: str) -> str:
    """``text`` without runs of watermark characters at its ends (two or more at the end, or
    one at the start before a label: 致有效期限)."""
    end = len(text)
    while end > 0 and text[end - 1] in _PIECE_CHARS:
        end -= 1
    if len(text) - end < 2:
        end = len(text)
    start = 0
    while start < end and text[start] in _PIECE_CHARS:
        start += 1
    if start > 2:
        start = 0
    return text[start:end]


def _covered(line: OcrLine, regions: list[np.ndarray], stamps: list[tuple[float, float, float]]) -> bool:
    q = _quad(line)
    area = max(1.0, float(cv2.contourArea(q)))
    for r in regions:
        inter, _ = cv2.intersectConvexConvex(q, r)
        if inter > 0.15 * area:
            return True
    x0, y0, x1, y1 = line.bbox
    for cx, cy, rad in stamps:
        # The nearest point of the line's box to the stamp's centre lies inside the stamp.
        nx, ny = min(max(cx, x0), x1), min(max(cy, y0), y1)
        if (nx - cx) ** 2 + (ny - cy) ** 2 < (0.9 * rad) ** 2:
            return True
    return False


def _capped(line: OcrLine, text: str | None = None) -> OcrLine:
    words = line.words
    if text is not None:
        # Keep the character boxes that spell the kept text; otherwise the line box is split.
        kept = [w for w in words if w.text and w.text in text]
        words = kept if "".join(w.text for w in kept) == text else []
    words = [OcrWord(text=w.text, score=min(w.score, OVERLAY_SCORE), bbox=w.bbox, quad=w.quad) for w in words]
    return OcrLine(text=line.text if text is None else text, score=min(line.score, OVERLAY_SCORE), bbox=line.bbox,
                   words=words, source=line.source, quad=line.quad)  # fmt: skip


def clean_lines(lines: list[OcrLine], stamps: list[tuple[float, float, float]] | None = None) -> tuple[list[OcrLine], OverlayReport]:
    """Lines without the overlays: watermark lines dropped, phrases cut out of field lines,
    and lines under a watermark or stamp capped at ``OVERLAY_SCORE``."""
    report = OverlayReport(stamps=list(stamps or []))
    kept: list[OcrLine] = []
    fragments: list[OcrLine] = []
    heights = sorted(_text_height(ln) for ln in lines if len(ln.text) >= 2)
    typical = heights[len(heights) // 2] if heights else 0.0
    for ln in lines:
        if is_overlay_text(ln.text) or _slanted(ln, typical):
            report.regions.append(_quad(ln))
        elif _fragment(ln.text):
            fragments.append(ln)
        else:
            kept.append(ln)
    # A watermark crossing print is often read in pieces (致, 与原, 件). Pieces alone prove
    # little; two or more of them, or a whole phrase elsewhere, say the page has one.
    marked = bool(report.regions) or len(fragments) >= 2 or any(phrase_spans(ln.text) for ln in kept)
    if marked:
        report.regions.extend(_quad(ln) for ln in fragments)
    else:
        kept.extend(fragments)
    out = []
    for ln in kept:
        text = re.sub(r"\s", "", ln.text)
        text, cut = strip_phrases(text)
        if marked:
            # Pieces of the watermark glued to a value's ends (公安局中山分局致致件致).
            trimmed = _trim_pieces(text)
            cut = cut or trimmed != text
            text = trimmed
        if cut:
            report.cut_lines += 1
            if not text:
                continue
            out.append(_capped(ln, text))
        elif _covered(ln, report.regions, report.stamps):
            out.append(_capped(ln))
        else:
            out.append(ln)
    return out, report


def without_watermark(image: np.ndarray) -> np.ndarray:
    """A grey copy with the translucent ink taken out. A watermark is put on over the print,
    lighter than it: its strokes sit between the darkest ink (the values, and where they
    cross it) and the paper. Everything lighter than halfway between the two turns to
    paper; the print stays. Labels printed in a paler colour stay too: they are still far
    darker than a translucent overlay on a copy."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image.copy()
    paper = float(np.median(gray))
    ink = float(np.percentile(gray, 2))
    cut = ink + 0.45 * (paper - ink)
    out = gray.copy()
    out[gray > cut] = int(paper)
    out = cv2.medianBlur(out, 3)
    return cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)


def cap_covered(lines: list[OcrLine], report: OverlayReport, always: bool = False) -> list[OcrLine]:
    """``lines`` (a second reading) with those under ``report``'s overlays capped (all of
    them with ``always``)."""
    return [_capped(ln) if always or _covered(ln, report.regions, report.stamps) else ln for ln in lines]


# ---------------------------------------------------------------- stamps in colour

MIN_STAMP_SHARE = 0.04  # of the image's shorter side: a stamp's radius at least this


def _colour_masks(image: np.ndarray) -> list[np.ndarray]:
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    red = cv2.inRange(hsv, (0, 60, 50), (12, 255, 255)) | cv2.inRange(hsv, (155, 60, 50), (180, 255, 255))
    blue = cv2.inRange(hsv, (100, 90, 50), (130, 255, 255))
    return [red, blue]


def find_stamps(image: np.ndarray) -> list[tuple[float, float, float]]:
    """Round red or blue stamps: (cx, cy, radius) of coloured blobs that fill a roughly round
    area (a ring with writing and a star), not text or rules in colour."""
    if image.ndim != 3:
        return []
    h, w = image.shape[:2]
    s = min(1.0, 1200 / max(h, w))
    small = cv2.resize(image, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else image
    side = min(small.shape[:2])
    out = []
    for mask in _colour_masks(small):
        if mask.mean() < 0.2:
            continue
        k = max(3, int(side * 0.012)) | 1
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8), iterations=2)
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            (cx, cy), r = cv2.minEnclosingCircle(c)
            if r < MIN_STAMP_SHARE * side or r > 0.45 * side:
                continue
            x, y, bw, bh = cv2.boundingRect(c)
            if not 0.6 <= bw / max(1, bh) <= 1.67:
                continue
            # Ink along the circle's edge in most directions: a ring, not a filled label.
            angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
            hits = 0
            for a in angles:
                for rr in (0.8 * r, 0.88 * r, 0.95 * r, 1.0 * r):
                    px, py = int(cx + rr * np.cos(a)), int(cy + rr * np.sin(a))
                    if 0 <= px < small.shape[1] and 0 <= py < small.shape[0] and mask[py, px]:
                        hits += 1
                        break
            inner = np.zeros(mask.shape, np.uint8)
            cv2.circle(inner, (int(cx), int(cy)), max(1, int(0.6 * r)), 255, -1)
            filled = float((mask[inner > 0] > 0).mean()) if inner.any() else 0.0
            # A stamp is a ring with writing and a star (inside mostly paper); a filled disc
            # (the emblem on a card's back) is print, not an overlay.
            if hits / len(angles) >= 0.5 and filled < 0.5:
                out.append((cx / s, cy / s, r / s))
    return out


def without_stamps(image: np.ndarray, stamps: list[tuple[float, float, float]]) -> np.ndarray:
    """A copy in which, inside each stamp's circle, every pixel takes its brightest channel:
    red or blue ink goes pale, black print under it stays black (ink multiplies)."""
    if not stamps or image.ndim != 3:
        return image
    out = image.copy()
    bright = image.max(axis=2)
    mask = np.zeros(image.shape[:2], np.uint8)
    for cx, cy, r in stamps:
        cv2.circle(mask, (int(cx), int(cy)), int(r * 1.08), 255, -1)
    sel = mask > 0
    for ch in range(3):
        out[..., ch][sel] = bright[sel]
    return out


__all__ = ["OVERLAY_SCORE", "OverlayReport", "clean_lines", "find_stamps", "is_overlay_text", "phrase_spans", "strip_phrases", "without_stamps"]
