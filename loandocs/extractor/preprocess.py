"""OpenCV preprocessing: find ID cards in a photo, rectify them, undo 90-degree rotations,
downscale oversized images, and measure image quality.

Nothing here runs OCR. The 180-degree case cannot be told from the card's outline, so the
pipeline settles it after OCR from where the printed labels are (see ``orientation``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from loandocs.models import PageQuality

# ID-1 card: 85.6 x 54 mm. The canonical size is what rapidocr's detector works at anyway
# (shorter side 736 px), so a rectified card is never resized again inside the engine.
CARD_ASPECT = 85.6 / 54.0
CARD_SIZE = (1168, 736)
MAX_PAGE_SIDE = 2000  # larger pages are downscaled before OCR; the detector would do it anyway
DETECT_SIDE = 960

# Quality limits, measured on the canonical card size. Sharp samples measure 200-800, a
# Gaussian blur of sigma 2.5+ brings them under 6 (benchmarks/RESULTS.md).
MIN_SHARPNESS = 15.0  # variance of the Laplacian
MAX_GLARE = 0.06  # share of blown-out pixels
MIN_BRIGHTNESS = 45.0
MIN_CARD_WIDTH = 420  # source pixels across the card


@dataclass
class Region:
    """One page image to OCR: a rectified card, or the (downscaled) whole page."""

    image: np.ndarray
    quality: PageQuality
    is_card: bool = False
    quad: np.ndarray | None = None  # card corners in source pixels (tl, tr, br, bl)
    extra: dict = field(default_factory=dict)


def _order_quad(pts: np.ndarray) -> np.ndarray:
    pts = pts.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(1), np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32)


def _quad_sides(q: np.ndarray) -> tuple[float, float]:
    w = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    h = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return float(w), float(h)


def _card_like(q: np.ndarray, img_area: float) -> bool:
    w, h = _quad_sides(q)
    if min(w, h) < 1:
        return False
    ratio = max(w, h) / min(w, h)
    area = cv2.contourArea(q)
    return 1.42 <= ratio <= 1.80 and 0.08 * img_area <= area <= 0.97 * img_area and cv2.isContourConvex(q.astype(np.int32))


def _candidate_masks(gray: np.ndarray) -> list[np.ndarray]:
    """Binary masks in which a card may appear as one blob: bright-on-dark (a card on a desk),
    not-quite-white (a card on a scanner bed), edges, and dark-on-bright."""
    blur = cv2.GaussianBlur(gray, (7, 7), 0)
    k = max(5, (min(gray.shape) // 60) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    _, otsu = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(otsu, cv2.MORPH_OPEN, kernel)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, kernel, iterations=2)
    off_white = cv2.morphologyEx((blur < 246).astype(np.uint8) * 255, cv2.MORPH_CLOSE, kernel, iterations=3)
    off_white = cv2.morphologyEx(off_white, cv2.MORPH_OPEN, kernel)
    med = float(np.median(blur))
    edges = cv2.Canny(blur, int(max(0, 0.66 * med)), int(min(255, 1.33 * med)))
    edges = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, kernel, iterations=2)
    return [bright, off_white, edges]


def _fit_quad(contour: np.ndarray) -> np.ndarray | None:
    """Four corners of a convex blob; rounded corners and perspective need a tolerance that
    grows until exactly four remain."""
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.045, 0.06, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return _order_quad(approx.astype(np.float32))
        if len(approx) < 4:
            break
    return None


def find_cards(image: np.ndarray, max_cards: int = 2) -> list[np.ndarray]:
    """Corner quads (source pixels, tl/tr/br/bl) of up to ``max_cards`` card-shaped objects,
    best first by area and how well the blob fills its quad, then in reading order."""
    h, w = image.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(h, w))
    small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    area = float(gray.shape[0] * gray.shape[1])
    candidates: list[tuple[float, np.ndarray]] = []
    for mask in _candidate_masks(gray):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in sorted(contours, key=cv2.contourArea, reverse=True)[:6]:
            c_area = cv2.contourArea(c)
            if c_area < 0.08 * area:
                break
            q = _fit_quad(c)
            if q is None or not _card_like(q, area):
                continue
            fill = c_area / max(1.0, cv2.contourArea(q))
            if fill < 0.85 or fill > 1.15:
                continue
            candidates.append((cv2.contourArea(q) * min(fill, 1 / fill), q))
    found: list[np.ndarray] = []
    for _, q in sorted(candidates, key=lambda t: -t[0]):
        if any(_overlap(q, other) > 0.3 for other in found):
            continue
        found.append(q)
        if len(found) == max_cards:
            break
    found = [q / scale for q in found]
    found.sort(key=lambda q: (q[:, 1].mean(), q[:, 0].mean()))
    return found


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    return float(inter) / max(1.0, min(cv2.contourArea(a), cv2.contourArea(b)))


def rectify_card(image: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, int]:
    """Warp a card to ``CARD_SIZE`` (landscape). Returns the image and the rotation applied
    (0 or 90) when the card lay on its side."""
    q = quad.astype(np.float32)
    w, h = _quad_sides(q)
    rotation = 0
    if h > w:
        # Portrait quad: the card lies on its side. Start the corner order at the next corner
        # so the long side becomes the top; whether that left it upside down is decided later.
        q = np.roll(q, -1, axis=0)
        rotation = 90
    dst = np.array([[0, 0], [CARD_SIZE[0] - 1, 0], [CARD_SIZE[0] - 1, CARD_SIZE[1] - 1], [0, CARD_SIZE[1] - 1]], np.float32)
    m = cv2.getPerspectiveTransform(q, dst)
    return cv2.warpPerspective(image, m, CARD_SIZE, flags=cv2.INTER_AREA if w > CARD_SIZE[0] else cv2.INTER_CUBIC), rotation


def downscale(image: np.ndarray, max_side: int = MAX_PAGE_SIDE) -> np.ndarray:
    h, w = image.shape[:2]
    s = max_side / max(h, w)
    if s >= 1:
        return image
    return cv2.resize(image, (int(round(w * s)), int(round(h * s))), interpolation=cv2.INTER_AREA)


def rotate(image: np.ndarray, degrees_cw: int) -> np.ndarray:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(image, codes[degrees_cw % 360]) if degrees_cw % 360 else image


def measure_quality(image: np.ndarray, page: int = 1) -> PageQuality:
    """Sharpness, glare and brightness on a copy normalised to the canonical card width, so the
    numbers compare between a 600 px scan and a 4000 px photo."""
    h, w = image.shape[:2]
    s = CARD_SIZE[0] / max(1, w)
    norm = cv2.resize(image, (CARD_SIZE[0], max(1, int(h * s))), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    gray = cv2.cvtColor(norm, cv2.COLOR_BGR2GRAY) if norm.ndim == 3 else norm
    sharp = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    if norm.ndim == 3:
        hsv = cv2.cvtColor(norm, cv2.COLOR_BGR2HSV)
        blown = (hsv[..., 2] >= 250) & (hsv[..., 1] <= 25)
    else:
        blown = gray >= 250
    # Isolated white pixels are paper, not glare: keep blobs only.
    blown = cv2.morphologyEx(blown.astype(np.uint8), cv2.MORPH_OPEN, np.ones((7, 7), np.uint8))
    return PageQuality(
        page=page,
        width=w,
        height=h,
        blur=round(sharp, 1),
        glare=round(float(blown.mean()), 4),
        brightness=round(float(gray.mean()), 1),
    )


def quality_problems(q: PageQuality) -> list[str]:
    problems = []
    if q.blur is not None and q.blur < MIN_SHARPNESS:
        problems.append("blurry")
    if q.glare is not None and q.glare > MAX_GLARE:
        problems.append("glare")
    if q.brightness is not None and q.brightness < MIN_BRIGHTNESS:
        problems.append("too_dark")
    if q.source_card_width is not None and q.source_card_width < MIN_CARD_WIDTH:
        problems.append("too_small")
    if q.card_cut_off:
        problems.append("card_cut_off")
    return problems


def _touches_edge(quad: np.ndarray, shape: tuple[int, ...], margin: float = 0.005) -> bool:
    h, w = shape[:2]
    mx, my = max(2.0, w * margin), max(2.0, h * margin)
    return bool((quad[:, 0] <= mx).any() or (quad[:, 0] >= w - 1 - mx).any() or (quad[:, 1] <= my).any() or (quad[:, 1] >= h - 1 - my).any())


def card_regions(image: np.ndarray, page: int = 1) -> list[Region]:
    """Rectified cards found in the image; empty when none is visible as a separate object
    (a scan cropped to the card, or a document page)."""
    regions = []
    for quad in find_cards(image):
        card, rotation = rectify_card(image, quad)
        q = measure_quality(card, page)
        q.card_detected = True
        q.card_cut_off = _touches_edge(quad, image.shape)
        q.source_card_width = int(round(max(_quad_sides(quad))))
        q.rotation = rotation
        regions.append(Region(image=card, quality=q, is_card=True, quad=quad))
    return regions


def page_region(image: np.ndarray, page: int = 1, assume_card: bool = False) -> Region:
    """The whole page as one region, downscaled. With ``assume_card`` a portrait image with a
    card's proportions is turned to landscape (a card scanned on its side)."""
    rotation = 0
    h, w = image.shape[:2]
    if assume_card and h > w and 1.3 <= h / w <= 1.95:
        image = rotate(image, 90)
        rotation = 90
    image = downscale(image)
    q = measure_quality(image, page)
    q.rotation = rotation
    if assume_card:
        q.source_card_width = int(max(h, w))
    return Region(image=image, quality=q, is_card=assume_card)
