"""The error JSON body and the error classes only the server raises.

Every error answer has the API's shape ``{"error": {"status", "code", "message"}}``
(see docs/server.md for the code table). The core's classes cover the image,
option, auth and overload cases; the ones below are about the server's own
features (URL fetching, routing) and use the 16xx range so they cannot collide
with codes the core may add.
"""

from __future__ import annotations

import math

from pixcut.errors import ImageError, OptionsError, PixcutError, RateLimitedError

GENERIC_MESSAGE = "Internal server error; the failure was logged on the server. Please retry later."


class UrlFetchDisabledError(OptionsError):
    """``image.url`` was given but this server was started without ``--allow-url-fetch``."""

    code = 1601


class UrlRefusedError(OptionsError):
    """``image.url`` names a target the server will not contact (scheme, private address, redirects)."""

    code = 1602


class UrlFetchError(ImageError):
    """``image.url`` could not be fetched (resolution, timeout, HTTP status, size cap)."""

    code = 1603


class RouteError(PixcutError):
    """No such endpoint, or a method the endpoint does not take (status 404 or 405)."""

    code = 1604


class RequestTimeoutError(OptionsError):
    """The request's headers and body did not arrive within ``--request-timeout`` (a slow client)."""

    status = 408
    code = 1605


class OverloadedError(RateLimitedError):
    """Every worker is busy and the queue is full; ``retry_after`` is a whole number of seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, status=429, code=RateLimitedError.code)
        self.retry_after = max(1, min(120, math.ceil(retry_after)))


def error_body(status: int, code: int, message: str) -> dict[str, dict[str, object]]:
    """The API's error object (nothing else: no exception type, no traceback)."""
    return {"error": {"status": status, "code": code, "message": message}}


def describe(exc: PixcutError) -> tuple[int, int, str, dict[str, str]]:
    """(status, code, message, extra headers) for a pixcut error, with safe fall-backs.

    A ``ModelError`` has no HTTP status of its own: at request time it means the
    server cannot work, so it is a 500 that keeps its own code.
    """
    status = exc.status if isinstance(exc.status, int) and 400 <= exc.status <= 599 else 500
    code = exc.code if isinstance(exc.code, int) else 1000
    headers: dict[str, str] = {}
    if isinstance(exc, OverloadedError):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="pixcut serve"'
    return status, code, exc.message, headers
