"""Reading input images the way the API does, with the API's limits.

EXIF orientation is applied first (the API reports it in ``X-Input-Orientation``),
then the 32-megapixel limit is checked from the header alone, before any pixel
is decoded, so a decompression bomb costs nothing. Truncated or unreadable files
raise ``ImageError`` instead of crashing a batch or a server worker.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pixcut.errors import ImageError, ImageTooLargeError, UnsupportedImageError

MAX_INPUT_PIXELS = 32_000_000
ACCEPTED_FORMATS = frozenset({"BMP", "GIF", "JPEG", "PNG", "TIFF", "MPO"})
ImageSource = str | os.PathLike[str] | bytes | Image.Image


@dataclass
class InputImage:
    """A decoded input: upright pixels plus what the result headers report about it."""

    image: Image.Image  # mode RGB or RGBA, EXIF orientation applied
    orientation: int
    size: tuple[int, int]  # (width, height) after orientation, before any size limit
    format: str | None


def read_bytes(source: str | os.PathLike[str] | bytes) -> bytes:
    """The file's bytes; a path that cannot be read becomes an ``ImageError``."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot read {os.fspath(source)!r}: {exc.strerror or exc}") from None


_ORIENT_OPS: dict[int, tuple[Image.Transpose, ...]] = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Make an image upright for an EXIF orientation value (1-8), as the API does before anything else."""
    for op in _ORIENT_OPS.get(orientation, ()):
        image = image.transpose(op)
    return image


def exif_orientation(image: Image.Image) -> int:
    try:
        value = int(image.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block must not make a readable image unreadable
        return 1
    return value if 1 <= value <= 8 else 1


def load_input(
    source: ImageSource, *, max_input_pixels: int = MAX_INPUT_PIXELS, orientation: int | None = None
) -> InputImage:
    """Open, check limits, decode and orient an input image.

    ``orientation`` overrides the file's own EXIF value (the Delta PNG rebuild must
    apply what the server reported in ``X-Input-Orientation``).
    """
    if isinstance(source, Image.Image):
        image = source
        orientation = exif_orientation(image) if orientation is None else orientation
        fmt = image.format
        _check_pixels(image.size, max_input_pixels)
        image = _normalise_mode(apply_orientation(image, orientation) if orientation != 1 else image.copy())
        return InputImage(image, orientation, image.size, fmt)

    data = read_bytes(source)
    if not data:
        raise ImageError("Failed to read the supplied image: the file is empty")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UnsupportedImageError(
            "Failed to read the supplied image: not a BMP, GIF, JPEG, PNG or TIFF file"
        ) from None
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"The supplied image is larger than {max_input_pixels:,} pixels") from None
    except Exception as exc:
        raise ImageError(f"Failed to read the supplied image: {exc}") from None
    if image.format not in ACCEPTED_FORMATS:
        raise UnsupportedImageError(f"Unsupported image type {image.format}: use BMP, GIF, JPEG, PNG or TIFF")
    _check_pixels(image.size, max_input_pixels)
    if orientation is None:
        orientation = exif_orientation(image)
    try:
        image.load()
        if orientation != 1:
            image = apply_orientation(image, orientation)
        image = _normalise_mode(image)
    except Exception as exc:
        raise ImageError(f"Failed to read the supplied image: {exc}") from None
    return InputImage(image, orientation, image.size, getattr(image, "format", None) or "PNG")


def _check_pixels(size: tuple[int, int], limit: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"Failed to read the supplied image: invalid size {width}x{height}")
    if width * height > limit:
        raise ImageTooLargeError(
            f"The supplied image is {width}x{height} = {width * height:,} pixels; "
            f"the largest accepted input is {limit:,} pixels"
        )


def _normalise_mode(image: Image.Image) -> Image.Image:
    """RGB or RGBA, 8 bits: what the engine and the finishing work on.

    16-bit and 32-bit grey images are scaled, not clipped, so a high-bit-depth
    export from GIMP keeps its tones.
    """
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        maximum = image.getextrema()[1] or 1
        divisor = 257.0 if maximum > 255 else 1.0
        return image.point(lambda v: v / divisor).convert("L").convert("RGB")
    if image.mode == "F":
        return image.point(lambda v: v * 255.0).convert("L").convert("RGB")
    has_alpha = image.mode in ("LA", "PA", "La", "RGBa") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def downscale_to(image: Image.Image, max_pixels: int) -> Image.Image:
    """Downscale (never upscale) so that width x height <= ``max_pixels``, keeping the aspect ratio."""
    width, height = image.size
    if width * height <= max_pixels:
        return image
    scale = math.sqrt(max_pixels / float(width * height))
    new_w = max(1, int(width * scale))
    new_h = max(1, int(height * scale))
    while new_w * new_h > max_pixels:  # rounding must never exceed the limit
        if new_w >= new_h:
            new_w -= 1
        else:
            new_h -= 1
    return image.resize((new_w, new_h), Image.Resampling.LANCZOS)
