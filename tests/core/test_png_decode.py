"""PNG input through libspng (pixcut.png_decode): Pillow's pixels and metadata, or Pillow itself."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from icc_profiles import display_p3_like
from PIL import Image, PngImagePlugin

from pixcut import png_decode
from pixcut.errors import ImageError
from pixcut.imageio import load_input
from pixcut.png_chunks import iter_chunks


def _photo(mode: str, size: tuple[int, int] = (97, 61)) -> Image.Image:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (size[1], size[0], len(mode)), dtype=np.uint8)
    pixels[:, :, 0] = np.linspace(0, 255, size[0], dtype=np.uint8)  # some structure for the filters
    return Image.fromarray(pixels[:, :, 0] if mode == "L" else pixels)


def _png(image: Image.Image, **kw: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **kw)
    return buffer.getvalue()


def _with_chunk_after_the_pixels(data: bytes, kind: bytes, body: bytes) -> bytes:
    iend = data.rindex(b"IEND") - 4
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return data[:iend] + chunk + data[iend:]


def _header(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _by_pillow(data: bytes, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as patch:
        patch.setattr(png_decode, "_pyspng", lambda: None)  # as on an install without pyspng
        return load_input(data)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_plain_png_decodes_through_libspng_to_pillows_pixels_and_metadata(mode, monkeypatch):
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "pixcut test"
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    data = _png(_photo(mode), icc_profile=display_p3_like(), exif=exif.tobytes(), pnginfo=info)

    assert png_decode.fast_decode(_header(data), data) is not None  # this file takes the libspng path
    fast, slow = load_input(data), _by_pillow(data, monkeypatch)
    assert fast.image.mode == slow.image.mode == mode
    assert fast.image.tobytes() == slow.image.tobytes()
    assert fast.orientation == slow.orientation == 6 and fast.image.size == (61, 97)
    assert fast.metadata == slow.metadata
    assert fast.metadata.icc_profile == display_p3_like() and fast.metadata.xmp and fast.metadata.exif


def _sixteen_bit_rgb() -> bytes:
    """A 16-bit RGB PNG (Pillow reads it as 8-bit RGB but cannot write one)."""
    width, height = 5, 3
    rows = b"".join(b"\0" + struct.pack(">15H", *range(y * 1000, y * 1000 + 15)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _animated() -> bytes:
    buffer = io.BytesIO()
    first, second = _photo("RGB"), _photo("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    first.save(buffer, "PNG", save_all=True, append_images=[second])
    return buffer.getvalue()


def _exif_body() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "pixcut test"
    return exif.tobytes()[6:]  # without the "Exif\0\0" prefix, as a PNG's eXIf chunk holds it


PILLOW_DECODES = {
    "palette": lambda: _png(_photo("RGB").convert("P")),
    "grey": lambda: _png(_photo("L")),
    "grey and alpha": lambda: _png(_photo("LA")),
    "16-bit grey": lambda: _png(Image.fromarray(np.arange(48, dtype=np.uint16).reshape(6, 8) * 1000)),
    "16-bit RGB": _sixteen_bit_rgb,
    "colour key": lambda: _png(_photo("RGB"), transparency=(0, 0, 0)),
    "animated": _animated,
    "text after the pixels": lambda: _with_chunk_after_the_pixels(_png(_photo("RGB")), b"tEXt", b"Comment\0late"),
    "EXIF after the pixels": lambda: _with_chunk_after_the_pixels(_png(_photo("RGBA")), b"eXIf", _exif_body()),
}


@pytest.mark.parametrize("case", sorted(PILLOW_DECODES))
def test_everything_else_is_left_to_pillow_and_still_loads(case, monkeypatch):
    data = PILLOW_DECODES[case]()
    assert png_decode.fast_decode(_header(data), data) is None
    loaded, reference = load_input(data), _by_pillow(data, monkeypatch)
    assert loaded.image.mode in ("RGB", "RGBA") and loaded.image.tobytes() == reference.image.tobytes()
    if case == "text after the pixels":
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.info["Comment"] == "late"  # what only Pillow's decode would have read


def _corrupt_pixels(data: bytes) -> bytes:
    """The first IDAT's deflate stream overwritten in its middle (the chunk CRC left stale)."""
    for kind, start, end in iter_chunks(data):
        if kind == b"IDAT":
            middle = (start + end) // 2
            return data[:middle] + bytes(64) + b"\xff" * 64 + data[middle + 128 :]
    raise AssertionError("no IDAT")


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
@pytest.mark.parametrize("decoder", ["libspng", "pillow"])
def test_a_damaged_pixel_stream_is_an_image_error_on_both_paths(damage, decoder, monkeypatch):
    data = _png(_photo("RGB", (300, 200)))
    bad = data[: len(data) * 2 // 3] if damage == "truncated" else _corrupt_pixels(data)
    if decoder == "pillow":
        monkeypatch.setattr(png_decode, "_pyspng", lambda: None)
    with pytest.raises(ImageError, match="Failed to read the supplied image"):
        load_input(bad)


def test_pixcut_serve_caps_the_gil_holding_decoder(monkeypatch):
    """A decode through pyspng holds the GIL, so the server's app leaves PNGs above
    SERVER_MAX_PIXELS to Pillow (its event loop stalled for up to 172 ms on 12 MP PNGs)."""
    from pixcut.server.app import create_app
    from pixcut.server.config import ServeConfig

    monkeypatch.setattr(png_decode, "MAX_PIXELS", None)  # put back after the test
    small, large = _png(_photo("RGB", (1000, 1000))), _png(_photo("RGB", (2001, 2000)))
    assert png_decode.fast_decode(_header(large), large) is not None  # no cap on the command line
    create_app(ServeConfig())
    assert png_decode.MAX_PIXELS == png_decode.SERVER_MAX_PIXELS == 4_000_000
    assert png_decode.fast_decode(_header(small), small) is not None
    assert png_decode.fast_decode(_header(large), large) is None
    assert load_input(large).image.tobytes() == _photo("RGB", (2001, 2000)).tobytes()


def test_a_broken_pyspng_install_falls_back_to_pillow_in_a_two_worker_batch(tmp_path):
    """An importable-but-failing ``pyspng`` (a broken wheel) must not fail inputs; two workers
    importing it at once used to hand one of them the half-made module."""
    broken = tmp_path / "site"
    broken.mkdir()
    (broken / "pyspng.py").write_text("raise ImportError('a broken libspng build')\n")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(12):
        (inputs / f"p{i:02d}.png").write_bytes(_png(_photo("RGB", (160 + i, 120))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(broken), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-m", "pixcut", "remove", str(inputs), "--out-dir", str(tmp_path / "out"), "--jobs", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(list((tmp_path / "out").glob("*.png"))) == 12
