"""Boxes and sizes in the API's header text forms.

The API writes boxes as ``top left width height`` and sizes as ``width height``;
keeping both conversions here means the client's parser and the server's writer
cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels, in the order the API's headers use."""

    top: int
    left: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def to_pil(self) -> tuple[int, int, int, int]:
        """PIL's (left, upper, right, lower) form, for ``Image.crop``."""
        return (self.left, self.top, self.right, self.bottom)

    def to_header(self) -> str:
        return f"{self.top} {self.left} {self.width} {self.height}"

    def to_list(self) -> list[int]:
        return [self.top, self.left, self.width, self.height]

    @classmethod
    def from_header(cls, text: str) -> Box:
        parts = [round(float(p)) for p in text.replace(",", " ").split()]
        if len(parts) != 4:
            raise ValueError(f"a box needs 4 numbers (top left width height), got {text!r}")
        return cls(*parts)

    @classmethod
    def from_pil(cls, bbox: tuple[int, int, int, int]) -> Box:
        left, top, right, bottom = bbox
        return cls(top, left, right - left, bottom - top)


def size_to_header(size: tuple[int, int]) -> str:
    return f"{size[0]} {size[1]}"


def size_from_header(text: str) -> tuple[int, int]:
    parts = [round(float(p)) for p in text.replace(",", " ").split()]
    if len(parts) != 2:
        raise ValueError(f"a size needs 2 numbers (width height), got {text!r}")
    return parts[0], parts[1]


def foreground_box(image: Image.Image) -> Box | None:
    """The bounding box of every pixel with non-zero alpha; None when nothing is foreground.

    The API defines the foreground by the result's alpha, so this is the single
    definition used for cropping and for the ``X-*-Foreground`` headers.
    """
    if image.mode != "RGBA":
        return Box(0, 0, image.width, image.height)
    bbox = image.getchannel("A").getbbox()
    return Box.from_pil(bbox) if bbox else None
