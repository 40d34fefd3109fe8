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


def _candidate_masks(gray: np.ndarray, brightest: np.ndarray | None = None) -> list[np.ndarray]:
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
    # A stamp in colour over a card's edge would widen the card's grey block: judged on each
    # pixel's brightest channel, coloured ink is as pale as paper.
    tone = blur if brightest is None else cv2.GaussianBlur(brightest, (7, 7), 0)
    return [bright, off_white, edges, *_darker_than_paper(tone)]


def _darker_than_paper(blur: np.ndarray) -> list[np.ndarray]:
    """A card on a photocopy: a grey block a little darker than the grey paper around it,
    with watermark writing running across its edges. The paper is the page's commonest tone;
    opening with a kernel wider than a stroke removes the writing outside the card (thin
    strokes) and keeps the card (a filled area); closing then fills the card's paler parts."""
    paper = float(np.median(blur))
    mask = (blur < paper - max(8.0, 0.05 * paper)).astype(np.uint8) * 255
    k = max(9, (min(blur.shape) // 40) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    # Both orders: opening first keeps writing off the card's edge (closing first would fuse
    # its strokes into blobs there); closing first keeps a card whose pale parts split it.
    opened = cv2.morphologyEx(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel, iterations=2)
    closed = cv2.morphologyEx(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2), cv2.MORPH_OPEN, kernel)
    return [opened, closed]


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


def find_cards(image: np.ndarray, max_cards: int = 4) -> list[np.ndarray]:
    """Corner quads (source pixels, tl/tr/br/bl) of up to ``max_cards`` card-shaped objects,
    best first by area and how well the blob fills its quad, then in reading order."""
    h, w = image.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(h, w))
    small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    area = float(gray.shape[0] * gray.shape[1])
    candidates: list[tuple[float, np.ndarray]] = []
    for k, mask in enumerate(_candidate_masks(gray, small.max(axis=2) if small.ndim == 3 else None)):
        # The photocopy masks (a grey block on grey paper) look for cards lying on a page:
        # such a card never reaches the page's edge, while a scan's shaded margin does.
        on_page = k >= 3
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in sorted(contours, key=cv2.contourArea, reverse=True)[:6]:
            c_area = cv2.contourArea(c)
            if c_area < 0.08 * area:
                break
            q = _fit_quad(c)
            if q is None or not _card_like(q, area) or (on_page and (_touches_edge(q, gray.shape, 0.01) or cv2.contourArea(q) > 0.4 * area)):
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
        glare=round(_specular_share(blown, gray), 4),
        brightness=round(float(gray.mean()), 1),
    )


def _specular_share(blown: np.ndarray, gray: np.ndarray) -> float:
    """Share of the image under specular highlights: blown-out blobs brighter than the
    surface around them. White paper photographed at full exposure is blown out too, but it
    is the surface itself (one large blob, or pieces whose surroundings are as white), so
    it does not count: it hides no text."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(blown, connectivity=8)
    total = float(blown.size)
    # The ring looked at lies a little away from the blob: a highlight fades out over a
    # few pixels, and that fringe is nearly as white as the blob.
    ring_px = max(5, gray.shape[1] // 60)
    near, far = np.ones((ring_px, ring_px), np.uint8), np.ones((3 * ring_px, 3 * ring_px), np.uint8)
    share = 0.0
    for i in range(1, n):
        area = stats[i, cv2.CC_STAT_AREA]
        if area < 50 or area > 0.2 * total:
            continue
        x, y, bw, bh = stats[i, :4]
        pad = 2 * ring_px
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(gray.shape[1], x + bw + pad), min(gray.shape[0], y + bh + pad)
        blob = (labels[y0:y1, x0:x1] == i).astype(np.uint8)
        ring = (cv2.dilate(blob, far) > 0) & (cv2.dilate(blob, near) == 0) & (blown[y0:y1, x0:x1] == 0)
        if not ring.any():
            continue
        around = float(np.median(gray[y0:y1, x0:x1][ring]))
        # The surface around a highlight is a card or paper in ordinary light, not a dark
        # desk (a white sheet's edge) and not paper as white as the blob.
        if 120 <= around <= 242:
            share += area / total
    return share


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


def _complete_card(quad: np.ndarray) -> bool:
    w, h = _quad_sides(quad)
    ratio = max(w, h) / max(1.0, min(w, h))
    return abs(ratio / CARD_ASPECT - 1) <= 0.035


def card_regions(image: np.ndarray, page: int = 1) -> list[Region]:
    """Rectified cards found in the image; empty when none is visible as a separate object
    (a scan cropped to the card, or a document page)."""
    regions = []
    for quad in find_cards(image):
        card, rotation = rectify_card(image, quad)
        q = measure_quality(card, page)
        q.card_detected = True
        # A card that fills the frame touches it on every side and still has a card's
        # proportions; one cut off by the frame touches it and has lost them.
        q.card_cut_off = _touches_edge(quad, image.shape) and not _complete_card(quad)
        q.source_card_width = int(round(max(_quad_sides(quad))))
        q.rotation = rotation
        regions.append(Region(image=card, quality=q, is_card=True, quad=quad))
    return regions


# A4 is 1.414; a phone photo adds some perspective. A sheet must fill a good part of the
# photo to be taken for the page (a smaller one is a card, a receipt, or nothing).
PAGE_RATIO = (1.25, 1.66)  # keystone stretches A4 (1.414) to 1.6; cards are found first
MIN_PAGE_AREA = 0.25


def find_page(image: np.ndarray) -> np.ndarray | None:
    """Corners (tl, tr, br, bl, source pixels) of a sheet of paper photographed on a darker
    surface; None when the image is the page itself (a scan) or no sheet stands out."""
    h, w = image.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(h, w))
    small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    area = float(gray.shape[0] * gray.shape[1])
    blur = cv2.GaussianBlur(gray, (7, 7), 0)
    _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    k = max(5, (min(gray.shape) // 50) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=3)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    c_area = cv2.contourArea(c)
    if not MIN_PAGE_AREA * area <= c_area <= 0.97 * area:
        return None
    q = _fit_quad(c)
    if q is None or _touches_edge(q, gray.shape):
        return None
    pw, ph = _quad_sides(q)
    ratio = max(pw, ph) / max(1.0, min(pw, ph))
    if not PAGE_RATIO[0] <= ratio <= PAGE_RATIO[1] or c_area / max(1.0, cv2.contourArea(q)) < 0.9:
        return None
    # The sheet must be paper: brighter than what surrounds it.
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(inside, q.astype(np.int32), 255)
    if float(np.median(gray[inside > 0])) < float(np.median(gray[inside == 0])) + 40:
        return None
    return q / scale


def flatten_page(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The sheet warped to a rectangle of its own proportions, at most ``MAX_PAGE_SIDE``."""
    w, h = _quad_sides(quad)
    s = min(1.0, MAX_PAGE_SIDE / max(w, h))
    size = (int(round(w * s)), int(round(h * s)))
    dst = np.array([[0, 0], [size[0] - 1, 0], [size[0] - 1, size[1] - 1], [0, size[1] - 1]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(image, m, size, flags=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


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
