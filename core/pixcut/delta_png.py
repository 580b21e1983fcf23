"""Delta PNG: the API's compact result form, encoded on the server and rebuilt locally.

In a Delta PNG a fully background pixel is transparent black (0,0,0,0), a fully
foreground pixel is transparent white (255,255,255,0) meaning "take the input's
pixel", and partial pixels carry their own colour and alpha. Both directions use
Pillow's C-level channel operations: a 12-megapixel rebuild must not loop in Python.
"""

from __future__ import annotations

import io

from PIL import Image, ImageChops

from pixcut.encoding import OutputMetadata, encode
from pixcut.errors import DeltaPngError
from pixcut.options import DEFAULT_PNG_COMPRESSION


def _equals(channel: Image.Image, value: int) -> Image.Image:
    """A 0/255 mask of the pixels where ``channel`` == ``value``."""
    return channel.point([255 if v == value else 0 for v in range(256)])


def encode_delta(cutout: Image.Image, png_compression: int = DEFAULT_PNG_COMPRESSION) -> bytes:
    """Encode a full-size RGBA cutout (input colours where opaque) as Delta PNG bytes."""
    cutout = cutout.convert("RGBA") if cutout.mode != "RGBA" else cutout
    alpha = cutout.getchannel("A")
    delta = cutout.copy()
    delta.paste((0, 0, 0, 0), mask=_equals(alpha, 0))
    delta.paste((255, 255, 255, 0), mask=_equals(alpha, 255))
    # The delta keeps the cutout's ICC profile: the client rebuilds in the input's colour space.
    metadata = OutputMetadata(icc_profile=cutout.info.get("icc_profile"))
    return encode(delta, "png", metadata=metadata, png_compression=png_compression)


def decode_delta(delta: bytes | Image.Image, input_image: Image.Image) -> Image.Image:
    """Rebuild the full RGBA cutout from a Delta PNG and the upright input image.

    ``input_image`` must already have its EXIF orientation applied (the API reports
    it in ``X-Input-Orientation``) and have the delta's size: a delta from a
    downscaled input cannot be combined, and is refused rather than stretched.
    """
    delta_img: Image.Image
    if isinstance(delta, bytes | bytearray):
        try:
            delta_img = Image.open(io.BytesIO(delta))
            delta_img.load()
        except Exception as exc:
            raise DeltaPngError(f"the Delta PNG cannot be decoded: {exc}") from None
    else:
        delta_img = delta
    if delta_img.size != input_image.size:
        raise DeltaPngError(
            f"the Delta PNG is {delta_img.width}x{delta_img.height} but the input is "
            f"{input_image.width}x{input_image.height}: it cannot be rebuilt (was the input "
            f"downscaled by max_pixels, or its EXIF orientation not applied?)"
        )
    delta_img = delta_img.convert("RGBA") if delta_img.mode != "RGBA" else delta_img
    take_input = ImageChops.multiply(_equals(delta_img.getchannel("A"), 0), _equals(delta_img.getchannel("R"), 255))
    result = delta_img.copy()
    opaque_input = input_image.convert("RGB")
    opaque_input.putalpha(255)
    result.paste(opaque_input, mask=take_input)
    return result
