"""Backends turn (image, options) into a ``RemovalResult``; they are found through the plug-in hook.

Built-ins: ``local`` (the offline engine, the default) and ``pixian`` (the cloud
API, or any compatible server through ``endpoint``).
"""

from __future__ import annotations

import base64
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from PIL import Image

from pixcut.credentials import Credentials
from pixcut.errors import OptionsError
from pixcut.imageio import load_input, read_bytes
from pixcut.options import RemovalOptions, parse_endpoint, parse_runtime, parse_threads
from pixcut.result import RemovalResult

DEFAULT_BACKEND = "local"
BASE64_LIMIT = 1_000_000  # the API's limit on the image.base64 string, in characters


@dataclass
class ImageInput:
    """One input as a backend receives it: file bytes (sent as a file part or base64) or a URL."""

    data: bytes | None = None
    url: str | None = None
    filename: str = "image"
    transport: Literal["file", "base64"] = "file"

    @classmethod
    def from_source(cls, source: str | os.PathLike[str] | bytes | Image.Image | ImageInput) -> ImageInput:
        if isinstance(source, ImageInput):
            return source
        if isinstance(source, Image.Image):
            # The same reader rules as a file (imageio.load_input): EXIF orientation applied,
            # 16-bit scaled rather than clipped, the input size limit. The upright 8-bit result
            # is what travels, so no backend reads the orientation a second time.
            loaded = load_input(source)
            buffer = io.BytesIO()
            icc = loaded.metadata.icc_profile  # of the pixels that travel (CMYK became sRGB)
            loaded.image.save(buffer, "PNG", compress_level=1, **({"icc_profile": icc} if icc else {}))
            return cls(data=buffer.getvalue(), filename="image.png")
        if isinstance(source, str) and source.startswith(("http://", "https://")):
            return cls(url=source)
        if isinstance(source, bytes | bytearray | memoryview):
            return cls(data=bytes(source))
        return cls(data=read_bytes(source), filename=Path(source).name)

    @property
    def display_name(self) -> str:
        return self.url or self.filename

    def base64_field(self) -> str:
        """The ``image.base64`` value, refused client-side when over the API's 1 MB limit."""
        assert self.data is not None
        encoded = base64.b64encode(self.data).decode("ascii")
        if len(encoded) > BASE64_LIMIT:
            raise OptionsError(
                f"image.base64: the encoded image is {len(encoded):,} characters; the API accepts at most "
                f"{BASE64_LIMIT:,}. Upload it as a file instead."
            )
        return encoded


@dataclass
class BackendSettings:
    """Everything a backend factory may need; each backend reads the fields it understands."""

    endpoint: str | None = None
    credentials: Credentials | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 180.0  # the API asks for an idle timeout of at least 180 s
    backoff_unit: float = 5.0  # seconds; 429 and 5xx waits are 1, 2, 3... units
    network_backoff: float = 0.25  # seconds; connection failures wait 1, 2, 4... of these (1.75 s in all)
    max_rate_limit_retries: int = 12
    max_server_retries: int = 3
    sleep: Callable[[float], None] = field(default=time.sleep)
    model: str | None = None  # offline engine: a catalogue name or an .onnx path (None: the configured default)
    model_family: str | None = None  # offline engine: an .onnx file's family (u2net, isnet, birefnet)
    threads: int | None = None
    runtime: str | None = None  # offline engine: auto, onnxruntime or ncnn (None: PIXCUT_RUNTIME, else auto)
    decontaminate: bool = False  # offline engine: remove the old background's colour from soft edges

    def __post_init__(self) -> None:
        # Checked here, once, so a bad --endpoint, --threads or runtime fails before a batch starts
        # instead of once per input (the rules themselves live in options.py).
        if self.endpoint is not None:
            self.endpoint = parse_endpoint(self.endpoint)
        self.threads = parse_threads(self.threads)
        self.runtime = parse_runtime(self.runtime)


class Backend(Protocol):
    name: str

    def remove(self, source: ImageInput, options: RemovalOptions) -> RemovalResult: ...


def create_backend(name: str | None = None, settings: BackendSettings | None = None) -> Backend:
    """Build a registered backend by name (default: the offline engine)."""
    from pixcut.plugins import get_backends

    backends = get_backends()
    chosen = name or DEFAULT_BACKEND
    info = backends.get(chosen)
    if info is None:
        raise OptionsError(f"backend: unknown backend {chosen!r}; available: {', '.join(sorted(backends))}")
    return info.factory(settings or BackendSettings())
