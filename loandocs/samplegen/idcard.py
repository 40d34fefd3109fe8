"""Rendering synthetic resident ID cards (人像面 front, 国徽面 back) and turning them into
scans and phone photos.

Every visual choice (fonts, sizes, offsets, colours, background, warp, lighting, noise, JPEG
quality) is drawn per sample from the caller's seeded generators, so that the OCR pipeline is
tested against many layouts rather than tuned to one template. Images are numpy RGB uint8
arrays, cards are RGBA (alpha = the rounded-corner card shape).
"""

from __future__ import annotations

import functools
import math
import os
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from loandocs.samplegen.identity import Identity

CARD_ASPECT = 54.0 / 85.6  # height / width of an ID-1 card

# (path, face index): the CJK .ttc collections hold several regional faces; pick the
# Simplified Chinese one so glyph shapes match a mainland card.
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0),
)


@functools.lru_cache(maxsize=1)
def available_fonts() -> tuple[tuple[str, int], ...]:
    fonts = tuple(f for f in FONT_CANDIDATES if os.path.isfile(f[0]))
    if not fonts:
        raise RuntimeError("no CJK font found; install fonts-noto-cjk or fonts-wqy-zenhei")
    return fonts


@functools.lru_cache(maxsize=256)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(8, size), index=index)


def font(spec: tuple[str, int], size: float) -> ImageFont.FreeTypeFont:
    return _font(spec[0], spec[1], int(round(size)))


def text_width(text: str, fnt: ImageFont.FreeTypeFont, tracking: float = 0.0) -> float:
    if not text:
        return 0.0
    return sum(fnt.getlength(c) for c in text) + tracking * (len(text) - 1)


def draw_text(draw: ImageDraw.ImageDraw, x: float, baseline: float, text: str,
              fnt: ImageFont.FreeTypeFont, fill, tracking: float = 0.0) -> float:
    """Draw left/baseline anchored text (so label and value of a row share a baseline even
    at different sizes), optionally letter-spaced; returns the x where the text ends."""
    if tracking == 0.0:
        draw.text((x, baseline), text, font=fnt, fill=fill, anchor="ls")
        return x + fnt.getlength(text)
    for ch in text:
        draw.text((x, baseline), ch, font=fnt, fill=fill, anchor="ls")
        x += fnt.getlength(ch) + tracking
    return x - tracking


# ---------------------------------------------------------------- card background

def _pale_colour(rng: random.Random) -> np.ndarray:
    base = rng.choice([(226, 234, 244), (231, 233, 236), (246, 241, 226), (236, 240, 238),
                       (240, 236, 240)])
    return np.array([c + rng.randint(-6, 6) for c in base], dtype=np.float32)


def card_background(w: int, h: int, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    """Pale gradient + faint guilloche lines, float32 RGB (noise is added by the variants)."""
    c0, c1 = _pale_colour(rng), _pale_colour(rng)
    ang = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx * math.cos(ang) + yy * math.sin(ang)) / (abs(w * math.cos(ang)) + abs(h * math.sin(ang)))
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    img = c0 * (1 - t[..., None]) + c1 * t[..., None]
    # Guilloche: families of wavy lines (security print); faint so text stays clean, and
    # sparse because fine line work is what costs most bytes in the checked-in JPEGs.
    lines = np.zeros((h, w), np.float32)
    for _ in range(rng.choice([1, 2, 2])):
        spacing = w * rng.uniform(0.025, 0.05)
        amp, lam = w * rng.uniform(0.01, 0.05), w * rng.uniform(0.08, 0.3)
        if rng.random() < 0.35:  # rosette around a point
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            r, th = np.hypot(xx - cx, yy - cy), np.arctan2(yy - cy, xx - cx)
            f = (r + amp * np.sin(rng.randint(6, 24) * th)) / spacing
        else:
            a = rng.uniform(-0.5, 0.5)
            u, v = xx * math.cos(a) + yy * math.sin(a), -xx * math.sin(a) + yy * math.cos(a)
            f = (v + amp * np.sin(2 * math.pi * u / lam + rng.uniform(0, 6.3))) / spacing
        d = np.abs(f - np.round(f)) * spacing  # pixel distance to the nearest line
        lines = np.maximum(lines, np.exp(-(d / (w / 900)) ** 2))
    tint = np.array(rng.choice([(150, 170, 210), (210, 160, 170), (160, 190, 170), (180, 170, 200)]),
                    np.float32)
    alpha = rng.uniform(0.06, 0.13)
    img = img * (1 - alpha * lines[..., None]) + tint * alpha * lines[..., None]
    return img


def _card_canvas(width: int, rng, nprng) -> tuple[Image.Image, ImageDraw.ImageDraw, int, int]:
    w, h = width, int(round(width * CARD_ASPECT))
    bg = np.clip(card_background(w, h, rng, nprng), 0, 255).astype(np.uint8)
    img = Image.fromarray(bg, "RGB")
    return img, ImageDraw.Draw(img), w, h


def _finish_card(img: Image.Image, rng: random.Random) -> Image.Image:
    """Rounded-corner alpha (ID-1 corner radius is 3.18 mm = 3.7 % of the width)."""
    w, h = img.size
    mask = Image.new("L", (w * 2, h * 2), 0)  # draw at 2x and shrink: antialiased edge
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, w * 2 - 1, h * 2 - 1),
                                           radius=int(w * 2 * rng.uniform(0.03, 0.042)), fill=255)
    out = img.convert("RGBA")
    out.putalpha(mask.resize((w, h), Image.LANCZOS))
    return out


def _colours(rng: random.Random):
    label = (rng.randint(55, 95), rng.randint(95, 130), rng.randint(140, 175))
    value = (rng.randint(0, 30),) * 3
    return label, value


# ---------------------------------------------------------------- front (人像面)

def wrap_chars(text: str, per_line: int, max_lines: int = 3) -> list[str]:
    """Wrap at ``per_line`` characters like the card printer, but do not split a number
    (``15/02室``) or leave one character alone on the last line, when that still fits."""
    def clean_cut(start: int, end: int) -> int:
        cut = end
        while cut > start and text[cut - 1].isdigit() and text[cut].isdigit():
            cut -= 1
        return cut if cut - start >= per_line - 4 else end

    cuts, start = [], 0
    while len(text) - start > per_line:
        start = clean_cut(start, start + per_line)
        cuts.append(start)
    if cuts and len(text) - cuts[-1] == 1:  # lone last character: pull more down
        prev = cuts[-2] if len(cuts) > 1 else 0
        cut = clean_cut(prev, cuts[-1] - 1)
        if cut < cuts[-1] - 1 or not (text[cut - 1].isdigit() and text[cut].isdigit()):
            cuts[-1] = cut
    bounds = [0, *cuts, len(text)]
    lines = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    if len(lines) > max_lines:
        return [text[i:i + per_line] for i in range(0, len(text), per_line)]
    return lines


def _portrait(img: Image.Image, box: tuple[int, int, int, int], rng: random.Random) -> None:
    """Grey rounded rectangle with a head-and-shoulders silhouette (no face: a placeholder)."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    g = rng.randint(192, 218)
    layer = Image.new("RGB", (bw, bh), (g, g, g + rng.randint(0, 8)))
    d = ImageDraw.Draw(layer)
    s = rng.randint(140, 172)
    sil = (s, s, s + rng.randint(0, 6))
    cx = bw * rng.uniform(0.46, 0.54)
    d.ellipse((cx - bw * 0.50, bh * 0.70, cx + bw * 0.50, bh * 1.45), fill=sil)  # shoulders
    d.rectangle((cx - bw * 0.10, bh * 0.52, cx + bw * 0.10, bh * 0.78), fill=sil)  # neck
    d.ellipse((cx - bw * 0.22, bh * 0.16, cx + bw * 0.22, bh * 0.62), fill=sil)  # head
    mask = Image.new("L", (bw, bh), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, bw - 1, bh - 1), radius=int(bw * 0.06), fill=255)
    img.paste(layer, (x0, y0), mask)


def _birth_segments(ident: Identity, rng: random.Random):
    """(text, is_template) pieces of ``1985 年 3 月 12 日``; no leading zeros, as on the card."""
    b = ident.birth_date
    sep = " " if rng.random() < 0.6 else ""
    parts = [(str(b.year), False), ("年", True), (str(b.month), False), ("月", True),
             (str(b.day), False), ("日", True)]
    out = []
    for i, (t, tmpl) in enumerate(parts):
        out.append((t + (sep if i < len(parts) - 1 else ""), tmpl))
    return out


def render_front(ident: Identity, rng: random.Random, nprng: np.random.Generator,
                 width: int | None = None) -> Image.Image:
    width = width or rng.randint(900, 1300)
    img, draw, W, H = _card_canvas(width, rng, nprng)
    fonts = available_fonts()
    lab_font, val_font = rng.choice(fonts), rng.choice(fonts)
    id_font = rng.choice([val_font, rng.choice(fonts)])
    lab_col, val_col = _colours(rng)
    tmpl_col = lab_col if rng.random() < 0.7 else val_col  # 年/月/日 are pre-printed on real cards
    j = lambda: rng.uniform(-0.003, 0.003) * W  # small per-item offsets  # noqa: E731

    px0, px1 = int(W * rng.uniform(0.62, 0.66)), int(W * rng.uniform(0.90, 0.94))
    py0, py1 = int(H * rng.uniform(0.08, 0.13)), int(H * rng.uniform(0.66, 0.72))
    per_line = rng.choice([10, 11, 11, 12])
    lines = wrap_chars(ident.address, per_line)
    birth = _birth_segments(ident, rng)
    s_val = W * 0.039 * rng.uniform(0.87, 1.15)
    lab_ratio, id_ratio = rng.uniform(0.75, 0.92), rng.uniform(1.0, 1.12)
    lab_track = rng.choice([0.0, 0.0, rng.uniform(0.1, 0.4)])
    lx = W * rng.uniform(0.05, 0.085)
    gap = W * rng.uniform(0.025, 0.045)
    y0, yb = H * rng.uniform(0.14, 0.18), H * rng.uniform(0.86, 0.90)
    ls_ratio, pitch_ratio = rng.uniform(1.15, 1.35), rng.uniform(2.0, 2.4)
    for _ in range(30):  # shrink until everything fits (address left of the portrait, rows apart)
        s_lab, s_id = s_val * lab_ratio, s_val * id_ratio
        fl, fv, fid = font(lab_font, s_lab), font(val_font, s_val), font(id_font, s_id)
        vx = lx + text_width("姓名", fl, s_lab * lab_track) + gap
        addr_w = max([text_width(t, fv) for t in lines] + [sum(text_width(t, fv) for t, _ in birth)])
        ls = s_val * ls_ratio
        pitch = min(s_val * pitch_ratio, (yb - s_id * 1.4 - y0 - (len(lines) - 1) * ls) / 3)
        if vx + addr_w < px0 - W * 0.015 and pitch >= s_val * 1.55:
            break
        s_val *= 0.96
    # Name, sex/ethnicity, birth rows.
    rows = [y0, y0 + pitch, y0 + 2 * pitch, y0 + 3 * pitch]
    draw_text(draw, lx + j(), rows[0] + j(), "姓名", fl, lab_col, s_lab * lab_track)
    draw_text(draw, vx + j(), rows[0] + j(), ident.name, fv, val_col)
    draw_text(draw, lx + j(), rows[1] + j(), "性别", fl, lab_col, s_lab * lab_track)
    end = draw_text(draw, vx + j(), rows[1] + j(), ident.sex, fv, val_col)
    eth_lx = max(end + s_val * 1.2, W * rng.uniform(0.27, 0.32))
    eth_vx = eth_lx + text_width("民族", fl, s_lab * lab_track) + gap
    eth_w = text_width(ident.ethnicity, fv)
    if eth_vx + eth_w > px0 - W * 0.015:  # long ethnicity names (柯尔克孜): pull the pair left
        shift = eth_vx + eth_w - (px0 - W * 0.015)
        eth_lx, eth_vx = eth_lx - shift, eth_vx - shift
    draw_text(draw, eth_lx + j(), rows[1] + j(), "民族", fl, lab_col, s_lab * lab_track)
    draw_text(draw, eth_vx + j(), rows[1] + j(), ident.ethnicity, fv, val_col)
    draw_text(draw, lx + j(), rows[2] + j(), "出生", fl, lab_col, s_lab * lab_track)
    x, yrow = vx + j(), rows[2] + j()
    tmpl_fnt = fl if rng.random() < 0.5 else fv
    for text, tmpl in birth:
        x = draw_text(draw, x, yrow, text, tmpl_fnt if tmpl else fv, tmpl_col if tmpl else val_col)
    # Address, one line per ~11 characters.
    draw_text(draw, lx + j(), rows[3] + j(), "住址", fl, lab_col, s_lab * lab_track)
    for i, line in enumerate(lines):
        draw_text(draw, vx + j() * 0.5, rows[3] + i * ls, line, fv, val_col)
    # Citizen ID number row at the bottom, letter-spaced like the card's OCR-B digits.
    id_lab_end = draw_text(draw, lx + j(), yb + j(), "公民身份号码", fl, lab_col,
                           s_lab * rng.uniform(0.0, 0.15))
    nx = max(id_lab_end + W * rng.uniform(0.03, 0.06), W * rng.uniform(0.32, 0.37))
    track = s_id * rng.uniform(0.02, 0.16)
    while nx + text_width(ident.id_number, fid, track) > W * 0.95 and track > 0:
        track = max(0.0, track - s_id * 0.02)
    while nx + text_width(ident.id_number, fid, track) > W * 0.95:
        s_id *= 0.96
        fid = font(id_font, s_id)
    draw_text(draw, nx, yb + j(), ident.id_number, fid, val_col, track)
    _portrait(img, (px0, py0, px1, py1), rng)
    return _finish_card(img, rng)


# ---------------------------------------------------------------- back (国徽面)

def _star(cx: float, cy: float, r: float, rot: float) -> list[tuple[float, float]]:
    pts = []
    for k in range(10):
        rr = r if k % 2 == 0 else r * 0.38
        a = rot + k * math.pi / 5 - math.pi / 2
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def _emblem(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, rng: random.Random) -> None:
    """Placeholder for the national emblem: red disc, gold ring, one large and four small stars,
    a gold arc band below. Deliberately not a copy of the real emblem."""
    red = (rng.randint(190, 225), rng.randint(20, 50), rng.randint(20, 45))
    gold = (rng.randint(215, 240), rng.randint(170, 200), rng.randint(40, 80))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=gold)
    draw.ellipse((cx - r * 0.86, cy - r * 0.86, cx + r * 0.86, cy + r * 0.86), fill=red)
    draw.polygon(_star(cx - r * 0.30, cy - r * 0.25, r * 0.30, 0), fill=gold)
    for k in range(4):
        a = -0.9 + k * 0.55
        draw.polygon(_star(cx - r * 0.30 + r * 0.52 * math.cos(a), cy - r * 0.25 + r * 0.52 * math.sin(a),
                           r * 0.10, a), fill=gold)
    draw.rectangle((cx - r * 0.5, cy + r * 0.35, cx + r * 0.5, cy + r * 0.48), fill=gold)
    draw.arc((cx - r * 0.75, cy - r * 0.75, cx + r * 0.75, cy + r * 0.75), 20, 160, fill=gold,
             width=max(2, int(r * 0.07)))


def format_validity(ident: Identity) -> str:
    start = ident.valid_from.strftime("%Y.%m.%d")
    end = ident.valid_until.strftime("%Y.%m.%d") if ident.valid_until else "长期"
    return f"{start}-{end}"


def render_back(ident: Identity, rng: random.Random, nprng: np.random.Generator,
                width: int | None = None) -> Image.Image:
    width = width or rng.randint(900, 1300)
    img, draw, W, H = _card_canvas(width, rng, nprng)
    fonts = available_fonts()
    title_font = rng.choice([f for f in fonts if "Bold" in f[0]] or list(fonts))
    lab_font, val_font = rng.choice(fonts), rng.choice(fonts)
    lab_col, val_col = _colours(rng)
    j = lambda: rng.uniform(-0.003, 0.003) * W  # noqa: E731

    r = W * rng.uniform(0.085, 0.105)
    _emblem(draw, W * rng.uniform(0.15, 0.19), H * rng.uniform(0.25, 0.30), r, rng)
    tx = W * rng.uniform(0.33, 0.37)
    title_col = (rng.randint(0, 40),) * 3
    for text, size, base, right in (("中华人民共和国", W * rng.uniform(0.042, 0.052), H * rng.uniform(0.20, 0.24), 0.94),
                                    ("居民身份证", W * rng.uniform(0.070, 0.085), H * rng.uniform(0.43, 0.48), 0.95)):
        track = size * rng.uniform(0.15, 0.45)
        fnt = font(title_font, size)
        while tx + text_width(text, fnt, track) > W * right:
            track *= 0.85
            if track < size * 0.05:
                size *= 0.95
                fnt, track = font(title_font, size), size * 0.1
        draw_text(draw, tx + j(), base, text, fnt, title_col, track)

    s_val = W * 0.039 * rng.uniform(0.87, 1.15)
    lab_ratio = rng.uniform(0.75, 0.92)
    lab_track = rng.choice([0.0, 0.0, rng.uniform(0.05, 0.25)])
    lx, gap = W * rng.uniform(0.17, 0.24), W * rng.uniform(0.025, 0.045)
    validity = format_validity(ident)
    for _ in range(30):
        fl, fv = font(lab_font, s_val * lab_ratio), font(val_font, s_val)
        vx = lx + text_width("签发机关", fl, s_val * lab_ratio * lab_track) + gap
        if vx + max(text_width(ident.issuing_authority, fv), text_width(validity, fv)) <= W * 0.95:
            break
        if lx > W * 0.12:
            lx -= W * 0.01
        else:
            s_val *= 0.96
    y1 = H * rng.uniform(0.71, 0.75)
    y2 = min(y1 + s_val * rng.uniform(1.8, 2.3), H * 0.91)
    for base, label, value in ((y1, "签发机关", ident.issuing_authority), (y2, "有效期限", validity)):
        draw_text(draw, lx + j(), base + j(), label, fl, lab_col, s_val * lab_ratio * lab_track)
        draw_text(draw, vx + j(), base + j(), value, fv, val_col)
    return _finish_card(img, rng)


# ---------------------------------------------------------------- variants

def _noise(arr: np.ndarray, sigma: float, nprng: np.random.Generator) -> np.ndarray:
    return np.clip(arr.astype(np.float32) + nprng.normal(0, sigma, arr.shape), 0, 255).astype(np.uint8)


def card_on_white(card: Image.Image, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    """Card flattened onto scanner-white with its edge visible, plus mild scanner noise.
    The white outside the card is left clean: real scans saturate there (and it keeps JPEGs small)."""
    rgba = np.asarray(card).astype(np.float32)
    a = rgba[..., 3:4] / 255.0
    rgb = _noise(rgba[..., :3], rng.uniform(0.5, 1.5), nprng).astype(np.float32)
    edge = cv2.GaussianBlur(rgba[..., 3], (0, 0), 1.0) / 255.0
    edge = (edge * (1 - edge) * 4)[..., None]  # 1 at the card outline, 0 elsewhere
    out = rgb * a + 255.0 * (1 - a)
    out = out * (1 - 0.35 * edge) + 150.0 * 0.35 * edge
    return np.clip(out, 0, 255).astype(np.uint8)


def _tilt(arr: np.ndarray, deg: float) -> np.ndarray:
    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    return cv2.warpAffine(arr, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))


def scan_image(card: Image.Image, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    arr = card_on_white(card, rng, nprng)
    if rng.random() < 0.5:  # lying on the scanner bed with a white margin
        h, w = arr.shape[:2]
        left, top = rng.randint(20, int(w * 0.12)), rng.randint(20, int(h * 0.15))
        bed = np.full((h + top + rng.randint(20, int(h * 0.5)),
                       w + left + rng.randint(20, int(w * 0.4)), 3), 255, np.uint8)
        bed[top:top + h, left:left + w] = arr
        arr = _tilt(bed, rng.uniform(-1.0, 1.0)) if rng.random() < 0.5 else bed
    return arr


def background_texture(w: int, h: int, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    """Wood, desk or cloth-like surface, darker than a card so its edge shows. float32 RGB."""
    kind = rng.choice(["wood", "desk", "cloth"])
    sw, sh = max(8, w // 8), max(8, h // 8)  # build at low resolution, then upsample: cheap
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    if kind == "wood":
        base = np.array([rng.randint(95, 150), rng.randint(60, 95), rng.randint(30, 55)], np.float32)
        streak = cv2.resize(nprng.normal(0, 1, (sh, max(2, sw // 30))).astype(np.float32), (sw, sh))
        grain = np.sin(yy * rng.uniform(0.15, 0.4) + 3 * streak + 2 * np.sin(xx * 0.02))
        field = 0.12 * grain + 0.05 * streak
    elif kind == "desk":
        v = rng.randint(50, 130)
        base = np.array([v + rng.randint(-10, 10), v + rng.randint(-10, 10), v + rng.randint(-5, 20)], np.float32)
        field = 0.06 * cv2.GaussianBlur(nprng.normal(0, 1, (sh, sw)).astype(np.float32), (0, 0), 3)
    else:
        base = np.array([rng.randint(40, 140), rng.randint(40, 120), rng.randint(50, 150)], np.float32)
        k = rng.uniform(0.8, 1.6)
        field = 0.08 * np.sin(xx * k) * np.sin(yy * k) + 0.04 * nprng.normal(0, 1, (sh, sw)).astype(np.float32)
    field = cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return base * (1 + field[..., None])


def _fit_quad(q: np.ndarray, fw: int, fh: int, margin: float) -> np.ndarray:
    """Scale/shift the quadrilateral so it lies fully inside the frame with a margin."""
    lo, hi = q.min(0), q.max(0)
    scale = min(1.0, (fw - 2 * margin) / (hi[0] - lo[0]), (fh - 2 * margin) / (hi[1] - lo[1]))
    c = q.mean(0)
    q = c + (q - c) * scale
    lo, hi = q.min(0), q.max(0)
    shift = np.maximum(0, margin - lo) - np.maximum(0, hi - np.array([fw - margin, fh - margin]))
    return q + shift


def photo_card_width(rng: random.Random) -> tuple[int, float, int]:
    """(frame width, card fraction of it, width to render the card at).

    The card is rendered at about its on-frame size so the warp does not upsample text."""
    fw = rng.randint(1600, 3000)
    frac = rng.uniform(0.45, 0.80)
    return fw, frac, int(min(2400, max(900, fw * frac)))


def photo_image(card: Image.Image, rng: random.Random, nprng: np.random.Generator,
                frame_w: int, frac: float) -> np.ndarray:
    fw, fh = frame_w, int(frame_w * rng.choice([0.75, 0.75, 0.5625]))
    cw, ch = card.size
    bg = background_texture(fw, fh, rng, nprng)
    tw = fw * frac
    th = tw * CARD_ASPECT
    ang = math.radians(rng.uniform(-6, 6))
    rect = np.array([[-tw / 2, -th / 2], [tw / 2, -th / 2], [tw / 2, th / 2], [-tw / 2, th / 2]])
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    centre = np.array([fw * rng.uniform(0.35, 0.65), fh * rng.uniform(0.35, 0.65)])
    quad = rect @ rot.T + centre + np.array([[rng.uniform(-0.08, 0.08) * tw for _ in range(2)]
                                             for _ in range(4)])
    quad = _fit_quad(quad, fw, fh, margin=fw * 0.02)
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]]), np.float32(quad))
    warped = cv2.warpPerspective(np.asarray(card), m, (fw, fh), flags=cv2.INTER_AREA if tw < cw else cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0)).astype(np.float32)
    a = warped[..., 3:4] / 255.0
    # Soft drop shadow under the card.
    sh = cv2.GaussianBlur(warped[..., 3], (0, 0), fw * rng.uniform(0.004, 0.012)) / 255.0
    sh = np.roll(sh, (rng.randint(2, 15), rng.randint(-10, 10)), axis=(0, 1))[..., None]
    bg = bg * (1 - rng.uniform(0.3, 0.55) * sh)
    out = bg * (1 - a) + warped[..., :3] * a
    # Lighting: a linear gradient plus a soft radial falloff.
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    la = rng.uniform(0, 2 * math.pi)
    t = ((xx - fw / 2) * math.cos(la) + (yy - fh / 2) * math.sin(la)) / max(fw, fh)
    light = 1 + rng.uniform(0.1, 0.35) * t
    r2 = ((xx - fw * rng.uniform(0.3, 0.7)) ** 2 + (yy - fh * rng.uniform(0.3, 0.7)) ** 2) / (fw * fw)
    light = light * (1.05 - rng.uniform(0.1, 0.35) * r2)
    # Brightest spot just about 1: a pale card would otherwise clip to flat white.
    light *= rng.uniform(0.92, 1.02) / float(light.max())
    out = out * light[..., None]
    # Sensor noise, then the blur (focus/shake; also the phone's own denoising softens noise).
    out = out + nprng.normal(0, rng.uniform(0.5, 1.6), out.shape[:2] + (1,)).astype(np.float32)
    sigma = rng.uniform(0, 1.2)
    if sigma > 0.2:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    return np.clip(out, 0, 255).astype(np.uint8)


def combo_page(front: Image.Image, back: Image.Image, rng: random.Random,
               nprng: np.random.Generator) -> np.ndarray:
    """Front above back on one white A4-proportioned page, as people photocopy them."""
    cw, ch = front.size
    pw = int(cw * rng.uniform(1.6, 2.2))
    ph = int(pw * 1.414)
    page = np.full((ph, pw, 3), 255, np.uint8)
    y = int(ph * rng.uniform(0.06, 0.14))
    for card in (front, back):
        arr = card_on_white(card, rng, nprng)
        if rng.random() < 0.5:
            pad = 12
            arr = _tilt(np.pad(arr, ((pad, pad), (pad, pad), (0, 0)), constant_values=255),
                        rng.uniform(-1.0, 1.0))
        h, w = arr.shape[:2]
        x = int((pw - w) / 2 + pw * rng.uniform(-0.06, 0.06))
        page[y:y + h, x:x + w] = np.minimum(page[y:y + h, x:x + w], arr)
        y += h + int(ch * rng.uniform(0.15, 0.5))
    return page


def rotate(arr: np.ndarray, degrees_cw: int) -> np.ndarray:
    """Rotate by 0/90/180/270 degrees clockwise."""
    return np.ascontiguousarray(np.rot90(arr, k=-(degrees_cw // 90) % 4))


def save_jpeg(arr: np.ndarray, path: str, quality: int) -> None:
    Image.fromarray(arr, "RGB").save(path, "JPEG", quality=quality, optimize=True)
