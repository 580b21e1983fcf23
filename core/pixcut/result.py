"""The typed result of a removal: the image bytes and the seven result headers.

The same class is filled from a cloud response's headers (client), from the
offline engine's bookkeeping (local backend), and written back out as headers by
``pixcut serve``, so there is one parser and one writer for the header forms.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from pixcut.atomic import write_atomic
from pixcut.geometry import Box, size_from_header, size_to_header

H_CREDITS_CHARGED = "X-Credits-Charged"
H_CREDITS_CALCULATED = "X-Credits-Calculated"
H_INPUT_ORIENTATION = "X-Input-Orientation"
H_INPUT_SIZE = "X-Input-Size"
H_RESULT_SIZE = "X-Result-Size"
H_INPUT_FOREGROUND = "X-Input-Foreground"
H_RESULT_FOREGROUND = "X-Result-Foreground"
RESULT_HEADERS = (
    H_CREDITS_CHARGED,
    H_CREDITS_CALCULATED,
    H_INPUT_ORIENTATION,
    H_INPUT_SIZE,
    H_RESULT_SIZE,
    H_INPUT_FOREGROUND,
    H_RESULT_FOREGROUND,
)

CONTENT_TYPES = {"png": "image/png", "delta_png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXTENSIONS = {"png": ".png", "delta_png": ".png", "jpeg": ".jpg", "webp": ".webp"}


@dataclass
class ResultInfo:
    """What the result headers say. Missing headers are None."""

    credits_charged: float | None = None
    credits_calculated: float | None = None
    input_orientation: int | None = None
    input_size: tuple[int, int] | None = None
    result_size: tuple[int, int] | None = None
    input_foreground: Box | None = None
    result_foreground: Box | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> ResultInfo:
        """Parse the headers; a malformed header is dropped rather than failing a paid-for result."""
        lower = {k.lower(): v for k, v in headers.items()}

        def get(name: str, parse: Any) -> Any:
            raw = lower.get(name.lower())
            if raw is None or not str(raw).strip():
                return None
            try:
                return parse(str(raw).strip())
            except (ValueError, TypeError):
                return None

        return cls(
            credits_charged=get(H_CREDITS_CHARGED, float),
            credits_calculated=get(H_CREDITS_CALCULATED, float),
            input_orientation=get(H_INPUT_ORIENTATION, int),
            input_size=get(H_INPUT_SIZE, size_from_header),
            result_size=get(H_RESULT_SIZE, size_from_header),
            input_foreground=get(H_INPUT_FOREGROUND, Box.from_header),
            result_foreground=get(H_RESULT_FOREGROUND, Box.from_header),
        )

    def to_headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.credits_charged is not None:
            out[H_CREDITS_CHARGED] = f"{self.credits_charged:g}"
        if self.credits_calculated is not None:
            out[H_CREDITS_CALCULATED] = f"{self.credits_calculated:g}"
        if self.input_orientation is not None:
            out[H_INPUT_ORIENTATION] = str(self.input_orientation)
        if self.input_size is not None:
            out[H_INPUT_SIZE] = size_to_header(self.input_size)
        if self.result_size is not None:
            out[H_RESULT_SIZE] = size_to_header(self.result_size)
        if self.input_foreground is not None:
            out[H_INPUT_FOREGROUND] = self.input_foreground.to_header()
        if self.result_foreground is not None:
            out[H_RESULT_FOREGROUND] = self.result_foreground.to_header()
        return out

    def to_json(self) -> dict[str, Any]:
        """The form ``pixcut remove --json`` prints (boxes as [top, left, width, height])."""
        return {
            "input_size": list(self.input_size) if self.input_size else None,
            "result_size": list(self.result_size) if self.result_size else None,
            "input_foreground": self.input_foreground.to_list() if self.input_foreground else None,
            "result_foreground": self.result_foreground.to_list() if self.result_foreground else None,
            "orientation": self.input_orientation,
            "credits_charged": self.credits_charged,
            "credits_calculated": self.credits_calculated,
        }


@dataclass
class RemovalResult:
    """A finished result. ``format`` is 'png', 'jpeg', 'webp' or 'delta_png' (the bytes' meaning).

    A mask (``output="mask"``) is a PNG or WebP whose image is the 8-bit alpha matte.
    """

    data: bytes
    format: str
    info: ResultInfo = field(default_factory=ResultInfo)
    backend: str | None = None
    _image: Image.Image | None = field(default=None, repr=False)
    converted_for_upload: str | None = None  # the input's format when it was sent to the cloud as PNG

    @property
    def image(self) -> Image.Image:
        """The decoded image (RGBA for PNG/WebP, RGB for JPEG, L for a mask), decoded once on first use."""
        if self._image is None:
            image = Image.open(io.BytesIO(self.data))
            image.load()
            self._image = image
        return self._image

    @property
    def headers(self) -> dict[str, str]:
        return self.info.to_headers()

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the bytes atomically: an existing file is replaced only by a complete result."""
        return write_atomic(path, self.data)
