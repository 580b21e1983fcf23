"""The visible watermark of ``test=true`` results, so a free test image is never mistaken for a real one."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

TEXT = "PIXCUT TEST"
COLOR = (255, 0, 170)


def apply_test_watermark(image: Image.Image) -> Image.Image:
    """Overlay diagonal bands and repeated text, half-opaque, across the whole image."""
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    step = max(24, min(width, height) // 4)
    band = max(2, step // 10)
    for offset in range(-height, width, step):
        draw.line([(offset, height), (offset + height, 0)], fill=COLOR + (110,), width=band)
    font_size = max(10, step // 4)
    try:
        font = ImageFont.load_default(size=font_size)
    except TypeError:  # Pillow < 10.1 has only the fixed-size bitmap font
        font = ImageFont.load_default()
    for y in range(step // 3, height, step):
        for x in range(-(y % step), width, step * 2):
            draw.text((x, y), TEXT, fill=COLOR + (170,), font=font)
    base = image.convert("RGBA")
    out = Image.alpha_composite(base, overlay)
    return out.convert(image.mode) if image.mode != "RGBA" else out
