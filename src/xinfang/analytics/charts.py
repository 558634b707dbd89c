"""Small PNG charts for the DOCX reports, drawn with Pillow (no plotting library needed; works
offline). Labels use the CJK font the PDF documents use (XINFANG_PDF_FONT or a Debian font)."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

W, H = 1200, 560
PAD_L, PAD_R, PAD_T, PAD_B = 90, 30, 90, 120
BLUE = (47, 102, 176)
GREY = (200, 205, 212)
INK = (33, 37, 41)


@lru_cache(maxsize=4)
def _font(size: int):
    from xinfang.documents.render import FONT_CANDIDATES

    configured = (getattr(settings, "PDF_FONT", "") or "").strip()
    for path in ([configured] if configured else []) + FONT_CANDIDATES:
        if path and Path(path).is_file():
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    return ImageFont.load_default()


def _frame(title: str, vmax: float):
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    d.text((PAD_L, 16), title, fill=INK, font=_font(28))
    vmax = vmax or 1
    for i in range(5):
        y = H - PAD_B - (H - PAD_B - PAD_T) * i / 4
        d.line([(PAD_L, y), (W - PAD_R, y)], fill=GREY, width=1)
        value = vmax * i / 4
        d.text((10, y - 10), f"{value:.0f}" if vmax >= 8 else f"{value:.1f}", fill=INK, font=_font(18))
    return img, d, vmax


def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def bar_png(title: str, labels: list[str], values: list[float]) -> bytes:
    """A vertical bar chart."""
    img, d, vmax = _frame(title, max(values, default=0))
    n = max(len(values), 1)
    slot = (W - PAD_L - PAD_R) / n
    for i, (label, v) in enumerate(zip(labels, values)):
        x0 = PAD_L + i * slot + slot * 0.15
        x1 = PAD_L + (i + 1) * slot - slot * 0.15
        y = H - PAD_B - (H - PAD_B - PAD_T) * (v / vmax)
        d.rectangle([x0, y, x1, H - PAD_B], fill=BLUE)
        d.text((x0, y - 24), f"{v:g}", fill=INK, font=_font(18))
        d.text((x0, H - PAD_B + 8), str(label)[:6], fill=INK, font=_font(18))
        if len(str(label)) > 6:
            d.text((x0, H - PAD_B + 32), str(label)[6:12], fill=INK, font=_font(18))
    return _png(img)


def line_png(title: str, labels: list[str], values: list[float]) -> bytes:
    """A line chart (trends)."""
    img, d, vmax = _frame(title, max(values, default=0))
    n = len(values)
    if n:
        step = (W - PAD_L - PAD_R) / max(n - 1, 1)
        pts = [(PAD_L + i * step, H - PAD_B - (H - PAD_B - PAD_T) * (v / vmax)) for i, v in enumerate(values)]
        if n > 1:
            d.line(pts, fill=BLUE, width=4)
        every = max(1, n // 12)
        for i, (x, y) in enumerate(pts):
            d.ellipse([x - 5, y - 5, x + 5, y + 5], fill=BLUE)
            if i % every == 0:
                d.text((x - 30, H - PAD_B + 8), str(labels[i])[-5:], fill=INK, font=_font(18))
    return _png(img)
