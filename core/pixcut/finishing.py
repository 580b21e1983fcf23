"""The API's result semantics, implemented once.

Given a full-size cutout (the input's pixels with the predicted alpha), produce
exactly what the API returns for a set of options: crop to the foreground,
margin (CSS semantics; inset when a target size is given), target size with
fit-inside scaling, horizontal centring and vertical alignment, background
colour, the mask (``output="mask"``), and hands the image to the output
encoding (``encoding.py``). The offline backend, ``pixcut serve`` and the
cloud client's Delta PNG path all call this module, so "delta transfer + local
finishing" gives the same pixels as asking the server for the finished result.

Choices where the API's text is silent (ours):
- percentages in ``result.margin`` refer to the height for top/bottom and to the
  width for left/right, of the cropped content (or of the target size when one is
  given, since the margin is then an inset of it);
- cropping an image with no foreground keeps the whole image;
- a JPEG without ``background.color`` is composited over white;
- target-size scaling uses Lanczos, both down and up;
- a mask is the alpha channel of the finished cutout (same size, crop, margin and
  target size); the background colour does not apply to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from PIL import Image, ImageChops

from pixcut import parallel
from pixcut.encoding import NO_METADATA, OutputMetadata, encode, flatten
from pixcut.geometry import Box, foreground_box
from pixcut.options import RemovalOptions
from pixcut.result import RemovalResult, ResultInfo


@dataclass
class Finished:
    """A finished image and where its foreground ended up."""

    image: Image.Image  # RGBA, or RGB when a background colour made it opaque
    foreground: Box | None


def make_cutout(image: Image.Image, alpha: Image.Image) -> Image.Image:
    """Combine input pixels and a predicted alpha into a canonical RGBA cutout.

    An input that already has transparency keeps it (the cutout is never more
    opaque than the source).
    """
    if alpha.size != image.size:
        raise ValueError(f"alpha size {alpha.size} differs from image size {image.size}")
    alpha = alpha if alpha.mode == "L" else alpha.convert("L")
    if image.mode == "RGBA":
        alpha = ImageChops.multiply(alpha, image.getchannel("A"))
    return _with_alpha(image if image.mode == "RGB" else image.convert("RGB"), alpha)


def canonical_cutout(cutout: Image.Image) -> Image.Image:
    """The same cutout with the colour of fully transparent pixels zeroed.

    Zeroed colour makes the Delta PNG round trip exact and PNGs smaller.
    """
    if cutout.mode != "RGBA":
        cutout = cutout.convert("RGBA")
    alpha = cutout.getchannel("A")
    if alpha.histogram()[0] == 0:
        return cutout  # nothing fully transparent
    return _with_alpha(cutout.convert("RGB"), alpha)


def _with_alpha(rgb: Image.Image, alpha: Image.Image) -> Image.Image:
    """A new RGBA image: ``rgb`` where ``alpha`` > 0, zero colour where it is 0.

    One LUT and one per-channel minimum with the 0/255 mask (``ImageChops.darker``: the same bytes
    as a multiply, which divides by 255, at 12 MP 83 -> 50 ms; a masked paste was three times slower
    than the multiply), strip by strip on every core into the one full-size result: done whole, the
    mask, its RGB merge and the product were 150 MB of temporaries at 12 MP.
    """
    cutout = Image.new("RGBA", rgb.size)
    cutout.info = rgb.info.copy()  # the ICC profile travels with the pixels (Delta PNG keeps it)

    def strip(rows: tuple[int, int]) -> None:
        box = (0, rows[0], rgb.width, rows[1])
        part_alpha = alpha.crop(box)
        keep = part_alpha.point(_KEEP_VISIBLE)
        part = ImageChops.darker(rgb.crop(box), Image.merge("RGB", (keep, keep, keep)))
        part.putalpha(part_alpha)
        cutout.paste(part, box[:2])

    parallel.map_strips(strip, parallel.row_strips(rgb.width, rgb.height))
    return cutout


_KEEP_VISIBLE = [0] + [255] * 255


def finish(cutout: Image.Image, options: RemovalOptions) -> Finished:
    """Apply crop, margin, target size and alignment, then the background colour."""
    fg = foreground_box(cutout)
    cropping = options.crop_to_foreground and fg is not None
    # The result-size rule (options.MAX_RESULT_PIXELS), before any crop or canvas is allocated.
    result_size = options.result_size(*((fg.width, fg.height) if cropping and fg else cutout.size))
    origin_left, origin_top = 0, 0
    content = cutout
    if cropping and fg is not None:
        content = cutout.crop(fg.to_pil())
        origin_left, origin_top = fg.left, fg.top

    if options.target_size:
        canvas, scale, offset_left, offset_top = _place_in_target(content, options)
    else:
        top, right, bottom, left = options.margin.resolve(content.width, content.height)
        if top or right or bottom or left:
            canvas = Image.new("RGBA", result_size)
            canvas.paste(content, (left, top))
        else:
            canvas = content  # unchanged: encoding never mutates it, so no copy
        scale, offset_left, offset_top = 1.0, left, top

    result_fg = None
    if fg is not None:
        result_fg = Box(
            top=offset_top + round((fg.top - origin_top) * scale),
            left=offset_left + round((fg.left - origin_left) * scale),
            width=max(1, round(fg.width * scale)),
            height=max(1, round(fg.height * scale)),
        )

    if options.background_color and options.output == "cutout":
        canvas = flatten(canvas, options.background_color)
    return Finished(canvas, result_fg)


def _place_in_target(content: Image.Image, options: RemovalOptions) -> tuple[Image.Image, float, int, int]:
    """Scale ``content`` to fit inside the target size less the (inset) margin, and align it."""
    assert options.target_size is not None
    target_w, target_h = options.target_size
    top, right, bottom, left = options.margin.resolve(target_w, target_h)
    inner_w = max(1, target_w - left - right)
    inner_h = max(1, target_h - top - bottom)
    scale = min(inner_w / content.width, inner_h / content.height)
    new_w = max(1, min(inner_w, round(content.width * scale)))
    new_h = max(1, min(inner_h, round(content.height * scale)))
    scaled = content if (new_w, new_h) == content.size else content.resize((new_w, new_h), Image.Resampling.LANCZOS)
    x = left + (inner_w - new_w) // 2
    free_h = inner_h - new_h
    y = top + {"top": 0, "middle": free_h // 2, "bottom": free_h}[options.vertical_alignment]
    canvas = Image.new("RGBA", (target_w, target_h))
    canvas.paste(scaled, (x, y))
    return canvas, scale, x, y


def build_result(
    cutout: Image.Image,
    options: RemovalOptions,
    *,
    input_size: tuple[int, int],
    orientation: int = 1,
    credits_charged: float | None = None,
    credits_calculated: float | None = None,
    decorate: Callable[[Image.Image], Image.Image] | None = None,
    backend: str | None = None,
    metadata: OutputMetadata = NO_METADATA,
) -> RemovalResult:
    """Turn a full-size cutout into the API's result: image bytes plus every result header.

    ``input_size`` is the upright input's size before ``max_pixels``; when the cutout
    is smaller (downscaled), the input foreground is reported in input coordinates.
    ``decorate`` (the test watermark) is applied to the finished image, or to the
    cutout for Delta PNG, which is never finished. ``metadata`` is what the reader kept
    of the input (ICC profile; EXIF/XMP are dropped here unless ``options.keep_metadata``).
    """
    fg = foreground_box(cutout)
    input_fg = _scale_box(fg, input_size[0] / cutout.width, input_size[1] / cutout.height) if fg else None
    if options.output_format == "delta_png":
        from pixcut.delta_png import encode_delta

        image = decorate(cutout) if decorate else cutout
        data = encode_delta(image, options.png_compression)
        fmt, result_fg, size = "delta_png", fg, cutout.size
    else:
        finished = finish(cutout, options)
        image, fmt, data = output(decorate(finished.image) if decorate else finished.image, options, metadata)
        result_fg, size = finished.foreground, image.size
    info = ResultInfo(
        credits_charged=credits_charged,
        credits_calculated=credits_calculated,
        input_orientation=orientation,
        input_size=input_size,
        result_size=size,
        input_foreground=input_fg,
        result_foreground=result_fg,
    )
    return RemovalResult(data=data, format=fmt, info=info, backend=backend, _image=image)


def output(image: Image.Image, options: RemovalOptions, metadata: OutputMetadata) -> tuple[Image.Image, str, bytes]:
    """The last step for a finished image: the mask if asked for, then the bytes in the chosen format."""
    if options.output == "mask":
        image = mask_of(image)
    fmt = options.resolved_format
    data = encode(
        image,
        fmt,
        options.jpeg_quality,
        webp_quality=options.webp_quality,
        metadata=kept_metadata(metadata, options) if options.output == "cutout" else NO_METADATA,
        png_compression=options.png_compression,
    )
    return image, fmt, data


def mask_of(image: Image.Image) -> Image.Image:
    """The 8-bit ("L") alpha matte of a finished image; an opaque image's matte is all 255."""
    if image.mode in ("RGBA", "LA"):
        return image.getchannel("A")
    return Image.new("L", image.size, 255)


def kept_metadata(metadata: OutputMetadata, options: RemovalOptions) -> OutputMetadata:
    """What the output carries: the ICC profile always, EXIF/XMP only with ``keep_metadata``."""
    if options.keep_metadata or (metadata.exif is None and metadata.xmp is None):
        return metadata
    return OutputMetadata(icc_profile=metadata.icc_profile)


def _scale_box(box: Box, sx: float, sy: float) -> Box:
    """Map a box from a downscaled image back to input coordinates, covering every touched pixel."""
    if sx == 1 and sy == 1:
        return box
    top, left = math.floor(box.top * sy), math.floor(box.left * sx)
    bottom, right = math.ceil(box.bottom * sy), math.ceil(box.right * sx)
    return Box(top, left, max(1, right - left), max(1, bottom - top))


def refinish(result: RemovalResult, options: RemovalOptions, metadata: OutputMetadata = NO_METADATA) -> RemovalResult:
    """Turn a service's finished PNG (asked for with ``options.wire_options``) into what ``options`` want.

    The wire knows no masks, WebP or kept metadata; the service already applied crop,
    margin and target size, so only the matte is taken and the bytes re-encoded: the
    result headers (sizes, foreground boxes) stay true.
    """
    if not options.needs_local_output:
        return result
    image, fmt, data = output(result.image, options, metadata)
    return replace(result, data=data, format=fmt, _image=image)
