"""Company seal (公章) detection with OpenCV on a rendered page.

A Chinese company seal is a circle 38-45 mm across with the company name along its upper arc
and a star in the middle. In colour it is red; in a grayscale scan only the shape is left. Two
detectors, both returning the circle:

- colour: red pixels (two hue bands around 0/180) form a blob whose enclosing circle is
  filled by a ring: red along most of the circumference.
- shape: Hough circles in the expected size range, kept only when dark pixels cover most of
  the circumference (text lines and table rules do not).

The seal's text can be read by unrolling the ring into a strip (``cv2.warpPolar``) so that the
curved name becomes a straight line the OCR engine can read.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Seal diameter as a share of the page width: 40 mm on a 210 mm page is 0.19; allow photos
# and half pages.
MIN_DIAMETER = 0.08
MAX_DIAMETER = 0.40
MIN_RING_COVERAGE = 0.55


@dataclass
class Seal:
    cx: float
    cy: float
    radius: float
    confidence: float
    method: str  # "colour" or "shape"

    @property
    def bbox(self) -> list[float]:
        return [round(self.cx - self.radius, 1), round(self.cy - self.radius, 1), round(self.cx + self.radius, 1), round(self.cy + self.radius, 1)]


def _ring_coverage(mask: np.ndarray, cx: float, cy: float, r: float) -> float:
    """Share of 180 directions in which the mask has ink within the outer band of the circle."""
    h, w = mask.shape[:2]
    hits = 0
    angles = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    for a in angles:
        found = False
        for rr in np.linspace(0.86 * r, 1.04 * r, 7):
            x, y = int(round(cx + rr * np.cos(a))), int(round(cy + rr * np.sin(a)))
            if 0 <= x < w and 0 <= y < h and mask[y, x]:
                found = True
                break
        hits += found
    return hits / len(angles)


def red_mask(image: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    low = cv2.inRange(hsv, (0, 70, 60), (12, 255, 255))
    high = cv2.inRange(hsv, (155, 70, 60), (180, 255, 255))
    return cv2.bitwise_or(low, high)


def _working_copy(image: np.ndarray, side: int = 1200) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    s = min(1.0, side / max(h, w))
    return (cv2.resize(image, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else image), s


def find_seal_colour(image: np.ndarray) -> Seal | None:
    if image.ndim != 3:
        return None
    small, s = _working_copy(image)
    w = small.shape[1]
    mask = red_mask(small)
    if mask.mean() < 0.3:  # under ~0.1% red: nothing to look at
        return None
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8), iterations=2)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    best: Seal | None = None
    for c in contours:
        (cx, cy), r = cv2.minEnclosingCircle(c)
        if not MIN_DIAMETER * w <= 2 * r <= MAX_DIAMETER * w:
            continue
        x, y, bw, bh = cv2.boundingRect(c)
        if not 0.75 <= bw / max(1, bh) <= 1.33:
            continue
        cov = _ring_coverage(mask, cx, cy, r)
        if cov < MIN_RING_COVERAGE:
            continue
        conf = min(1.0, 0.5 + cov / 2)
        if best is None or conf > best.confidence:
            best = Seal(cx / s, cy / s, r / s, round(conf, 3), "colour")
    return best


def find_seal_shape(image: np.ndarray) -> Seal | None:
    small, s = _working_copy(image)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    w = gray.shape[1]
    blur = cv2.medianBlur(gray, 5)
    circles = cv2.HoughCircles(
        blur, cv2.HOUGH_GRADIENT, dp=1.5, minDist=w * MIN_DIAMETER,
        param1=120, param2=40, minRadius=int(w * MIN_DIAMETER / 2), maxRadius=int(w * MAX_DIAMETER / 2),
    )
    if circles is None:
        return None
    ink = (blur < min(200, int(np.median(blur)) - 40)).astype(np.uint8)
    best: Seal | None = None
    for cx, cy, r in circles[0][:12]:
        cov = _ring_coverage(ink, cx, cy, r)
        if cov < 0.75:  # stricter than colour: shape alone must be a near-complete ring
            continue
        conf = min(1.0, 0.4 + cov / 2)
        if best is None or conf > best.confidence:
            best = Seal(float(cx) / s, float(cy) / s, float(r) / s, round(conf, 3), "shape")
    return best


def find_seal(image: np.ndarray) -> Seal | None:
    return find_seal_colour(image) or find_seal_shape(image)


def unroll_ring(image: np.ndarray, seal: Seal) -> np.ndarray:
    """The seal's outer text band as a straight strip, upper arc left to right, for OCR."""
    r = seal.radius
    size = int(2 * np.pi * r)
    polar = cv2.warpPolar(image, (int(r * 1.05), size), (seal.cx, seal.cy), r * 1.05, cv2.WARP_POLAR_LINEAR)
    # Rows of ``polar`` are angles (0 = pointing right, clockwise); columns are radius.
    band = polar[:, int(0.62 * r) : int(0.98 * r)]
    # Text along the top arc reads from about 200 degrees to 340 degrees; rotate so that the
    # letters stand upright (their tops point outwards = towards larger radius).
    start, end = int(size * 150 / 360), int(size * 390 / 360)
    strip = np.concatenate([band, band])[start:end]
    return cv2.rotate(strip, cv2.ROTATE_90_COUNTERCLOCKWISE)

