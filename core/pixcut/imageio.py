"""Reading input images the way the API does, with the API's limits.

EXIF orientation is applied first (the API reports it in ``X-Input-Orientation``),
then the 32-megapixel limit is checked from the header alone, before any pixel
is decoded, so a decompression bomb costs nothing. Truncated or unreadable files
raise ``ImageError`` instead of crashing a batch or a server worker.

Formats: the API's five (BMP, GIF, JPEG, PNG, TIFF) plus WebP and AVIF (Pillow's
own codecs) and HEIC/HEIF (``pi-heif``, pillow-heif's decode-only build without GPL code,
registered here as a Pillow plug-in).
A multi-frame file (animated GIF/WebP, multi-page TIFF, HEIF sequence) gives its
first frame. Colour: the input's ICC profile is kept for the output; CMYK and grey
images with a profile are converted to sRGB through it (LittleCMS, ``PIL.ImageCms``)
and then carry the sRGB profile. EXIF/XMP are read with the orientation reset to 1,
for ``keep_metadata``.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import pi_heif
from PIL import Image, ImageCms, UnidentifiedImageError

from pixcut.encoding import NO_METADATA, OutputMetadata, encode
from pixcut.errors import ImageError, ImageTooLargeError, UnsupportedImageError
from pixcut.png_chunks import find_chunk
from pixcut.png_decode import fast_decode

pi_heif.register_heif_opener()  # HEIC/HEIF through Pillow's Image.open, like every other format

MAX_INPUT_PIXELS = 32_000_000
#: The largest input file read from a stream (standard input, an object store): a 32 MP 16-bit RGBA
#: TIFF is 256 MB, so anything larger is not an image pixcut could accept anyway.
MAX_INPUT_BYTES = 256 * 1024 * 1024
# What the cloud API accepts (MPO is a JPEG with extra pictures); the rest are converted before upload.
PROVIDER_FORMATS = frozenset({"BMP", "GIF", "JPEG", "PNG", "TIFF", "MPO"})
ACCEPTED_FORMATS = PROVIDER_FORMATS | {"WEBP", "AVIF", "HEIF"}
CONVERTED_FOR_UPLOAD: list[str] = sorted(ACCEPTED_FORMATS - PROVIDER_FORMATS)  # to lossless PNG, upright
FORMAT_NAMES = "BMP, GIF, JPEG, PNG, TIFF, WebP, AVIF or HEIC/HEIF"
# File name endings folder scans (and the watched folder) pick up.
INPUT_SUFFIXES = frozenset(
    {".bmp", ".gif", ".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".avif", ".heic", ".heif", ".hif"}
)
ImageSource = str | os.PathLike[str] | bytes | Image.Image


@dataclass
class InputImage:
    """A decoded input: upright pixels plus what the result headers report about it."""

    image: Image.Image  # mode RGB or RGBA, EXIF orientation applied
    orientation: int
    size: tuple[int, int]  # (width, height) after orientation, before any size limit
    format: str | None
    metadata: OutputMetadata = NO_METADATA  # ICC profile of ``image``'s pixels; EXIF (orientation 1) and XMP


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


def exif_orientation(image: Image.Image, data: bytes | None = None) -> int:
    """The EXIF orientation (1-8) of ``image``, opened from ``data`` when given.

    For a PNG whose eXIf chunk Pillow has not met while opening (it may follow the pixel data),
    the chunk is looked up in ``data`` (see :mod:`pixcut.png_chunks`): ``getexif`` would decode
    every pixel to reach it.
    """
    try:
        if data is not None and image.format == "PNG" and "exif" not in image.info:
            raw = find_chunk(data, b"eXIf")
            if raw is None:
                return 1
            exif = Image.Exif()
            exif.load(b"Exif\x00\x00" + raw)  # how Pillow stores a PNG's eXIf in ``info``
        else:
            exif = image.getexif()
        value = int(exif.get(0x0112, 1))
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
        metadata = _read_metadata(image)
        image, metadata = _to_rgb_space(image, metadata)
        image = _normalise_mode(apply_orientation(image, orientation) if orientation != 1 else image.copy())
        return InputImage(image, orientation, image.size, fmt, metadata)

    data = read_bytes(source)
    image = _open_checked(data, max_input_pixels)
    fmt = image.format or "PNG"
    if orientation is None:
        orientation = exif_orientation(image, data)
    try:
        decoded = fast_decode(image, data)  # libspng for a plain 8-bit RGB(A) PNG
        if decoded is None:
            image.load()  # the first frame of a multi-frame file
        else:
            image = decoded
        metadata = _read_metadata(image)
        image, metadata = _to_rgb_space(image, metadata)
        if orientation != 1:
            image = apply_orientation(image, orientation)
        image = _normalise_mode(image)
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"Failed to read the supplied image: {exc}") from None
    return InputImage(image, orientation, image.size, fmt, metadata)


def _open_checked(data: bytes, max_input_pixels: int) -> Image.Image:
    """Open (header only) and check type and pixel count; nothing is decoded yet."""
    if not data:
        raise ImageError("Failed to read the supplied image: the file is empty")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UnsupportedImageError(f"Failed to read the supplied image: not a {FORMAT_NAMES} file") from None
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"The supplied image is larger than {max_input_pixels:,} pixels") from None
    except Exception as exc:
        raise ImageError(f"Failed to read the supplied image: {exc}") from None
    if image.format not in ACCEPTED_FORMATS:
        raise UnsupportedImageError(f"Unsupported image type {image.format}: use {FORMAT_NAMES}")
    _check_pixels(image.size, max_input_pixels)
    return image


def upright_size(data: bytes, *, max_input_pixels: int = MAX_INPUT_PIXELS) -> tuple[int, int]:
    """(width, height) after EXIF orientation, from the header alone (the same checks as ``load_input``).

    For callers that must size something before the removal (``pixcut serve``'s remove.bg
    ``scale``), without decoding the pixels twice.
    """
    image = _open_checked(data, max_input_pixels)
    width, height = image.size
    return (height, width) if exif_orientation(image, data) in (5, 6, 7, 8) else (width, height)


def _check_pixels(size: tuple[int, int], limit: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"Failed to read the supplied image: invalid size {width}x{height}")
    if width * height > limit:
        raise ImageTooLargeError(
            f"The supplied image is {width}x{height} = {width * height:,} pixels; "
            f"the largest accepted input is {limit:,} pixels"
        )


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# LittleCMS stamps the creation time into the header (bytes 24-35); a fixed date keeps outputs
# byte-identical between runs (its profile ID field is left zero, so nothing else depends on it).
SRGB_ICC = _SRGB.tobytes()[:24] + bytes.fromhex("07d000010001000000000000") + _SRGB.tobytes()[36:]


def _exif_copy(exif: Image.Exif) -> Image.Exif:
    copy = Image.Exif()
    copy.load(exif.tobytes())
    return copy


def _read_metadata(image: Image.Image) -> OutputMetadata:
    """The ICC profile, EXIF (orientation reset to 1: the pixels are made upright) and XMP of a file."""
    icc = image.info.get("icc_profile") or None
    exif_bytes = None
    try:
        exif = image.getexif()
        if len(exif):
            if 0x0112 in exif:
                exif = _exif_copy(exif)  # getexif() is the image's own: a caller's PIL image stays as given
                exif[0x0112] = 1
            exif_bytes = exif.tobytes()
    except Exception:  # a broken EXIF block is dropped, not fatal
        exif_bytes = None
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    return OutputMetadata(icc_profile=icc, exif=exif_bytes, xmp=xmp or None)


def _to_rgb_space(image: Image.Image, metadata: OutputMetadata) -> tuple[Image.Image, OutputMetadata]:
    """CMYK (or grey with a grey profile) to sRGB through the file's own profile, not Pillow's naive formula.

    RGB pixels are never converted: they keep their profile (a P3 photo stays P3 and
    says so). A profile that does not fit the pixels is dropped rather than mislabel them.
    A CMYK file without a profile can only be converted naively.
    """
    icc = metadata.icc_profile
    if image.mode not in ("CMYK", "L", "LA"):
        if icc and _colour_space(icc) not in ("RGB", None):
            return image, OutputMetadata(None, metadata.exif, metadata.xmp)
        return image, metadata
    if not icc:
        return image, metadata
    space = _colour_space(icc)
    if (image.mode == "CMYK") != (space == "CMYK") or (image.mode != "CMYK" and space != "GRAY"):
        return image, OutputMetadata(None, metadata.exif, metadata.xmp)
    alpha = image.getchannel("A") if image.mode == "LA" else None
    source = image.convert("L") if alpha is not None else image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        rgb = ImageCms.profileToProfile(
            source, profile, _SRGB, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        raise ImageError(f"Failed to read the supplied image: its {space} colour profile is unusable ({exc})") from None
    assert rgb is not None
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb, OutputMetadata(SRGB_ICC, metadata.exif, metadata.xmp)


def _colour_space(icc: bytes) -> str | None:
    """The profile's data colour space ('RGB', 'CMYK', 'GRAY', ...) from its header, or None if unreadable."""
    if len(icc) < 20:
        return None
    return icc[16:20].decode("ascii", "replace").strip().upper() or None


@dataclass(frozen=True)
class ProviderUpload:
    """What goes to the cloud: the bytes, the format they were converted from (None: sent as they are)
    and the converted file's EXIF orientation (applied to the PNG, so the service reports 1)."""

    data: bytes
    converted_from: str | None = None
    orientation: int = 1


def provider_upload(data: bytes, *, max_input_pixels: int = MAX_INPUT_PIXELS) -> ProviderUpload:
    """Bytes the cloud API accepts.

    WebP, AVIF and HEIC/HEIF become a lossless PNG with the orientation applied and the
    ICC profile embedded (the first frame of a sequence), so the service sees the same
    pixels the offline engine would. Unreadable files are sent as they are, for the
    service to refuse with its own error.
    """
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
    except Exception:
        return ProviderUpload(data)
    if fmt in PROVIDER_FORMATS or fmt not in ACCEPTED_FORMATS:
        return ProviderUpload(data)
    loaded = load_input(data, max_input_pixels=max_input_pixels)
    png = encode(loaded.image, "png", metadata=OutputMetadata(icc_profile=loaded.metadata.icc_profile))
    return ProviderUpload(png, fmt, loaded.orientation)


def read_metadata(data: bytes) -> OutputMetadata:
    """A file's ICC profile (only an RGB one: other pixels are converted), EXIF and XMP, without decoding pixels."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            metadata = _read_metadata(image)
    except Exception:
        return NO_METADATA
    if metadata.icc_profile and _colour_space(metadata.icc_profile) != "RGB":
        return OutputMetadata(SRGB_ICC, metadata.exif, metadata.xmp)
    return metadata


def _normalise_mode(image: Image.Image) -> Image.Image:
    """RGB or RGBA, 8 bits: what the engine and the finishing work on.

    16-bit and 32-bit grey images are scaled, not clipped, so a high-bit-depth
    export from GIMP keeps its tones.
    """
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        maximum = image.getextrema()[1]
        assert not isinstance(maximum, tuple)  # one band: getextrema gives (low, high) numbers
        divisor = 257.0 if maximum > 255 else 1.0
        return image.point(lambda v: v / divisor).convert("L").convert("RGB")
    if image.mode == "F":
        return image.point(lambda v: v * 255.0).convert("L").convert("RGB")
    has_alpha = image.mode in ("LA", "PA", "La", "RGBa") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def downscale_to(image: Image.Image, max_pixels: int) -> Image.Image:
    """Downscale (never upscale) so that width x height <= ``max_pixels``, keeping the aspect ratio."""
    size = downscaled_size(image.size, max_pixels)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS)


def downscaled_size(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The size ``downscale_to`` gives an image of ``size``: never larger, aspect ratio kept."""
    width, height = size
    if width * height <= max_pixels:
        return size
    scale = math.sqrt(max_pixels / float(width * height))
    new_w = max(1, int(width * scale))
    new_h = max(1, int(height * scale))
    while new_w * new_h > max_pixels:  # rounding must never exceed the limit
        if new_w >= new_h:
            new_w -= 1
        else:
            new_h -= 1
    return new_w, new_h


RESULT_FORMATS = frozenset({"PNG", "JPEG"})


def read_result(data: bytes, expected_size: tuple[int, int] | None = None) -> Image.Image:
    """Decode a service's result body, checking it is what a 200 promises: a whole PNG or JPEG of the
    announced size (``X-Result-Size``). Raises ``ImageError`` saying what it is instead.

    The size is checked from the header, before decoding, against the 32 MP input ceiling (no result
    is larger than its input's limits), so a hostile body cannot make the client allocate gigabytes.
    """
    if not data:
        raise ImageError("the body is empty")
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:
        raise ImageError("the body is not an image") from None
    if image.format not in RESULT_FORMATS:
        raise ImageError(f"the body is a {image.format} image, not PNG or JPEG")
    if expected_size is not None and image.size != tuple(expected_size):
        width, height = expected_size
        raise ImageError(f"the image is {image.width}x{image.height}, not the announced {width}x{height}")
    _check_pixels(image.size, MAX_INPUT_PIXELS)
    try:
        image.load()
    except Exception as exc:
        raise ImageError(f"the {image.format} image cannot be decoded ({exc})") from None
    return image
