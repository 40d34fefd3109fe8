"""Page orientation and splitting from what was read.

A card's outline cannot tell right-way-up from upside-down, and a page's outline tells
nothing at all, so both are decided from the text: lines that are taller than wide mean the
page lies on its side; printed labels in the wrong vertical order mean it is upside down.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from loandocs.extractor.layout import Row, group_rows
from loandocs.extractor.ocr.base import OcrLine, OcrWord

# (label above, label below) as printed on the documents we know: every pair down the card's
# label column, so that any two labels read settle it (a watermark or a stamp may hide others).
_FRONT_COLUMN = ("姓名", "性别", "出生", "住址", "公民身份号码")
_BACK_COLUMN = ("中华人民共和国", "居民身份证", "签发机关", "有效期限")
ORDER_PAIRS: list[tuple[str, str]] = [
    (col[i], col[j]) for col in (_FRONT_COLUMN, _BACK_COLUMN) for i in range(len(col)) for j in range(i + 1, len(col))
]
FRONT_ANCHORS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
BACK_ANCHORS = ("中华人民共和国", "居民身份证", "签发机关", "有效期限")


def is_sideways(lines: list[OcrLine]) -> bool:
    """Most multi-character lines are clearly taller than wide."""
    votes = [ln.height > 1.5 * (ln.x1 - ln.x0) for ln in lines if len(ln.text) >= 3]
    return len(votes) >= 3 and sum(votes) > 0.6 * len(votes)


def _anchor_y(rows: list[Row], label: str) -> float | None:
    for row in rows:
        if label in row.text:
            return row.cy
    return None


def is_upside_down(rows: list[Row]) -> bool:
    votes = 0
    for upper, lower in ORDER_PAIRS:
        a, b = _anchor_y(rows, upper), _anchor_y(rows, lower)
        if a is not None and b is not None and a != b:
            votes += 1 if a < b else -1
    return votes < 0


def rotate_lines_180(lines: list[OcrLine], shape: tuple[int, ...]) -> list[OcrLine]:
    h, w = shape[:2]

    def flip(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return (w - b[2], h - b[3], w - b[0], h - b[1])

    out = []
    for ln in lines:
        # Character boxes of a line the angle classifier turned are not reliable in page
        # coordinates (they come out mirrored), so they are dropped: the line box is split
        # evenly instead.
        out.append(OcrLine(text=ln.text, score=ln.score, bbox=flip(ln.bbox), source=ln.source))
    return out


def skew_angle(lines: list[OcrLine]) -> float:
    """Median slope, in degrees, of the top edges of long text lines (clockwise positive)."""
    angles = []
    for ln in lines:
        if not ln.quad or len(ln.text) < 4:
            continue
        (x0, y0), (x1, y1) = ln.quad[0], ln.quad[1]
        if x1 - x0 > 2 * ln.height:
            angles.append(math.degrees(math.atan2(y1 - y0, x1 - x0)))
    if len(angles) < 3:
        return 0.0
    return float(np.median(angles))


def deskew(image: np.ndarray, lines: list[OcrLine], angle: float) -> tuple[np.ndarray, list[OcrLine]]:
    """Turn the page by ``-angle`` so text runs level, and move the read boxes with it: the
    recogniser already read each tilted line from its own rectified crop, so no second OCR
    pass is needed; only rows need level boxes to be grouped right."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def move(quad, bbox):
        pts = np.array(quad if quad else [(bbox[0], bbox[1]), (bbox[2], bbox[1]), (bbox[2], bbox[3]), (bbox[0], bbox[3])], float)
        moved = pts @ m[:, :2].T + m[:, 2]
        return [tuple(p) for p in moved], (float(moved[:, 0].min()), float(moved[:, 1].min()), float(moved[:, 0].max()), float(moved[:, 1].max()))

    new_lines = []
    for ln in lines:
        quad, bbox = move(ln.quad, ln.bbox)
        words = []
        for wd in ln.words:
            wq, wb = move(wd.quad, wd.bbox)
            words.append(OcrWord(text=wd.text, score=wd.score, bbox=wb, quad=wq))
        new_lines.append(OcrLine(text=ln.text, score=ln.score, bbox=bbox, words=words, source=ln.source, quad=quad))
    return out, new_lines


def _anchor_lines(lines: list[OcrLine], anchors: tuple[str, ...]) -> list[OcrLine]:
    return [ln for ln in lines if any(a in ln.text.replace(" ", "") for a in anchors)]


def split_front_back(lines: list[OcrLine]) -> tuple[list[OcrLine], list[OcrLine]] | None:
    """Both sides of an ID card on one page (a photocopy): (front lines, back lines), split
    along the axis that separates the two sides' labels. None when the page is one document."""
    front = _anchor_lines(lines, FRONT_ANCHORS)
    back = _anchor_lines(lines, BACK_ANCHORS)
    if len(front) < 2 or len(back) < 2:
        return None
    for axis in (1, 0):  # one above the other first, then side by side
        lo, hi = axis, axis + 2

        def c(ln: OcrLine) -> float:
            return (ln.bbox[lo] + ln.bbox[hi]) / 2

        f_max, f_min = max(map(c, front)), min(map(c, front))
        b_max, b_min = max(map(c, back)), min(map(c, back))
        if f_max < b_min or b_max < f_min:
            front_first = f_max < b_min
            cut = (f_max + b_min) / 2 if front_first else (b_max + f_min) / 2
            # The cut is refined to the widest empty band between the two groups.
            lo_edge, hi_edge = (f_max, b_min) if front_first else (b_max, f_min)
            centres = sorted(c(ln) for ln in lines if lo_edge < c(ln) < hi_edge)
            edges = [lo_edge, *centres, hi_edge]
            gaps = [(edges[i + 1] - edges[i], (edges[i + 1] + edges[i]) / 2) for i in range(len(edges) - 1)]
            cut = max(gaps)[1] if gaps else cut
            first = [ln for ln in lines if c(ln) < cut]
            second = [ln for ln in lines if c(ln) >= cut]
            return (first, second) if front_first else (second, first)
    return None


__all__ = ["deskew", "skew_angle", "is_sideways", "is_upside_down", "rotate_lines_180", "split_front_back", "group_rows"]
