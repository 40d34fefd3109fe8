"""Harder ID card material: grey photocopies of both sides on one page, each card turned on
its own, watermark phrases written across the fields, stamps over the dates; cards that fill
the whole frame. Built from ``idcard``'s rendered cards, so fonts and layouts vary as there.

Why these: documents nobody here made (photocopies handed to a bank) carry a translucent
"复印无效 / 仅供XX使用" over the card and a red "与原件一致" stamp, and people put the two
sides on the glass any way round. Images are numpy RGB uint8 arrays.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw

from loandocs.samplegen import idcard
from loandocs.samplegen.identity import Identity

BANKS = ("中国工商银行", "中国建设银行", "招商银行", "交通银行", "中国银行", "兴业银行")


def overlay_phrase(rng: random.Random) -> str:
    bank = rng.choice(BANKS)
    return rng.choice((
        "复印无效",
        "再复印无效",
        f"仅供{bank}贷款使用",
        f"此复印件仅供{bank}办理贷款使用",
        f"仅供{bank}使用再复印无效",
        "与原件一致",
    ))


def _text_layer(size: tuple[int, int], phrase: str, rng: random.Random, char_px: float, angle: float) -> np.ndarray:
    """Alpha (0-1) of ``phrase`` repeated in rows across an area, turned by ``angle``."""
    w, h = size
    big = int(math.hypot(w, h)) + 4
    layer = Image.new("L", (big, big), 0)
    d = ImageDraw.Draw(layer)
    fnt = idcard.font(rng.choice(idcard.available_fonts()), char_px)
    step = char_px * rng.uniform(2.2, 3.4)
    y = rng.uniform(0, step)
    while y < big:
        x = -rng.uniform(0, char_px * 4)
        while x < big:
            d.text((x, y), phrase, font=fnt, fill=255)
            x += fnt.getlength(phrase) + char_px * rng.uniform(1.5, 3)
        y += step
    layer = layer.rotate(angle, Image.BICUBIC)
    x0, y0 = (big - w) // 2, (big - h) // 2
    return np.asarray(layer.crop((x0, y0, x0 + w, y0 + h)), np.float32) / 255.0


def add_watermark(img: np.ndarray, box: tuple[int, int, int, int], rng: random.Random, char_px: float) -> str:
    """A translucent phrase repeated across ``box`` (x0, y0, x1, y1), multiplied in like ink.
    Returns the phrase."""
    x0, y0, x1, y1 = box
    phrase = overlay_phrase(rng)
    angle = rng.choice((0.0, rng.uniform(-30, 30), rng.uniform(-30, 30)))
    a = _text_layer((x1 - x0, y1 - y0), phrase, rng, char_px * rng.uniform(0.9, 1.5), angle)
    colour = np.array(rng.choice(((90, 90, 90), (60, 60, 60), (200, 40, 40), (60, 80, 180))), np.float32)
    strength = rng.uniform(0.30, 0.50)  # translucent: the card's text must still show through
    region = img[y0:y1, x0:x1].astype(np.float32)
    ink = 1 - strength * a[..., None] * (1 - colour / 255.0)
    img[y0:y1, x0:x1] = np.clip(region * ink, 0, 255).astype(np.uint8)
    return phrase


def stamp(img: np.ndarray, cx: float, cy: float, radius: float, rng: random.Random, nprng: np.random.Generator) -> None:
    """A red or blue round stamp (``与原件一致``/a bank's 复印件专用章) multiplied onto ``img``."""
    from loandocs.samplegen.financial import seal_image

    text = rng.choice(("与原件一致", rng.choice(BANKS) + "复印件专用章", rng.choice(BANKS) + "业务专用章"))
    size = int(2 * radius)
    if size < 40:
        return
    alpha = np.asarray(seal_image(text, rng, nprng, size=size))[..., 3].astype(np.float32) / 255.0
    colour = np.array((210, 35, 40) if rng.random() < 0.75 else (40, 60, 190), np.float32)
    h, w = img.shape[:2]
    x0, y0 = int(cx - radius), int(cy - radius)
    sx0, sy0 = max(0, -x0), max(0, -y0)
    x0c, y0c = max(0, x0), max(0, y0)
    x1c, y1c = min(w, x0 + size), min(h, y0 + size)
    a = alpha[sy0 : sy0 + (y1c - y0c), sx0 : sx0 + (x1c - x0c)][..., None] * rng.uniform(0.75, 0.95)
    region = img[y0c:y1c, x0c:x1c].astype(np.float32)
    img[y0c:y1c, x0c:x1c] = np.clip(region * (1 - a * (1 - colour / 255.0)), 0, 255).astype(np.uint8)


def _copier(page: np.ndarray, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    """A photocopier's look: grey, contrast pushed, grey paper, toner speckles, soft focus."""
    g = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gamma = rng.uniform(1.1, 1.6)
    g = 255 * (g / 255.0) ** gamma
    paper = rng.uniform(205, 240)
    g = g * paper / 255.0
    g += cv2.resize(nprng.normal(0, 1, (16, 12)).astype(np.float32), (g.shape[1], g.shape[0])) * rng.uniform(3, 8)
    speck = nprng.random(g.shape) < rng.uniform(0.0005, 0.002)
    g[speck] *= 0.3
    g += nprng.normal(0, rng.uniform(2, 5), g.shape)
    g = cv2.GaussianBlur(g, (0, 0), rng.uniform(0.4, 0.9))
    g = np.clip(g, 0, 255).astype(np.uint8)
    return np.dstack([g, g, g])


def photocopy_page(ident: Identity, rng: random.Random, nprng: np.random.Generator, *, rotations: tuple[int, int] = (0, 0),
                   watermark: bool = True, stamps: bool = True, grey: bool = True) -> tuple[np.ndarray, dict]:  # fmt: skip
    """Front and back of one person on an A4-proportioned page, each turned by its own angle
    (degrees clockwise), optionally photocopied, watermarked and stamped. Returns the page and
    what was done (for the ground truth's notes)."""
    cw = rng.randint(900, 1150)
    front = idcard.render_front(ident, rng, nprng, cw)
    back = idcard.render_back(ident, rng, nprng, cw)
    ch = front.size[1]
    pw = int(cw * rng.uniform(1.75, 2.1))
    ph = int(pw * 1.414)
    page = np.full((ph, pw, 3), 255, np.uint8)
    notes: dict = {"rotations": list(rotations), "watermarks": [], "stamps": []}
    # Two slots, one above the other; a card turned by 90/270 stands upright in its slot.
    slot_h = (ph - int(ph * 0.08)) // 2
    boxes = []
    for i, (card, rot) in enumerate(zip((front, back), rotations)):
        arr = idcard.card_on_white(card, rng, nprng)
        arr = idcard.rotate(arr, rot)
        h, w = arr.shape[:2]
        if h > slot_h * 0.96:  # a card on its side: shrink to fit the slot
            s = slot_h * 0.96 / h
            arr = cv2.resize(arr, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
            h, w = arr.shape[:2]
        y = int(ph * 0.04) + i * slot_h + int((slot_h - h) * rng.uniform(0.2, 0.8))
        x = int((pw - w) * rng.uniform(0.25, 0.75))
        page[y : y + h, x : x + w] = np.minimum(page[y : y + h, x : x + w], arr)
        boxes.append((x, y, x + w, y + h, rot))
    if grey:
        page = _copier(page, rng, nprng)
    if watermark:
        char_px = ch * rng.uniform(0.07, 0.10)
        for x0, y0, x1, y1, _ in boxes:
            m = int(char_px)
            notes["watermarks"].append(add_watermark(page, (max(0, x0 - m), max(0, y0 - m), min(pw, x1 + m), min(ph, y1 + m)), rng, char_px))
    if stamps:
        for side, (x0, y0, x1, y1, rot) in zip(("front", "back"), boxes):
            if rng.random() < 0.6:
                # Over the birth date (front) or the validity (back): place in card coordinates,
                # then turn with the card.
                u, v = (rng.uniform(0.25, 0.45), rng.uniform(0.45, 0.62)) if side == "front" else (rng.uniform(0.45, 0.75), rng.uniform(0.78, 0.9))
                cx, cy = _turned_point(u, v, rot, x0, y0, x1, y1)
                stamp(page, cx, cy, ch * rng.uniform(0.17, 0.24), rng, nprng)
                notes["stamps"].append(side)
    return page, notes


def _turned_point(u: float, v: float, rot: int, x0: int, y0: int, x1: int, y1: int) -> tuple[float, float]:
    """Card coordinates (0-1, upright card) to page pixels of the card turned by ``rot`` cw."""
    for _ in range(rot // 90 % 4):
        u, v = 1 - v, u
    return x0 + u * (x1 - x0), y0 + v * (y1 - y0)


def full_frame(card: Image.Image, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    """A photo cropped to the card: the card's edge lies just inside the frame (0-1.5% of the
    width of background), as phone apps and scanners crop, so the card is complete."""
    rgba = np.asarray(card).astype(np.float32)
    w, h = card.size
    m = int(w * rng.uniform(0.0, 0.015))
    bg = idcard.background_texture(w + 2 * m, h + 2 * m, rng, nprng)
    a = np.zeros((h + 2 * m, w + 2 * m, 1), np.float32)
    a[m : m + h, m : m + w] = rgba[..., 3:4] / 255.0
    fg = np.zeros_like(bg)
    fg[m : m + h, m : m + w] = rgba[..., :3]
    out = bg * (1 - a) + fg * a
    out = out * rng.uniform(0.92, 1.0) + nprng.normal(0, rng.uniform(0.5, 1.5), out.shape[:2] + (1,))
    return np.clip(cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 0.8)), 0, 255).astype(np.uint8)
