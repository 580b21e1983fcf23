"""png_writer: parallel strips decode to the exact pixels, with a valid zlib stream and Pillow's chunks."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms
from support import SAMPLE

from pixcut import png_writer
from pixcut.encoding import OutputMetadata, encode
from pixcut.png_chunks import find_chunk, iter_chunks


def _image(mode: str, width: int, height: int, seed: int = 0) -> Image.Image:
    """Noise with flat runs, so the filter and the run-length coder both have work."""
    rng = np.random.default_rng(seed)
    channels = png_writer.CHANNELS[mode]
    data = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    data[height // 3 : height // 2] = 0
    return Image.fromarray(data[..., 0] if channels == 1 else data, mode)


def _idat_stream(png: bytes) -> bytes:
    return b"".join(png[start:end] for kind, start, end in iter_chunks(png) if kind == b"IDAT")


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize(("width", "height"), [(1, 1), (1, 37), (53, 1), (301, 203)])
@pytest.mark.parametrize("workers", [1, 3])
def test_pixels_round_trip_in_every_mode_shape_and_strip_count(
    mode: str, width: int, height: int, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small strips and slabs: several strips, and several slabs per strip, on a small image.
    monkeypatch.setattr(png_writer, "MIN_STRIP_BYTES", 1)
    monkeypatch.setattr(png_writer, "SLAB_BYTES", 5000)
    image = _image(mode, width, height)
    for level in (0, 1, 6):
        png = png_writer.write_png(image, level, workers=workers)
        with Image.open(io.BytesIO(png)) as back:
            back.load()
            assert back.mode == mode and back.size == image.size
            assert back.tobytes() == image.tobytes()
        # zlib itself checks the combined Adler-32 (Pillow's decoder would not notice a wrong one).
        raw = zlib.decompress(_idat_stream(png))
        assert len(raw) == height * (width * png_writer.CHANNELS[mode] + 1)
        assert set(raw[:: width * png_writer.CHANNELS[mode] + 1]) == {png_writer.FILTER_UP}


def test_strips_change_nothing_but_the_deflate_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(png_writer, "MIN_STRIP_BYTES", 1)
    image = _image("RGBA", 400, 300, seed=1)
    one = png_writer.write_png(image, 1, workers=1)
    four = png_writer.write_png(image, 1, workers=4)
    assert zlib.decompress(_idat_stream(one)) == zlib.decompress(_idat_stream(four))
    assert abs(len(four) - len(one)) < 0.02 * len(one)


def test_adler32_combine_matches_zlib() -> None:
    rng = np.random.default_rng(2)
    data = rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    for cut in (0, 1, 65521, 65522, 123_456, len(data)):
        first, second = data[:cut], data[cut:]
        combined = png_writer.adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
        assert combined == zlib.adler32(data)


def test_header_chunks_are_pillows_with_the_full_height() -> None:
    image = Image.open(SAMPLE).convert("RGBA")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0110] = "pixcut test camera"
    metadata = OutputMetadata(icc_profile=srgb, exif=exif.tobytes(), xmp=b"<x:xmpmeta>pixcut</x:xmpmeta>")
    png = encode(image, "png", metadata=metadata)
    kinds = [kind for kind, _, _ in iter_chunks(png)]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert {b"iCCP", b"eXIf", b"iTXt"} <= set(kinds[: kinds.index(b"IDAT")])
    ihdr = find_chunk(png, b"IHDR")
    assert ihdr is not None
    assert struct.unpack(">II", ihdr[:8]) == image.size
    with Image.open(io.BytesIO(png)) as back:
        back.load()
        assert back.info["icc_profile"] == srgb
        assert back.getexif()[0x0110] == "pixcut test camera"
        assert "pixcut" in back.info["XML:com.adobe.xmp"]
        assert back.tobytes() == image.tobytes()


def test_modes_it_does_not_write_go_to_pillow() -> None:
    deep = Image.new("I;16", (40, 30), 40000)
    palette = Image.new("P", (40, 30), 3)
    assert not png_writer.supports(deep) and not png_writer.supports(palette)
    for image in (deep, palette):
        with Image.open(io.BytesIO(encode(image, "png"))) as back:
            assert back.mode == image.mode  # Pillow may renumber a palette: compare the colours
            assert back.convert("RGBA").tobytes() == image.convert("RGBA").tobytes()
