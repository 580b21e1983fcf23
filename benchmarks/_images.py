"""Photo-like test images for the benchmarks, generated so nothing is downloaded or shipped."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def size_4_3(megapixels: float) -> tuple[int, int]:
    """(width, height) of a 4:3 image of about ``megapixels``, the shape every benchmark uses."""
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    return width, int(width * 3 / 4)


def photo_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth gradients, a few soft shapes and sensor-like noise: compresses like a photo, not like flat art."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            120 + 80 * np.sin(x / width * 3.1 + seed),
            110 + 70 * np.cos(y / height * 2.3),
            140 + 60 * np.sin((x + y) / (width + height) * 4.0),
        ],
        axis=-1,
    )
    base += rng.normal(0, 6, base.shape).astype(np.float32)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        cx, cy = rng.integers(0, width), rng.integers(0, height)
        r = int(rng.integers(min(width, height) // 20, min(width, height) // 6))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image.filter(ImageFilter.GaussianBlur(1.2))


def soft_matte(width: int, height: int) -> Image.Image:
    """An alpha matte like a portrait cutout: a large opaque blob with a soft, partly transparent edge."""
    matte = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(matte)
    draw.ellipse((width * 0.25, height * 0.15, width * 0.75, height * 1.1), fill=255)
    draw.ellipse((width * 0.38, height * 0.02, width * 0.62, height * 0.35), fill=255)
    return matte.filter(ImageFilter.GaussianBlur(max(2, width // 400)))
