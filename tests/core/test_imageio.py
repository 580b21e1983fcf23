"""Input images: the API's accepted types and limits, and bad files that must fail cleanly."""

import io
import struct
import zlib

import pytest
from PIL import Image
from support import png_with_declared_size

from pixcut.errors import ImageError, ImageTooLargeError, UnsupportedImageError
from pixcut.imageio import downscale_to, exif_orientation, load_input, upright_size
from pixcut.png_chunks import MAX_CHUNKS, find_chunk, iter_chunks


def encoded(image: Image.Image, fmt: str, **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


def test_decompression_bomb_is_refused_from_the_header():
    with pytest.raises(ImageTooLargeError, match="32,000,000"):
        load_input(png_with_declared_size(40_000, 40_000))
    with pytest.raises(ImageTooLargeError):
        load_input(png_with_declared_size(8_000, 4_001))  # just over 32 MP


def test_truncated_and_garbage_files():
    data = encoded(Image.new("RGB", (64, 64), "blue"), "JPEG")
    with pytest.raises(ImageError, match="Failed to read"):
        load_input(data[: len(data) // 2])
    with pytest.raises(UnsupportedImageError):
        load_input(b"hello world")
    with pytest.raises(ImageError, match="empty"):
        load_input(b"")


def test_unsupported_type_is_named():
    with pytest.raises(UnsupportedImageError, match="PCX"):
        load_input(encoded(Image.new("RGB", (8, 8)), "PCX"))


@pytest.mark.parametrize("fmt", ["BMP", "GIF", "JPEG", "PNG", "TIFF", "WEBP", "AVIF", "HEIF"])
def test_accepted_types(fmt):
    loaded = load_input(encoded(Image.new("RGB", (10, 6), (200, 10, 10)), fmt))
    assert loaded.image.size == (10, 6) and loaded.image.mode in ("RGB", "RGBA")


@pytest.mark.parametrize("orientation, size", [(1, (30, 20)), (3, (30, 20)), (6, (20, 30)), (8, (20, 30))])
def test_exif_orientation_is_applied_and_reported(orientation, size):
    exif = Image.Exif()
    exif[0x0112] = orientation
    loaded = load_input(encoded(Image.new("RGB", (30, 20)), "JPEG", exif=exif.tobytes()))
    assert loaded.orientation == orientation and loaded.image.size == size == loaded.size


def _png_with_exif_after_the_pixels(size: tuple[int, int], orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    raw = exif.tobytes()[6:]  # the TIFF block, without the "Exif\0\0" a JPEG's APP1 has
    png = encoded(Image.new("RGB", size, (20, 120, 220)), "PNG")
    iend = png.rindex(b"IEND") - 4
    chunk = struct.pack(">I", len(raw)) + b"eXIf" + raw + struct.pack(">I", zlib.crc32(b"eXIf" + raw))
    return png[:iend] + chunk + png[iend:]


@pytest.mark.parametrize("orientation, size", [(1, (30, 20)), (6, (20, 30)), (8, (20, 30))])
def test_a_png_exif_after_the_pixels_is_read_without_decoding(orientation, size):
    data = _png_with_exif_after_the_pixels((30, 20), orientation)
    kinds = [kind for kind, _, _ in iter_chunks(data)]
    assert kinds.index(b"eXIf") > kinds.index(b"IDAT")
    with Image.open(io.BytesIO(data)) as image:
        assert "exif" not in image.info  # Pillow only meets it when decoding
        assert exif_orientation(image, data) == orientation
        assert image.tile  # still not decoded: the size check stays header-only
    assert upright_size(data) == size
    loaded = load_input(data)
    assert loaded.orientation == orientation and loaded.image.size == size


def test_the_chunk_walk_stops_at_truncated_and_foreign_data():
    data = _png_with_exif_after_the_pixels((30, 20), 6)
    assert find_chunk(data, b"eXIf") is not None
    assert find_chunk(data[: data.index(b"eXIf") + 10], b"eXIf") is None  # its data is cut short
    assert find_chunk(b"GIF89a" + data[8:], b"eXIf") is None
    huge = data[:8] + struct.pack(">I", 2**31) + b"eXIf"  # a length far past the end of the file
    assert list(iter_chunks(huge)) == [] and find_chunk(huge, b"eXIf") is None
    with Image.open(io.BytesIO(data[: data.index(b"eXIf") + 10])) as image:
        assert exif_orientation(image, data[: data.index(b"eXIf") + 10]) == 1
    # Empty chunks by the thousand before the eXIf: the walk gives up after MAX_CHUNKS.
    iend = data.rindex(b"IEND") - 4
    empty = struct.pack(">I", 0) + b"tEXt" + struct.pack(">I", zlib.crc32(b"tEXt"))
    exif_at = data.index(b"eXIf") - 4
    for count, found in ((100, True), (MAX_CHUNKS, False)):
        padded = data[:exif_at] + empty * count + data[exif_at:iend] + data[iend:]
        assert (find_chunk(padded, b"eXIf") is not None) == found
        assert upright_size(padded) == ((20, 30) if found else (30, 20))


def test_sixteen_bit_grey_keeps_its_tones():
    grey = Image.new("I;16", (4, 4), 40_000)
    loaded = load_input(encoded(grey, "PNG"))
    assert loaded.image.mode == "RGB" and abs(loaded.image.getpixel((0, 0))[0] - 40_000 // 257) <= 1


def test_transparency_is_kept():
    la = Image.new("LA", (4, 4), (100, 50))
    assert load_input(encoded(la, "PNG")).image.mode == "RGBA"


def test_downscale_respects_max_pixels_and_aspect():
    image = Image.new("RGB", (1000, 500))
    small = downscale_to(image, 20_000)
    assert small.width * small.height <= 20_000 and abs(small.width / small.height - 2) < 0.05
    assert downscale_to(image, 10_000_000) is image


def test_unreadable_path_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="cannot read"):
        load_input(tmp_path / "missing.png")
