"""Shared pieces for the synthetic income certificates and bank statements.

Both documents are drawn once, with reportlab, as a born-digital PDF page (a real Unicode text
layer); the scan, grey scan, photo and image-only PDF variants are made by rasterising that PDF
with pypdfium2 and degrading the pixels. One renderer therefore serves every variant and the
ground truth cannot drift between them. Everything random comes from the caller's seeded
generators; reportlab runs in ``invariant`` mode so the PDF bytes are identical for a seed.

Employers, contact people and phone numbers are invented.
"""

from __future__ import annotations

import functools
import io
import math
import random
from decimal import ROUND_HALF_UP, Decimal

import cv2
import numpy as np
from PIL import Image, ImageDraw

from loandocs.samplegen import idcard

A4 = (595.2756, 841.8898)  # points; reportlab.lib.pagesizes.A4 without importing reportlab here

# (registered name, path, face index, style). Only TrueType-outline fonts: reportlab cannot
# embed the CFF-based Noto CJK collections, so those are left out (and any font that fails to
# register is skipped rather than breaking the generator).
PDF_FONT_CANDIDATES = (
    ("LD-ZenHei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, "sans"),
    ("LD-MicroHei", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, "sans"),
    ("LD-UMing", "/usr/share/fonts/truetype/arphic/uming.ttc", 0, "serif"),
    ("LD-UKai", "/usr/share/fonts/truetype/arphic/ukai.ttc", 0, "kai"),
    ("LD-WenKai", "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0, "kai"),
    ("LD-WenKai-Bold", "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Bold.ttf", 0, "bold"),
)


@functools.lru_cache(maxsize=1)
def pdf_fonts() -> dict[str, tuple[str, ...]]:
    """Register the usable CJK fonts with reportlab once; returns style -> font names."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    out: dict[str, list[str]] = {}
    for name, path, index, style in PDF_FONT_CANDIDATES:
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except Exception:  # missing file or unsupported outlines: just not offered
            continue
        out.setdefault(style, []).append(name)
    if not out:
        raise RuntimeError("no embeddable CJK font found; install fonts-wqy-zenhei")
    return {k: tuple(v) for k, v in out.items()}


def pick_font(rng: random.Random, *styles: str) -> str:
    fonts = pdf_fonts()
    names = [n for s in styles for n in fonts.get(s, ())]
    return rng.choice(names or [n for v in fonts.values() for n in v])


def string_width(text: str, font_name: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, font_name, size)


def wrap_text(text: str, font_name: str, size: float, width: float) -> list[str]:
    """Greedy character wrap (CJK has no spaces to break at); never splits inside a run of
    ASCII digits/letters unless that run alone is wider than the column."""
    tokens, cur = [], ""
    for ch in text:
        if ch.isascii() and ch.isalnum() and cur and cur[-1].isascii() and cur[-1].isalnum():
            cur += ch
        else:
            if cur:
                tokens.append(cur)
            cur = ch
    if cur:
        tokens.append(cur)
    lines, line = [], ""
    for tok in tokens:
        if string_width(line + tok, font_name, size) <= width or not line:
            line += tok
        else:
            lines.append(line)
            line = tok
        while string_width(line, font_name, size) > width and len(line) > 1:
            cut = len(line)
            while cut > 1 and string_width(line[:cut], font_name, size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines or [""]


def new_canvas(buf: io.BytesIO, title: str):
    from reportlab.pdfgen import canvas

    cv = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
    cv.setTitle(title)
    cv.setCreator("loandocs synthetic sample")
    return cv


def bold_text(cv, x: float, y: float, text: str, font_name: str, size: float,
              align: str = "left", weight: float = 0.035) -> None:
    """Fake-bold (fill + thin stroke) so that every font can head a page; the text layer keeps
    plain Unicode."""
    cv.saveState()
    cv.setFont(font_name, size)
    cv.setLineWidth(size * weight)
    t = cv.beginText()
    t.setTextRenderMode(2)
    t.setFont(font_name, size)
    w = string_width(text, font_name, size)
    t.setTextOrigin(x - (w if align == "right" else w / 2 if align == "centre" else 0), y)
    t.textOut(text)
    cv.drawText(t)
    cv.restoreState()


# ---------------------------------------------------------------- money, dates, words

def cents(x: float | Decimal | str) -> int:
    return int((Decimal(str(x)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def money(c: int, sep: bool = True, sign: str = "") -> str:
    """Cents -> ``18,500.00``; sign ``+`` prints ``+`` for credits, ``-`` only for debits."""
    s = f"{abs(c) / 100:,.2f}" if sep else f"{abs(c) / 100:.2f}"
    if c < 0:
        return "-" + s
    return ("+" + s) if sign == "+" else s


_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def _group_upper(n: int) -> str:
    """0 < n < 10000 in capital numerals, with 零 for inner zero runs."""
    out, zero = "", False
    for unit, div in (("仟", 1000), ("佰", 100), ("拾", 10), ("", 1)):
        d = n // div % 10
        if d:
            if zero and out:
                out += "零"
            out += _DIGITS[d] + unit
            zero = False
        else:
            zero = True
    return out


def rmb_upper(c: int) -> str:
    """Amount in cents -> capital form as written on cheques: 壹万捌仟伍佰元整,
    壹万零伍佰元伍角, 贰仟元零捌分. Supports < 1e12 yuan."""
    yuan, jiao, fen = c // 100, c // 10 % 10, c % 10
    parts, need_zero = [], False
    for unit, div in (("亿", 10 ** 8), ("万", 10 ** 4), ("", 1)):
        g = yuan // div % 10000
        if g:
            if parts and (need_zero or g < 1000):
                parts.append("零")
            parts.append(_group_upper(g) + unit)
            need_zero = False
        elif parts:
            need_zero = True
    text = "".join(parts) or "零"
    text += "元"
    if not jiao and not fen:
        return text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return text


_CN_NUM = "〇一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..31 as written in formal dates: 五, 十一, 二十, 三十一."""
    if n < 10:
        return _CN_NUM[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_NUM[tens]) + "十" + (_CN_NUM[ones] if ones else "")


def cn_date(d, style: str) -> str:
    if style == "cjk":  # 二〇二六年十一月五日
        return "".join(_CN_NUM[int(c)] for c in str(d.year)) + f"年{cn_number(d.month)}月{cn_number(d.day)}日"
    if style == "pad":
        return f"{d.year}年{d.month:02d}月{d.day:02d}日"
    return f"{d.year}年{d.month}月{d.day}日"


# ---------------------------------------------------------------- invented employers, phones

_CITIES = ("北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "苏州", "天津",
           "重庆", "长沙", "郑州", "青岛", "合肥", "厦门", "宁波", "昆明", "大连")
_WORDS = ("云帆", "瑞达", "恒信", "博远", "启明", "华拓", "鼎新", "汇智", "中科宏", "远航", "卓越",
          "嘉禾", "青松", "金桥", "星河", "拓维", "锦程", "海纳", "正元", "盛世", "和泰", "致远",
          "新瑞", "腾跃", "润丰", "明德", "睿思", "优联", "广域", "同创")
_TRADES = ("信息技术", "网络科技", "软件", "电子科技", "建筑工程", "医疗器械", "物流", "贸易",
           "餐饮管理", "文化传媒", "教育咨询", "生物医药", "机械制造", "商务咨询", "环保科技",
           "新能源", "供应链管理", "房地产开发", "汽车销售服务", "食品")
_KINDS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司")
POSITIONS = ("软件工程师", "高级工程师", "销售经理", "财务主管", "行政专员", "项目经理", "会计",
             "人力资源专员", "产品经理", "运营总监", "技术员", "客户经理", "部门经理", "设计师",
             "采购专员", "质量工程师", "市场专员", "出纳", "总经理助理", "区域销售代表", "测试工程师",
             "数据分析师", "法务专员", "生产主管", "研发工程师")
_AREA_CODES = {"北京": "010", "上海": "021", "广州": "020", "深圳": "0755", "杭州": "0571",
               "南京": "025", "成都": "028", "武汉": "027", "西安": "029", "苏州": "0512",
               "天津": "022", "重庆": "023", "长沙": "0731", "郑州": "0371", "青岛": "0532",
               "合肥": "0551", "厦门": "0592", "宁波": "0574", "昆明": "0871", "大连": "0411"}


def random_employer(rng: random.Random) -> tuple[str, str]:
    """(invented company name, its city)."""
    city = rng.choice(_CITIES)
    name = city + rng.choice(_WORDS) + rng.choice(_TRADES) + rng.choice(_KINDS)
    if rng.random() < 0.15:  # a branch office: long names wrap and stretch the seal text
        name += rng.choice(("高新", "经开", "城东", "城南", "第一", "第二")) + "分公司"
    return name, city


def random_mobile(rng: random.Random) -> str:
    return rng.choice(("13", "15", "17", "18", "19")) + str(rng.randint(0, 9)) + \
        "".join(str(rng.randint(0, 9)) for _ in range(8))


def random_landline(rng: random.Random, city: str) -> str:
    code = _AREA_CODES.get(city, "010")
    n = 8 if len(code) == 3 or rng.random() < 0.8 else 7
    return f"{code}-{rng.randint(2, 8)}" + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


# ---------------------------------------------------------------- seal

def _star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    pts = []
    for k in range(10):
        rr = r if k % 2 == 0 else r * 0.382
        a = k * math.pi / 5 - math.pi / 2
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def seal_image(text: str, rng: random.Random, nprng: np.random.Generator,
               sub_text: str = "", size: int = 400) -> Image.Image:
    """Red round company seal as RGBA: outer ring, thin inner ring, star, the employer name
    along the upper arc, an optional horizontal line below the star. The ink is uneven and
    semi-transparent, as a stamp is, so text underneath stays partly visible."""
    scale = 2  # draw large, shrink at the end: smooth edges
    S = size * scale
    mask = Image.new("L", (S, S), 0)
    d = ImageDraw.Draw(mask)
    c, R = S / 2, S / 2 - 4 * scale
    ring = R * rng.uniform(0.045, 0.06)
    d.ellipse((c - R, c - R, c + R, c + R), outline=255, width=int(ring))
    r2 = R - ring - R * rng.uniform(0.025, 0.04)
    d.ellipse((c - r2, c - r2, c + r2, c + r2), outline=255, width=max(2, int(ring * 0.3)))
    d.polygon(_star(c, c + R * rng.uniform(-0.04, 0.02), R * rng.uniform(0.24, 0.3)), fill=255)
    fspec = rng.choice([f for f in idcard.available_fonts() if "wqy" in f[0] or "uming" in f[0]]
                       or list(idcard.available_fonts()))
    # Characters along the upper arc, each turned so its foot points at the centre; seal type
    # is bold and condensed, and the name fills 200-240 degrees of the ring.
    n = len(text)
    span = math.radians(min(240.0, 80.0 + 13.0 * n))
    rad0 = r2 - R * 0.16
    ch_size = min(R * 0.27, 0.88 * rad0 * span / max(1, n) / 0.78)
    fnt = idcard.font(fspec, ch_size)
    rad = r2 - ch_size * 0.6
    stroke = max(1, int(ch_size * 0.035))
    for i, ch in enumerate(text):
        ang = -math.pi / 2 - span / 2 + span * (i + 0.5) / n  # screen angle, -90deg = top
        tile = Image.new("L", (int(ch_size * 1.6),) * 2, 0)
        ImageDraw.Draw(tile).text((tile.width / 2, tile.height / 2), ch, font=fnt, fill=255, anchor="mm",
                                  stroke_width=stroke, stroke_fill=255)
        tile = tile.transform(tile.size, Image.AFFINE, (1 / 0.78, 0, -tile.width * (1 / 0.78 - 1) / 2, 0, 1, 0),
                              Image.BICUBIC)
        tile = tile.rotate(-math.degrees(ang + math.pi / 2), Image.BICUBIC)
        x, y = c + rad * math.cos(ang), c + rad * math.sin(ang)
        mask.paste(255, (int(x - tile.width / 2), int(y - tile.height / 2)), tile)
    if sub_text:
        sf = idcard.font(fspec, R * 0.16)
        d.text((c, c + R * 0.55), sub_text, font=sf, fill=255, anchor="mm", stroke_width=stroke // 2 + 1,
               stroke_fill=255)
    m = np.asarray(mask.resize((size, size), Image.LANCZOS), np.float32) / 255.0
    # Uneven ink: low-frequency density variation plus a few faint patches.
    low = cv2.resize(nprng.normal(0, 1, (8, 8)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(nprng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 1.2)
    ink = np.clip(rng.uniform(0.72, 0.88) + 0.10 * low + 0.12 * fine, 0.25, 0.95)
    alpha = Image.fromarray((m * ink * 255).astype(np.uint8), "L").rotate(rng.uniform(-25, 25), Image.BICUBIC)
    # Flat colour and 32 alpha levels: the embedded image compresses to a fraction (PDF size).
    alpha = Image.fromarray(np.asarray(alpha) // 8 * 8)
    red = (rng.randint(200, 235), rng.randint(20, 55), rng.randint(30, 60))
    img = Image.new("RGB", (size, size), red)
    img.putalpha(alpha)
    return img


def draw_seal(cv, img: Image.Image, cx: float, cy: float, diameter: float) -> None:
    from reportlab.lib.utils import ImageReader

    # Multiply, as ink on paper: printed text under the stamp stays dark and readable.
    cv.saveState()
    cv.setBlendMode("Multiply")
    cv.drawImage(ImageReader(img), cx - diameter / 2, cy - diameter / 2, diameter, diameter, mask="auto")
    cv.restoreState()


# ---------------------------------------------------------------- raster variants

def rasterise(pdf: bytes, dpi: float) -> list[np.ndarray]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [np.asarray(doc[i].render(scale=dpi / 72.0).to_pil().convert("RGB")) for i in range(len(doc))]
    finally:
        doc.close()


def scan_effect(arr: np.ndarray, rng: random.Random, nprng: np.random.Generator,
                gray: bool = False) -> np.ndarray:
    """Flatbed scan: slightly off-white paper, a small tilt, soft focus, mild sensor noise.
    Noise stays low because it is what makes the checked-in JPEGs large."""
    img = arr.astype(np.float32)
    h, w = img.shape[:2]
    paper = np.array([rng.uniform(238, 252)] * 3, np.float32) + np.array([rng.uniform(-3, 3) for _ in range(3)])
    img = img / 255.0 * paper
    shade = np.linspace(rng.uniform(0.96, 1.0), rng.uniform(0.96, 1.0), w, dtype=np.float32)
    img *= shade[None, :, None]
    deg = rng.uniform(-1.2, 1.2)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=tuple(float(v) for v in paper))
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.35, 0.7))
    img += nprng.normal(0, rng.uniform(0.8, 2.0), (h, w, 1)).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if gray:
        return cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)
    return out


def photo_effect(page: np.ndarray, rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    """A printed page photographed on a desk: perspective, background, shadow, uneven light.
    Follows idcard.photo_image, but for an A4 sheet instead of an ID-1 card."""
    ph, pw = page.shape[:2]
    fw = rng.randint(1500, 2000)
    fh = int(fw * 4 / 3)  # phone held upright
    bg = idcard.background_texture(fw, fh, rng, nprng)
    th = fh * rng.uniform(0.78, 0.9)
    tw = th * pw / ph
    ang = math.radians(rng.uniform(-5, 5))
    rect = np.array([[-tw / 2, -th / 2], [tw / 2, -th / 2], [tw / 2, th / 2], [-tw / 2, th / 2]])
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    quad = rect @ rot.T + np.array([fw / 2, fh / 2])
    # Keystone: the top edge further from the camera than the bottom one.
    k = rng.uniform(0.02, 0.08) * tw
    quad += np.array([[k, 0], [-k, 0], [0, 0], [0, 0]]) + nprng.uniform(-0.02, 0.02, (4, 2)) * tw
    lo, hi = quad.min(0), quad.max(0)
    margin = fw * 0.02
    s = min(1.0, (fw - 2 * margin) / (hi[0] - lo[0]), (fh - 2 * margin) / (hi[1] - lo[1]))
    quad = (quad - quad.mean(0)) * s + np.array([fw / 2, fh / 2])
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    m = cv2.getPerspectiveTransform(src, np.float32(quad))
    rgba = np.dstack([page, np.full((ph, pw), 255, np.uint8)])
    warped = cv2.warpPerspective(rgba, m, (fw, fh), flags=cv2.INTER_AREA,
                                 borderValue=(0, 0, 0, 0)).astype(np.float32)
    a = warped[..., 3:4] / 255.0
    sh = cv2.GaussianBlur(warped[..., 3], (0, 0), fw * 0.01) / 255.0
    sh = np.roll(sh, (rng.randint(4, 18), rng.randint(-12, 12)), axis=(0, 1))[..., None]
    out = bg * (1 - rng.uniform(0.3, 0.5) * sh)
    out = out * (1 - a) + warped[..., :3] * a
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    la = rng.uniform(0, 2 * math.pi)
    light = 1 + rng.uniform(0.08, 0.25) * ((xx - fw / 2) * math.cos(la) + (yy - fh / 2) * math.sin(la)) / fh
    light *= rng.uniform(0.9, 1.0) / float(light.max())
    out = out * light[..., None] + nprng.normal(0, rng.uniform(0.6, 1.5), (fh, fw, 1)).astype(np.float32)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 0.9))
    return np.clip(out, 0, 255).astype(np.uint8)


def jpeg_bytes(arr: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, "L" if arr.ndim == 2 else "RGB").save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def draw_page_image(cv, jpeg: bytes, fit: bool = False) -> None:
    """One image as a whole A4 page (image-only PDF page: no text layer). ``fit`` keeps the
    aspect of a non-A4 image and centres it on a white page."""
    from reportlab.lib.utils import ImageReader

    img = ImageReader(io.BytesIO(jpeg))
    iw, ih = img.getSize()
    W, H = A4
    if fit:
        s = min(W / iw, H / ih) * 0.94
        w, h = iw * s, ih * s
        cv.drawImage(img, (W - w) / 2, H - h - (W - w) / 2, w, h)
    else:
        cv.drawImage(img, 0, 0, W, H)
    cv.showPage()
