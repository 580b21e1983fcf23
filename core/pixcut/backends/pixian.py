"""The Pixian.AI remove-background API v2 client (or any compatible server, e.g. ``pixcut serve``).

Behaviour the provider documents and this client follows: HTTP Basic auth; an
idle timeout of at least 180 s; on 429 a linear back-off of 5 s, 10 s, 15 s ...
per thread, reset after a success (the provider's rule, for 429 only). Server errors
(5xx) are retried a bounded number of times on the same linear unit; connection
failures (refused, reset, a truncated body) get a short doubling back-off (0.25 s,
0.5 s, 1 s), so an unreachable endpoint is reported in about two seconds, not thirty.
4xx errors are not retried (the request is wrong and would fail again, possibly
costing credits). Error JSON becomes a typed exception; a non-JSON error body still
gives a clean message. A 200 is a success only when its body decodes as the PNG/JPEG
of the announced size: a captive portal's page is an ``InvalidResponseError``.

Credentials are required for the provider's own endpoint. Another endpoint (``pixcut
serve``, a proxy) gets them when they are configured and none otherwise; if it wants
them, its 401 is reported with how to configure them.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from PIL import Image

from pixcut import __version__
from pixcut.backends import BackendSettings, ImageInput
from pixcut.credentials import find_credentials, mask_url
from pixcut.encoding import NO_METADATA
from pixcut.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ImageError,
    InvalidResponseError,
    NetworkError,
    RateLimitedError,
    ServerError,
)
from pixcut.finishing import refinish
from pixcut.hookspecs import RegisterBackend, hookimpl
from pixcut.imageio import ProviderUpload, provider_upload, read_metadata, read_result
from pixcut.options import RemovalOptions
from pixcut.result import RemovalResult, ResultInfo

if TYPE_CHECKING:
    import requests

DEFAULT_ENDPOINT = "https://api.pixian.ai/api/v2/remove-background"
USER_AGENT = f"pixcut/{__version__}"  # the package's one version string


CREDENTIALS_HINT = (
    "set PIXIAN_API_ID and PIXIAN_API_SECRET, or run 'pixcut config set-credentials' (the offline backend needs none)"
)


@cache
def _requests() -> Any:
    """``requests``, imported on the first cloud call: its import (about 90 ms) was paid by every
    ``pixcut`` command, offline ones and each GIMP/Krita run included, since this module is a
    default plug-in loaded with the others."""
    import requests

    return requests


def network_errors() -> tuple[type[Exception], ...]:
    """Connection failures: requests raises these for a refused/reset connection, a timeout and a
    body cut short (ChunkedEncodingError covers a Content-Length the body did not reach)."""
    requests = _requests()
    return (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    )


def is_provider_endpoint(url: str) -> bool:
    """True for the Pixian.AI service itself, which always needs credentials."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "pixian.ai" or host.endswith(".pixian.ai")


def body_summary(body: bytes, content_type: str) -> str:
    """What a body is, for a message: its content type and its text without markup, shortened."""
    kind = content_type.split(";")[0] or "no content type"
    try:
        text = body[:4000].decode("utf-8")  # text is shown; binary junk only counted
    except UnicodeDecodeError:
        text = ""
    text = " ".join(re.sub(r"<[^>]+>", " ", text).split())[:200]
    return f"{kind}, {len(body):,} bytes" + (f": {text}" if text else "")


def error_from_response(status: int, body: bytes, content_type: str = "") -> APIError:
    """Map an error response to the exception hierarchy, whatever the body holds."""
    code: int | None = None
    message: str | None = None
    try:
        payload = json.loads(body.decode("utf-8"))
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            code = error.get("code") if isinstance(error.get("code"), int) else None
            message = str(error.get("message") or "").strip() or None
    except (ValueError, UnicodeDecodeError, AttributeError):
        pass
    if message is None:
        text = " ".join(re.sub(r"<[^>]+>", " ", body.decode("utf-8", "replace")).split())[:200]
        kind = content_type.split(";")[0] or "no content type"
        message = f"HTTP {status} with a non-JSON body ({kind})" + (f": {text}" if text else "")
    if status in (401, 403):
        cls: type[APIError] = AuthenticationError
    elif status == 429:
        cls = RateLimitedError
    elif status >= 500:
        cls = ServerError
    else:
        cls = BadRequestError
    error = cls(message, status=status, code=code, body=body[:2000].decode("utf-8", "replace"))
    error.code = code  # the service's own code (None when its body had none), never our default
    return error


class PixianBackend:
    """A thread-safe client: one HTTP session and one 429 back-off counter per thread."""

    name = "pixian"

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings
        self.endpoint = settings.endpoint or DEFAULT_ENDPOINT
        self._local = threading.local()

    # Per-thread state: the provider asks that threads back off independently.
    @property
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = _requests().Session()
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
        return session

    @property
    def consecutive_429(self) -> int:
        return getattr(self._local, "consecutive_429", 0)

    def _set_429(self, value: int) -> None:
        self._local.consecutive_429 = value

    def remove(self, source: ImageInput, options: RemovalOptions) -> RemovalResult:
        auth = self._auth()
        fields = options.wire_options.to_form()
        files = None
        upload = ProviderUpload(b"")
        if source.url:
            fields["image.url"] = source.url
        else:
            upload = provider_upload(source.data or b"")  # WebP/AVIF/HEIC: a lossless PNG, upright
            if upload.converted_from:
                source = replace(source, data=upload.data, filename=f"{Path(source.filename).stem}.png")
            if source.transport == "base64":
                fields["image.base64"] = source.base64_field()
            else:
                files = {"image": (source.filename, source.data or b"", "application/octet-stream")}
        response, info, image = self._post(fields, files, auth)
        if options.output_format == "delta_png":
            fmt = "delta_png"
        else:
            fmt = "jpeg" if image.format == "JPEG" else "png"
        if upload.converted_from and upload.orientation != 1:
            info.input_orientation = upload.orientation  # applied before upload: the user's file had it
        result = RemovalResult(
            data=response.content,
            format=fmt,
            info=info,
            backend=self.name,
            _image=image,
            converted_for_upload=upload.converted_from,
        )
        if options.needs_local_output:
            result = refinish(result, options, read_metadata(source.data) if source.data else NO_METADATA)
        return result

    def _auth(self) -> tuple[str, str] | None:
        """Basic-auth credentials: required for the provider, sent to another endpoint when configured."""
        credentials = self.settings.credentials or find_credentials(self.endpoint)
        if credentials is not None:
            return credentials.api_id, credentials.api_secret
        if is_provider_endpoint(self.endpoint):
            raise AuthenticationError(f"no API credentials: {CREDENTIALS_HINT}", status=401)
        return None

    def _check_body(self, response: requests.Response) -> tuple[ResultInfo, Image.Image]:
        """A 200's body must be the PNG/JPEG of the announced size; otherwise an InvalidResponseError."""
        info = ResultInfo.from_headers(response.headers)
        try:
            return info, read_result(response.content, info.result_size)
        except ImageError as exc:
            summary = body_summary(response.content, response.headers.get("Content-Type", ""))
            raise InvalidResponseError(
                f"{mask_url(self.endpoint)} answered 200 but {exc.message} ({summary}); "
                f"is a proxy or a captive portal in the way?",
                status=200,
            ) from None

    def _post(
        self, fields: dict[str, str], files: dict[str, Any] | None, auth: tuple[str, str] | None
    ) -> tuple[requests.Response, ResultInfo, Image.Image]:
        settings = self.settings
        server_failures = 0
        network_failures = 0
        while True:
            try:
                response = self._session.post(
                    self.endpoint,
                    data=fields,
                    files=files,
                    auth=auth,
                    timeout=(settings.connect_timeout, settings.read_timeout),
                )
            except network_errors() as exc:
                network_failures += 1
                if network_failures > settings.max_server_retries:
                    raise NetworkError(
                        f"{mask_url(self.endpoint)} {_network_failure(exc)} "
                        f"({network_failures} attempt{'s' if network_failures > 1 else ''})"
                    ) from None
                settings.sleep(settings.network_backoff * 2 ** (network_failures - 1))
                continue
            except _requests().RequestException as exc:  # an unusable URL: the same answer every time
                raise NetworkError(f"{mask_url(self.endpoint)}: {type(exc).__name__}: {exc}") from None
            if response.status_code == 200:
                self._set_429(0)
                try:
                    info, image = self._check_body(response)
                except InvalidResponseError:
                    if server_failures >= settings.max_server_retries:
                        raise
                    server_failures += 1
                    settings.sleep(settings.backoff_unit * server_failures)
                    continue
                return response, info, image
            if response.status_code == 429:
                count = self.consecutive_429 + 1
                self._set_429(count)
                if count > settings.max_rate_limit_retries:
                    self._set_429(0)
                    raise error_from_response(429, response.content, response.headers.get("Content-Type", ""))
                settings.sleep(settings.backoff_unit * count)
                continue
            error = error_from_response(
                response.status_code, response.content, response.headers.get("Content-Type", "")
            )
            if isinstance(error, AuthenticationError) and auth is None:
                error.message = f"{error.message} ({mask_url(self.endpoint)} wants credentials: {CREDENTIALS_HINT})"
                error.args = (error.message,)
            if response.status_code >= 500 and server_failures < settings.max_server_retries:
                server_failures += 1
                settings.sleep(settings.backoff_unit * server_failures)
                continue
            raise error


def _network_failure(exc: Exception) -> str:
    requests = _requests()
    if isinstance(exc, requests.Timeout):
        return "did not answer in time"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return "sent an incomplete or corrupt response"
    return "could not be reached (connection refused or reset)"


@hookimpl(trylast=True)  # a built-in: an installed plug-in registering the same name wins
def pixcut_register_backends(register: RegisterBackend) -> None:
    register("pixian", PixianBackend, "Pixian.AI remove-background API v2 (cloud; needs credentials)")
