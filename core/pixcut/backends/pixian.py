"""The Pixian.AI remove-background API v2 client (or any compatible server, e.g. ``pixcut serve``).

Behaviour the provider documents and this client follows: HTTP Basic auth; an
idle timeout of at least 180 s; on 429 a linear back-off of 5 s, 10 s, 15 s ...
per thread, reset after a success. Server errors (5xx) and connection failures are
retried a bounded number of times; 4xx errors are not (the request is wrong and
would fail again, possibly costing credits). Error JSON becomes a typed
exception; a non-JSON error body still gives a clean message.
"""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import urlsplit, urlunsplit

import requests

from pixcut.backends import BackendSettings, ImageInput
from pixcut.credentials import find_credentials
from pixcut.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NetworkError,
    RateLimitedError,
    ServerError,
)
from pixcut.finishing import refinish
from pixcut.hookspecs import RegisterBackend, hookimpl
from pixcut.options import RemovalOptions
from pixcut.result import RemovalResult, ResultInfo

DEFAULT_ENDPOINT = "https://api.pixian.ai/api/v2/remove-background"
USER_AGENT = "pixcut/0.1"


def safe_url(url: str) -> str:
    """The URL without any user:password part, for messages and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, parts.query, ""))


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
        text = body.decode("utf-8", "replace")
        text = re.sub(r"<[^>]+>", " ", text)
        text = " ".join(text.split())[:200]
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
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
        return session

    @property
    def consecutive_429(self) -> int:
        return getattr(self._local, "consecutive_429", 0)

    def _set_429(self, value: int) -> None:
        self._local.consecutive_429 = value

    def remove(self, source: ImageInput, options: RemovalOptions) -> RemovalResult:
        credentials = self.settings.credentials or find_credentials(self.endpoint)
        if credentials is None:
            raise AuthenticationError(
                "no API credentials: set PIXIAN_API_ID and PIXIAN_API_SECRET, or run "
                "'pixcut config set-credentials' (the offline backend needs none)",
                status=401,
            )
        fields = options.wire_options.to_form()
        files = None
        if source.url:
            fields["image.url"] = source.url
        elif source.transport == "base64":
            fields["image.base64"] = source.base64_field()
        else:
            files = {"image": (source.filename, source.data or b"", "application/octet-stream")}
        response = self._post(fields, files, (credentials.api_id, credentials.api_secret))
        content_type = response.headers.get("Content-Type", "")
        if options.output_format == "delta_png":
            fmt = "delta_png"
        else:
            fmt = "jpeg" if "jpeg" in content_type else "png"
        result = RemovalResult(
            data=response.content, format=fmt, info=ResultInfo.from_headers(response.headers), backend=self.name
        )
        return refinish(result, options) if options.needs_local_output else result

    def _post(self, fields: dict[str, str], files: dict | None, auth: tuple[str, str]) -> requests.Response:
        settings = self.settings
        server_failures = 0
        while True:
            try:
                response = self._session.post(
                    self.endpoint,
                    data=fields,
                    files=files,
                    auth=auth,
                    timeout=(settings.connect_timeout, settings.read_timeout),
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                server_failures += 1
                if server_failures > settings.max_server_retries:
                    kind = "timed out" if isinstance(exc, requests.Timeout) else "could not be reached"
                    raise NetworkError(f"{safe_url(self.endpoint)} {kind} after {server_failures} attempts") from None
                settings.sleep(settings.backoff_unit * server_failures)
                continue
            if response.status_code == 200:
                self._set_429(0)
                return response
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
            if response.status_code >= 500 and server_failures < settings.max_server_retries:
                server_failures += 1
                settings.sleep(settings.backoff_unit * server_failures)
                continue
            raise error


@hookimpl(trylast=True)  # a built-in: an installed plug-in registering the same name wins
def pixcut_register_backends(register: RegisterBackend) -> None:
    register("pixian", PixianBackend, "Pixian.AI remove-background API v2 (cloud; needs credentials)")
