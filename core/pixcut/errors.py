"""The exception hierarchy every part of pixcut raises.

One hierarchy for the cloud client, the offline engine and the server, so a caller
(or the CLI's ``--json`` output, which the host plug-ins read) can tell "fix your
input" from "try again later" without parsing messages.
"""

from __future__ import annotations


class PixcutError(Exception):
    """Base class. ``status`` and ``code`` mirror the API's error JSON object."""

    status: int | None = None
    code: int | None = None
    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None) -> None:
        # Every message goes through the one masking helper: a URL in it (an --endpoint, a
        # redirect target) may carry user:password, and these messages reach logs and users.
        from pixcut.credentials import mask_secrets

        message = mask_secrets(message)
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def to_json(self) -> dict[str, object]:
        """The shape used by ``pixcut remove --json`` and by ``pixcut serve``'s error body."""
        return {
            "type": type(self).__name__,
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }


class OptionsError(PixcutError, ValueError):
    """A parameter is invalid; raised before any request is made."""

    status = 400
    code = 1100


class ResultTooLargeError(OptionsError):
    """The result (after margin or target size) would exceed ``options.MAX_RESULT_PIXELS``.

    Refused before any canvas is allocated, so one request cannot make a server allocate gigabytes.
    """

    code = 1103


class MissingInputError(OptionsError):
    """No image was given, or more than one of image / image.base64 / image.url."""

    code = 1101


class RequestTooLargeError(OptionsError):
    """The request body is larger than the server accepts."""

    status = 413
    code = 1102


class ImageError(PixcutError):
    """The input image cannot be used (unreadable, unsupported type, too large)."""

    status = 400
    code = 1006


class UnsupportedImageError(ImageError):
    code = 1007


class ImageTooLargeError(ImageError):
    code = 1008


class DeltaPngError(PixcutError):
    """A Delta PNG cannot be combined with the given input (e.g. sizes differ)."""

    code = 1300


class ModelError(PixcutError):
    """The offline model is missing, corrupt or cannot be loaded; the message says how to fix it."""

    code = 1400


class APIError(PixcutError):
    """The remove-background service answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.body = body


class BadRequestError(APIError):
    """4xx: the request is wrong; retrying the same request will not help."""


class AuthenticationError(BadRequestError):
    """401/403: missing or wrong API credentials."""

    status = 401
    code = 1200


class RateLimitedError(APIError):
    """429: too many requests (from the cloud after the back-off attempts were used up, or an
    overloaded ``pixcut serve``)."""

    status = 429
    code = 1500
    retryable = True


class ServerError(APIError):
    """5xx: the service failed; the client already retried a bounded number of times."""

    status = 500
    code: int | None = 1000  # declared optional: InvalidResponseError has no code of its own

    retryable = True


class InvalidResponseError(ServerError):
    """The service answered 200, but the body is not a decodable PNG/JPEG of the announced size
    (a captive portal, a proxy's error page, a truncated body). Retried like a 5xx."""

    status = 200
    code = None


class OutputError(PixcutError):
    """The output file cannot be written (a folder in the way, a file where a folder should be,
    no permission, disk full). The message names the output, never a temporary file."""


class NetworkError(PixcutError):
    """The service could not be reached or did not answer in time."""

    retryable = True


def describe_exception(exc: BaseException) -> dict[str, object]:
    """The error JSON for any exception, for the places that must report one without a traceback.

    A pixcut error keeps its fields. Anything else keeps its type name and gets a message
    that is never empty (``MemoryError()`` has none) and never shows a secret from a URL.
    """
    if isinstance(exc, PixcutError):
        return exc.to_json()
    from pixcut.credentials import mask_secrets

    if isinstance(exc, MemoryError):
        message = "not enough memory for this image (try a smaller --max-pixels or fewer --jobs)"
    else:
        message = mask_secrets(str(exc)) or type(exc).__name__
    return {"type": type(exc).__name__, "status": None, "code": None, "message": message}
