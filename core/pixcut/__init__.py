"""pixcut: background removal through the Pixian.AI API v2 or an offline engine.

>>> import pixcut
>>> result = pixcut.remove_background("photo.jpg", crop_to_foreground=True)  # offline by default
>>> result.save("cutout.png")
"""

# The one version string: setup.cfg reads it (version = attr:), the CLI's --version, the server's
# OpenAPI document and the Pixian client's User-Agent use it. Set before the imports below so any
# module imported by them can read it.
__version__ = "0.1.0"

from pixcut.allocator import tune_allocator
from pixcut.api import remove_background
from pixcut.backends import BackendSettings, ImageInput, create_backend
from pixcut.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ImageError,
    ModelError,
    NetworkError,
    OptionsError,
    PixcutError,
    RateLimitedError,
    ServerError,
)
from pixcut.hookspecs import hookimpl
from pixcut.options import RemovalOptions
from pixcut.result import RemovalResult, ResultInfo

__all__ = [
    "APIError",
    "AuthenticationError",
    "BackendSettings",
    "BadRequestError",
    "ImageError",
    "ImageInput",
    "ModelError",
    "NetworkError",
    "OptionsError",
    "PixcutError",
    "RateLimitedError",
    "RemovalOptions",
    "RemovalResult",
    "ResultInfo",
    "ServerError",
    "create_backend",
    "hookimpl",
    "remove_background",
    "tune_allocator",
]
