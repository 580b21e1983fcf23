"""Every parameter of the remove-background API v2 as one validated, typed object.

Validation happens here, before any request, so a typo never costs credits and
every front end (Python API, CLI, server, host plug-ins through the CLI) reports
the same message naming the field and its allowed form. The object converts to
the API's exact form fields and back, so the client and ``pixcut serve`` share
one parser.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from pixcut.errors import OptionsError, ResultTooLargeError

VerticalAlignment = Literal["top", "middle", "bottom"]
OutputFormat = Literal["auto", "png", "jpeg", "delta_png", "webp"]
OutputType = Literal["cutout", "mask"]

VERTICAL_ALIGNMENTS: tuple[str, ...] = ("top", "middle", "bottom")
# What the API's output.format accepts (the wire); WebP is pixcut's own, encoded locally.
WIRE_OUTPUT_FORMATS: tuple[str, ...] = ("auto", "png", "jpeg", "delta_png")
OUTPUT_FORMATS: tuple[str, ...] = (*WIRE_OUTPUT_FORMATS, "webp")
OUTPUT_TYPES: tuple[str, ...] = ("cutout", "mask")
MASK_FORMATS: tuple[str, ...] = ("auto", "png", "webp")
MIN_MAX_PIXELS = 100
MAX_MAX_PIXELS = 25_000_000
MAX_TARGET_SIDE = 25_000
# The largest result (width x height after margin or target size): the same ceiling as max_pixels,
# so a result is never larger than the largest image the API works on. Checked before any canvas
# is allocated (a 25 MP RGBA canvas is 100 MB; a 100000% margin asked for tens of gigabytes).
MAX_RESULT_PIXELS = 25_000_000
# PNG compression of locally encoded results (encoding.py, png_writer.py): 0 stored, 1 (default)
# zlib's run-length strategy, 2..9 zlib levels. 1 is the fastest that keeps PNGs small: with
# png_writer's Up filter it is smaller than zlib levels 1 and 2 on dev-split cutouts, and its PNGs
# are 0.68-0.72x the bytes of rembg's level-6 ones (benchmarks/engine.py).
PNG_COMPRESSION_LEVELS = range(0, 10)
DEFAULT_PNG_COMPRESSION = 1
# Bounds on one margin value, refused at parse time (a margin this large cannot fit the result anyway).
MAX_MARGIN_PX = MAX_TARGET_SIDE
MAX_MARGIN_PERCENT = 1_000.0

# Form field name -> attribute name. The API's names are dotted snake_case.
FORM_FIELDS: dict[str, str] = {
    "test": "test",
    "max_pixels": "max_pixels",
    "background.color": "background_color",
    "result.crop_to_foreground": "crop_to_foreground",
    "result.margin": "margin",
    "result.target_size": "target_size",
    "result.vertical_alignment": "vertical_alignment",
    "output.format": "output_format",
    "output.jpeg_quality": "jpeg_quality",
}
INPUT_FIELDS: tuple[str, ...] = ("image", "image.base64", "image.url")

_LENGTH = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(px|%)$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class Length:
    """One margin value: pixels, or a percentage of the size it applies to."""

    value: float
    unit: Literal["px", "%"]

    def resolve(self, reference: int) -> int:
        """Pixels for this length; ``reference`` is the side length a percentage refers to."""
        pixels = self.value if self.unit == "px" else self.value * reference / 100.0
        return math.floor(pixels + 0.5)  # half up: 2.5px is 3px on every side, not banker's 2

    def __str__(self) -> str:
        number = f"{self.value:g}"
        return f"{number}{self.unit}"


@dataclass(frozen=True)
class Margin:
    """A CSS-style margin: the four sides after shorthand expansion."""

    top: Length
    right: Length
    bottom: Length
    left: Length
    text: str = field(default="0px", compare=False)

    @classmethod
    def parse(cls, text: str) -> Margin:
        """Parse 1-4 lengths with CSS shorthand semantics (all; v h; top h bottom; top right bottom left)."""
        parts = str(text).split()
        if not 1 <= len(parts) <= 4:
            raise OptionsError(f"result.margin: expected 1 to 4 lengths like '10px' or '5.5%', got {text!r}")
        lengths: list[Length] = []
        for part in parts:
            match = _LENGTH.match(part.strip().lower())
            if not match:
                raise OptionsError(
                    f"result.margin: {part!r} is not a length; use a number followed by 'px' or '%' "
                    f"(e.g. '10px 20% 5px 15%')"
                )
            value = float(match.group(1))
            unit: Literal["px", "%"] = "px" if match.group(2) == "px" else "%"  # the pattern allows only these
            limit = MAX_MARGIN_PX if unit == "px" else MAX_MARGIN_PERCENT
            if not value <= limit:
                raise OptionsError(f"result.margin: {part!r} is too large; at most {limit:g}{unit} per side")
            lengths.append(Length(value, unit))
        if len(lengths) == 1:
            top = right = bottom = left = lengths[0]
        elif len(lengths) == 2:
            top = bottom = lengths[0]
            right = left = lengths[1]
        elif len(lengths) == 3:
            top, right, bottom = lengths
            left = right
        else:
            top, right, bottom, left = lengths
        return cls(top, right, bottom, left, text=" ".join(str(length) for length in lengths))

    @property
    def is_zero(self) -> bool:
        return all(side.value == 0 for side in (self.top, self.right, self.bottom, self.left))

    def resolve(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Pixels (top, right, bottom, left): vertical sides refer to ``height``, horizontal to ``width``."""
        return (
            self.top.resolve(height),
            self.right.resolve(width),
            self.bottom.resolve(height),
            self.left.resolve(width),
        )

    def __str__(self) -> str:
        return self.text


ZERO_MARGIN = Margin.parse("0px")


def parse_bool(name: str, value: Any) -> bool:
    """Booleans as the API accepts them: true/false (any case) or 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise OptionsError(f"{name}: expected true or false, got {value!r}")


def _parse_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise OptionsError(f"{name}: expected an integer from {low} to {high}, got {value!r}")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise OptionsError(f"{name}: expected an integer from {low} to {high}, got {value!r}") from None
    if not low <= number <= high:
        raise OptionsError(f"{name}: expected an integer from {low} to {high}, got {number}")
    return number


def _parse_color(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not _COLOR.match(text):
        raise OptionsError(f"background.color: expected '#RRGGBB' with the '#' (e.g. '#0055FF'), got {value!r}")
    return text.upper()


def _parse_target_size(value: Any) -> tuple[int, int] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parts = value.replace("x", " ").replace(",", " ").split()
    else:
        parts = list(value)
    if len(parts) != 2:
        raise OptionsError(f"result.target_size: expected 'width height' in pixels (e.g. '1920 1080'), got {value!r}")
    width = _parse_int("result.target_size width", parts[0], 1, MAX_TARGET_SIDE)
    height = _parse_int("result.target_size height", parts[1], 1, MAX_TARGET_SIDE)
    check_result_size(width, height, "result.target_size")
    return width, height


def check_result_size(width: int, height: int, cause: str = "result.margin") -> None:
    """The result-size rule: ``width x height`` at most ``MAX_RESULT_PIXELS``, else ``ResultTooLargeError``.

    Called at parse time for a target size and by the finishing before it allocates a canvas.
    """
    if width * height > MAX_RESULT_PIXELS:
        raise ResultTooLargeError(
            f"{cause}: the result would be {width}x{height} = {width * height:,} pixels; "
            f"the largest result is {MAX_RESULT_PIXELS:,} pixels"
        )


def parse_endpoint(value: str) -> str:
    """A Pixian-compatible endpoint: an absolute http(s) URL with a host (checked before any request)."""
    from urllib.parse import urlsplit

    from pixcut.credentials import mask_url

    text = str(value).strip()
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        raise OptionsError(
            f"endpoint: {mask_url(text)!r} is not an http(s) URL (e.g. http://127.0.0.1:8765/api/v2/remove-background)"
        )
    return text


def parse_threads(value: int | None) -> int | None:
    """Offline engine threads: None (all cores) or 1..256."""
    return None if value is None else _parse_int("threads", value, 1, 256)


#: The offline engine's runtimes (pixcut.engine.session): auto runs U^2-Net models on ncnn on a CPU.
RUNTIMES = ("auto", "onnxruntime", "ncnn")


def parse_runtime(value: str | None) -> str | None:
    """The offline engine's runtime: ``value`` (``--runtime``), else ``PIXCUT_RUNTIME``, else None (auto).

    Checked where the settings are made, so a misspelt value is one usage error before a batch or
    a server starts instead of an error per input.
    """
    source, raw = ("runtime", value) if value else ("PIXCUT_RUNTIME", os.environ.get("PIXCUT_RUNTIME", ""))
    if not raw.strip():
        return None
    return _parse_choice(source, raw, RUNTIMES)


def _parse_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise OptionsError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return text


@dataclass(frozen=True)
class RemovalOptions:
    """The API's parameters. Construct with plain Python values or strings; all are validated.

    ``margin`` and ``target_size`` accept the API's text forms ('10px 5%', '1920 1080')
    as well as a ``Margin`` or a (width, height) tuple.
    """

    test: bool = False
    max_pixels: int = MAX_MAX_PIXELS
    background_color: str | None = None
    crop_to_foreground: bool = False
    margin: Margin = ZERO_MARGIN
    target_size: tuple[int, int] | None = None
    vertical_alignment: VerticalAlignment = "middle"
    output_format: OutputFormat = "auto"
    jpeg_quality: int = 75
    # pixcut's own options, never sent as form fields: the cloud client derives them locally.
    output: OutputType = "cutout"  # "mask": the 8-bit alpha matte of the result instead of the cutout
    webp_quality: int | None = None  # None: lossless WebP; 1..100: lossy
    keep_metadata: bool = False  # carry the input's EXIF/XMP into the output (the ICC profile always is)
    png_compression: int = DEFAULT_PNG_COMPRESSION  # PNGs pixcut encodes (not the cloud's own PNGs)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "test", parse_bool("test", self.test))
        set_(self, "max_pixels", _parse_int("max_pixels", self.max_pixels, MIN_MAX_PIXELS, MAX_MAX_PIXELS))
        set_(self, "background_color", _parse_color(self.background_color))
        set_(self, "crop_to_foreground", parse_bool("result.crop_to_foreground", self.crop_to_foreground))
        given: object = self.margin  # at run time also the API's text form (or None / "" for none)
        if given is None or given == "":
            margin = ZERO_MARGIN
        elif isinstance(given, Margin):
            margin = given
        else:
            margin = Margin.parse(str(given))
        set_(self, "margin", margin)
        set_(self, "target_size", _parse_target_size(self.target_size))
        set_(
            self,
            "vertical_alignment",
            _parse_choice("result.vertical_alignment", self.vertical_alignment, VERTICAL_ALIGNMENTS),
        )
        set_(self, "output_format", _parse_choice("output.format", self.output_format, OUTPUT_FORMATS))
        set_(self, "jpeg_quality", _parse_int("output.jpeg_quality", self.jpeg_quality, 1, 100))
        set_(self, "output", _parse_choice("output", self.output, OUTPUT_TYPES))
        if self.webp_quality is not None:
            set_(self, "webp_quality", _parse_int("webp_quality", self.webp_quality, 1, 100))
            if self.output_format != "webp":
                raise OptionsError("webp_quality: applies to WebP output only; add output format webp (--format webp)")
        set_(self, "keep_metadata", parse_bool("keep_metadata", self.keep_metadata))
        levels = PNG_COMPRESSION_LEVELS
        set_(self, "png_compression", _parse_int("png_compression", self.png_compression, levels[0], levels[-1]))
        if self.output == "mask" and self.output_format not in MASK_FORMATS:
            raise OptionsError(
                f"output=mask: a mask is written as PNG or WebP (format auto, png or webp), not {self.output_format}"
            )

    # -- conversions -------------------------------------------------------------------------

    def to_form(self) -> dict[str, str]:
        """The API's form fields for every parameter that differs from its default."""
        default = RemovalOptions()
        form: dict[str, str] = {}
        for name, attr in FORM_FIELDS.items():
            value = getattr(self, attr)
            if value == getattr(default, attr):
                continue
            form[name] = _form_value(value)
        return form

    @classmethod
    def from_form(cls, form: Mapping[str, Any]) -> RemovalOptions:
        """Parse the API's form fields; unknown fields are an error (input fields are skipped)."""
        kwargs: dict[str, Any] = {}
        for name, value in form.items():
            if name in INPUT_FIELDS:
                continue
            attr = FORM_FIELDS.get(name)
            if attr is None:
                raise OptionsError(
                    f"{name}: unknown parameter; the API accepts {', '.join(FORM_FIELDS)} "
                    f"and one of {', '.join(INPUT_FIELDS)}"
                )
            kwargs[attr] = value
        if "output_format" in kwargs:
            _parse_choice("output.format", kwargs["output_format"], WIRE_OUTPUT_FORMATS)
        return cls(**kwargs)

    def replace(self, **changes: Any) -> RemovalOptions:
        return replace(self, **changes)

    @property
    def resolved_format(self) -> str:
        """``auto`` resolved as the API does: JPEG when a background colour makes the result opaque.

        A mask ignores the background colour (it is the matte itself), so its ``auto`` is PNG.
        """
        if self.output_format == "auto":
            return "jpeg" if self.background_color and self.output == "cutout" else "png"
        return self.output_format

    @property
    def wire_options(self) -> RemovalOptions:
        """What to ask a Pixian-compatible service for so these options can be finished locally.

        The wire knows neither masks nor WebP: ask for a PNG cutout (without background colour
        for a mask, since the matte is its alpha) and derive the rest here.
        """
        if not self.needs_local_output:
            return self
        if self.output == "mask":
            return replace(
                self,
                output="cutout",
                output_format="png",
                background_color=None,
                keep_metadata=False,
                webp_quality=None,
            )
        return replace(self, output_format="png", webp_quality=None, keep_metadata=False)

    @property
    def needs_local_output(self) -> bool:
        """True when a wire result must be re-encoded locally (mask, WebP, kept metadata)."""
        if self.output_format == "delta_png":
            return False  # a Delta PNG is raw material, never finished or tagged
        return self.output == "mask" or self.output_format == "webp" or self.keep_metadata

    @property
    def needs_finishing(self) -> bool:
        """True when the result differs from the plain full-size cutout."""
        return bool(self.crop_to_foreground or self.target_size or not self.margin.is_zero or self.background_color)

    def result_size(self, content_width: int, content_height: int) -> tuple[int, int]:
        """The result's (width, height) for content of this size (after any crop), checked against
        ``MAX_RESULT_PIXELS`` before the finishing allocates it."""
        if self.target_size:
            return self.target_size  # checked when parsed
        top, right, bottom, left = self.margin.resolve(content_width, content_height)
        width, height = content_width + left + right, content_height + top + bottom
        check_result_size(width, height)
        return width, height

    def as_dict(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Margin) else value
        return out


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    return str(value)
