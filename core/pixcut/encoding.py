"""The output layer: a finished image becomes PNG, JPEG or WebP bytes, here and nowhere else.

``options -> backend -> finishing -> output``: finishing decides the pixels, this
module decides the bytes. Keeping every encoder parameter in one place means the
offline backend, ``pixcut serve`` and the cloud client's local finishing write
identical files, and speed tuning (the PNG compression level) happens once.

What travels from the input into the output (``OutputMetadata``): the ICC profile
always (a Display P3 or Adobe RGB photo must not be reinterpreted as sRGB), EXIF
and XMP only when the caller asked to keep them, with the orientation already reset
to 1 by the reader because the pixels were made upright. A mask is a matte, not a
colour image: it carries none of these.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, PngImagePlugin

from pixcut import png_writer
from pixcut.options import DEFAULT_PNG_COMPRESSION

JPEG_DEFAULT_QUALITY = 75
# -- WebP: lossless uses libwebp's fastest effort, as fast as pixcut's PNG or faster and about as small
# or smaller; Pillow's default (method 4, effort 80) is 6-30x slower for 0.6-0.7x the bytes
# (benchmarks/output_formats.py prints both against PNG in one run).
WEBP_LOSSLESS_METHOD = 0  # libwebp method 0..6 (speed/size)
WEBP_LOSSLESS_EFFORT = 0  # lossless "quality" is effort, not fidelity
WEBP_LOSSY_METHOD = 4  # libwebp's default balance; lossy is fast at any method
XMP_PNG_KEY = "XML:com.adobe.xmp"  # the iTXt keyword Adobe's XMP spec gives for PNG


@dataclass(frozen=True)
class OutputMetadata:
    """Input metadata to embed in the output. ``exif`` must already say orientation 1."""

    icc_profile: bytes | None = None
    exif: bytes | None = None
    xmp: bytes | None = None


NO_METADATA = OutputMetadata()


def flatten(image: Image.Image, color: str) -> Image.Image:
    """Composite over an opaque colour ('#RRGGBB'); the result is RGB."""
    background = Image.new("RGB", image.size, color)
    if image.mode == "RGBA":
        background.paste(image, mask=image.getchannel("A"))
    else:
        background.paste(image)
    return background


def encode(
    image: Image.Image,
    fmt: str,
    jpeg_quality: int = JPEG_DEFAULT_QUALITY,
    *,
    webp_quality: int | None = None,
    metadata: OutputMetadata = NO_METADATA,
    png_compression: int = DEFAULT_PNG_COMPRESSION,
) -> bytes:
    """Encode a finished image as 'png', 'jpeg' or 'webp'.

    JPEG flattens transparency over white (it has no alpha). WebP is lossless with
    alpha unless ``webp_quality`` (1..100) asks for lossy. A grey ("L") image, a
    mask, is written as 8-bit greyscale PNG/JPEG (WebP has no grey mode: libwebp
    stores it as RGB with equal channels).
    """
    buffer = io.BytesIO()
    # Every field is given explicitly, also when empty: Pillow otherwise falls back to what the
    # image object carries in ``info`` (e.g. the input's ICC profile on a mask cut from it).
    extra: dict[str, Any] = {
        "icc_profile": metadata.icc_profile if image.mode != "L" else None,
        "exif": metadata.exif or b"",
    }
    if fmt == "jpeg":
        rgb = image if image.mode in ("RGB", "L") else _to_rgb_over_white(image)
        extra["xmp"] = metadata.xmp or b""
        rgb.save(buffer, "JPEG", quality=jpeg_quality, **extra)
    elif fmt in ("png", "delta_png"):
        if metadata.xmp:
            info = PngImagePlugin.PngInfo()
            info.add_itxt(XMP_PNG_KEY, metadata.xmp.decode("utf-8", "replace"))
            extra["pnginfo"] = info
        if png_writer.supports(image):
            return png_writer.write_png(image, png_compression, **extra)
        image.save(buffer, "PNG", **png_parameters(png_compression), **extra)
    elif fmt == "webp":
        extra["xmp"] = metadata.xmp or b""
        if webp_quality is None:
            image.save(
                buffer, "WEBP", lossless=True, quality=WEBP_LOSSLESS_EFFORT, method=WEBP_LOSSLESS_METHOD, **extra
            )
        else:
            image.save(buffer, "WEBP", quality=webp_quality, method=WEBP_LOSSY_METHOD, **extra)
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    return buffer.getvalue()


def png_parameters(level: int) -> dict[str, int]:
    """Pillow's PNG arguments for a pixcut compression level, for the modes png_writer leaves to Pillow."""
    zlevel, strategy = png_writer.zlib_settings(level)
    return {"compress_level": zlevel, "compress_type": strategy}


def _to_rgb_over_white(image: Image.Image) -> Image.Image:
    return flatten(image, "#FFFFFF") if image.mode == "RGBA" else image.convert("RGB")
