"""ASGI middleware that runs before routing: authentication, then the body size limit.

Both are plain ASGI (not ``BaseHTTPMiddleware``) so they neither buffer the body
nor hide the app's own exception handling. Authentication comes first so an
unauthenticated client cannot make the server read a large body. The body limit
answers 413 from ``Content-Length`` before reading anything; for a body without a
length (chunked) it counts bytes as the app reads them and raises
``RequestTooLargeError``, which the endpoint turns into the same 413 JSON.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixcut.errors import PixcutError, RequestTooLargeError
from pixcut.server.auth import BasicAuth
from pixcut.server.errors import describe, error_body
from pixcut.server.removebg import REMOVEBG_PATH
from pixcut.server.removebg import error_response as removebg_error_response
from pixcut.server.web import is_page_path


def header_value(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (ASGI gives lower-case names), or None."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])  # ASGI: (name, value) byte pairs
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def send_error(exc: PixcutError, scope: Scope, receive: Receive, send: Send) -> None:
    """The error in the form of the API the path belongs to (remove.bg's for its endpoint)."""
    if scope.get("path") == REMOVEBG_PATH:
        response = removebg_error_response(exc)
    else:
        status, code, message, headers = describe(exc)
        response = JSONResponse(error_body(status, code, message), status_code=status, headers=headers)
    await response(scope, receive, send)


class AuthMiddleware:
    """Every HTTP request (API, health, docs) must carry the configured Basic credentials; remove.bg's
    endpoint also takes them as ``X-Api-Key: ID:SECRET``. The web page's static files are public."""

    def __init__(self, app: ASGIApp, auth: BasicAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if is_page_path(path):  # the web page's own files: it asks for credentials when the API answers 401
            await self.app(scope, receive, send)
            return
        authorization = header_value(scope, b"authorization")
        try:
            if path == REMOVEBG_PATH and authorization is None:
                self.auth.check_api_key(header_value(scope, b"x-api-key"))
            else:
                self.auth.check(authorization)
        except PixcutError as exc:
            await send_error(exc, scope, receive, send)
            return
        await self.app(scope, receive, send)


def too_large(limit: int) -> RequestTooLargeError:
    return RequestTooLargeError(f"The request body is larger than this server accepts ({limit / (1024 * 1024):g} MB)")


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with 413 and the error JSON."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = header_value(scope, b"content-length")
        try:
            declared = int(length) if length is not None else 0
        except ValueError:
            declared = 0
        if declared > self.limit:
            await send_error(too_large(self.limit), scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise too_large(self.limit)
            return message

        await self.app(scope, counting_receive, send)
