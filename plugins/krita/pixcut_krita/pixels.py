"""Krita pixels in and out: channel order, the alpha, the layer format check, and a PNG encoder.

Standard library only (Krita's embedded Python may lack Pillow), and no Krita import, so the test
driver and plain pytest can use it too. Everything host-neutral is the host kit's
(``pixcut_hostkit.py`` beside this file).
"""

from __future__ import annotations

import struct
import zlib

from .pixcut_hostkit import HostError

# --------------------------------------------------------------------------- pixels


def bgra_to_rgba(data: bytes) -> bytes:
    """Krita's RGBA/U8 pixel data is stored B,G,R,A; swap B and R (slices keep it at C speed)."""
    out = bytearray(data)
    out[0::4] = data[2::4]
    out[2::4] = data[0::4]
    return bytes(out)


rgba_to_bgra = bgra_to_rgba  # the swap is its own inverse


def alpha_channel(rgba_or_bgra: bytes) -> bytes:
    """The alpha bytes of 4-channel pixel data (same place in RGBA and BGRA)."""
    return bytes(rgba_or_bgra[3::4])


def check_layer_format(color_model: str, color_depth: str) -> None:
    """Only 8-bit RGBA layers are exported directly; others are refused with a way out."""
    if color_model != "RGBA" or color_depth != "U8":
        raise HostError(
            f"The layer is {color_model}/{color_depth}; Remove Background works on 8-bit RGB/Alpha "
            "layers. Convert it first: Image > Convert Image Color Space... > RGB/Alpha, 8-bit integer."
        )


# --------------------------------------------------------------------------- PNG export
# (the result is read back by Qt: see layers.read_result)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png(rgba: bytes, width: int, height: int) -> bytes:
    """Encode straight-alpha RGBA8 pixels as a PNG for pixcut to read.

    Filter None on every row and zlib level 1: the file is a temporary hand-over, so speed on
    Krita's GUI thread matters more than its size.
    """
    if len(rgba) != width * height * 4:
        raise ValueError(f"expected {width * height * 4} bytes for {width}x{height} RGBA, got {len(rgba)}")
    stride = width * 4
    raw = b"".join(b"\x00" + rgba[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    body = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 1)) + _chunk(b"IEND", b"")
    return _PNG_SIGNATURE + body
