"""The FastAPI application: ``POST /api/v2/remove-background`` and ``GET /healthz``.

A request goes: authentication and body limit (middleware) -> form parsing ->
options through the core parser -> exactly one input -> a queue place (or 429) ->
URL fetch if any (worker thread) -> a worker slot -> ``pixcut.api.remove_background``
with the server's backend in a worker thread (the one hook-firing path, so observer
plug-ins see server traffic like any other removal) -> the image bytes with the result
headers the backend computed. The event loop never decodes or predicts, so health
checks and 429 answers stay fast while removals run, and uvicorn's graceful shutdown
waits for them.

Every failure becomes the API's error JSON: pixcut errors keep their status and
code; anything unexpected is logged with its traceback and answered with a
generic 500 / 1000 so no internal detail (or credential) reaches the client.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from pixcut import __version__, png_decode
from pixcut.api import remove_background as run_removal
from pixcut.backends import BASE64_LIMIT, Backend, BackendSettings, ImageInput, create_backend
from pixcut.errors import OptionsError, PixcutError, RequestTooLargeError, ServerError
from pixcut.imageio import downscaled_size, upright_size
from pixcut.options import FORM_FIELDS, RemovalOptions
from pixcut.result import RESULT_HEADERS, RemovalResult
from pixcut.server.auth import BasicAuth
from pixcut.server.config import ServeConfig
from pixcut.server.errors import GENERIC_MESSAGE, RouteError, UrlFetchDisabledError, describe, error_body
from pixcut.server.fetch import FetchPolicy, fetch_url
from pixcut.server.inputs import RequestInput, parse_input, parse_options
from pixcut.server.limits import RemovalLimiter
from pixcut.server.middleware import AuthMiddleware, BodyLimitMiddleware
from pixcut.server.removebg import add_routes as add_removebg_routes
from pixcut.server.web import add_routes as add_page_routes

API_PATH = "/api/v2/remove-background"
logger = logging.getLogger("pixcut.server")


class ServerState:
    """What the routes share: the backend, the limiter, the fetch policy, the model's description."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.backend: Backend | None = config.backend
        self.limiter = RemovalLimiter(config.workers, config.queue)
        self.fetch_policy = FetchPolicy(
            max_bytes=config.max_body_bytes,
            max_redirects=config.url_max_redirects,
            total_timeout=config.url_timeout,
        )
        self.model = "unknown"
        self.provider = "unknown"

    def load(self) -> None:
        """Build the backend and load the model before serving, so a missing model fails at
        start-up with the core's fix-it message rather than on the first request."""
        if self.backend is None:
            self.backend = create_backend(
                "local",
                BackendSettings(
                    model=self.config.model,
                    model_family=self.config.model_family,
                    threads=self.config.threads,
                    runtime=self.config.runtime,
                ),
            )
        engine = getattr(self.backend, "engine", None)
        self.model = str(getattr(engine, "model_name", None) or getattr(self.backend, "name", "unknown"))
        self.provider = str(getattr(engine, "provider", None) or "unknown")


def error_response(exc: PixcutError) -> JSONResponse:
    status, code, message, headers = describe(exc)
    return JSONResponse(error_body(status, code, message), status_code=status, headers=headers)


def http_error(exc: StarletteHTTPException) -> PixcutError:
    """Starlette's own HTTP errors (routing, malformed multipart) in the API's terms."""
    detail = str(exc.detail or "")
    if exc.status_code in (404, 405):
        return RouteError(detail or "Not found", status=exc.status_code)
    if exc.status_code == 413:
        return RequestTooLargeError(detail or "Request body too large")
    if exc.status_code == 400:
        return OptionsError(f"Malformed form data: {detail}" if detail else "Malformed form data")
    return ServerError(detail or "HTTP error", status=exc.status_code, code=1000)


def client_gone(request: Request) -> Response:
    """A client that hung up mid-upload is routine on the internet: one INFO line, no traceback.
    (The answer goes nowhere; it only closes the request for uvicorn's bookkeeping.)"""
    client = f"{request.client.host}:{request.client.port}" if request.client else "a client"
    logger.info("%s disconnected before its request was read (%s %s)", client, request.method, request.url.path)
    return Response(status_code=400)


def internal_error() -> JSONResponse:
    return error_response(ServerError(GENERIC_MESSAGE, status=500, code=1000))


def _request_body_schema() -> dict[str, Any]:
    """OpenAPI description of the form (the endpoint parses the form itself, for the core parser)."""
    properties: dict[str, Any] = {
        "image": {"type": "string", "format": "binary", "description": "the image file (one input only)"},
        "image.base64": {"type": "string", "description": f"base64 of the file, <= {BASE64_LIMIT:,} chars"},
        "image.url": {"type": "string", "description": "http(s) URL; only with --allow-url-fetch"},
    }
    for name in FORM_FIELDS:
        properties[name] = {"type": "string", "description": "see the API v2 parameter table"}
    schema = {"type": "object", "properties": properties}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The result image; the X-* headers describe it",
        "content": {"image/png": {}, "image/jpeg": {}},
        "headers": {name: {"schema": {"type": "string"}} for name in RESULT_HEADERS},
    },
    400: {"description": "Bad request: error JSON (see docs/server.md for the codes)"},
    401: {"description": "Missing or wrong credentials: error JSON"},
    413: {"description": "Request body too large: error JSON"},
    429: {"description": "Overloaded: error JSON and Retry-After"},
    500: {"description": "Internal error: error JSON, code 1000"},
}


def create_app(config: ServeConfig) -> FastAPI:
    """The server application for ``config``; run it with uvicorn (``pixcut serve`` does)."""
    state = ServerState(config)
    png_decode.MAX_PIXELS = png_decode.SERVER_MAX_PIXELS  # bounds the GIL-holding PNG decoder

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(state.load)
        logger.info(
            "pixcut serve ready: model=%s provider=%s workers=%d queue=%d auth=%s url-fetch=%s max-body=%d",
            state.model,
            state.provider,
            config.workers,
            config.queue,
            "on" if config.auth_required else "off",
            "on" if config.allow_url_fetch else "off",
            config.max_body_bytes,
        )
        yield

    app = FastAPI(
        title="pixcut serve",
        version=__version__,
        description="A Pixian.AI API v2 compatible background-removal server on pixcut's offline engine.",
        lifespan=lifespan,
    )
    app.state.pixcut = state

    @app.exception_handler(PixcutError)
    async def on_pixcut_error(request: Request, exc: PixcutError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(http_error(exc))

    @app.exception_handler(ClientDisconnect)
    async def on_client_gone(request: Request, exc: ClientDisconnect) -> Response:
        return client_gone(request)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return internal_error()

    @app.post(API_PATH, responses=_RESPONSES, openapi_extra=_request_body_schema())
    async def remove_background(request: Request) -> Response:
        """Remove the background of one image (Pixian API v2 parameters, multipart or url-encoded)."""
        try:
            return await _remove(request, state)
        except PixcutError as exc:
            return error_response(exc)
        except StarletteHTTPException as exc:
            return error_response(http_error(exc))
        except ClientDisconnect:
            return client_gone(request)
        except Exception:
            logger.exception("unexpected error while removing a background")
            return internal_error()

    add_removebg_routes(app, state)
    add_page_routes(app)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness and load: the model in use and how many removals run / wait."""
        limiter = state.limiter
        return {
            "ok": state.backend is not None,
            "model": state.model,
            "provider": state.provider,
            "busy": limiter.busy,
            "queued": limiter.queued,
            "workers": limiter.workers,
            "queue": limiter.queue,
        }

    # add_middleware wraps: the last added runs first, so authentication precedes the body limit.
    app.add_middleware(BodyLimitMiddleware, limit=config.max_body_bytes)
    if config.api_id is not None and config.api_secret is not None:
        app.add_middleware(AuthMiddleware, auth=BasicAuth(config.api_id, config.api_secret))
    return app


async def _remove(request: Request, state: ServerState) -> Response:
    async with request.form(max_files=4, max_fields=64, max_part_size=BASE64_LIMIT + 64 * 1024) as form:
        options = parse_options(form)  # a bad parameter is refused before the image is looked at
        source = await parse_input(form)
    check_result_size_early(source, options)
    result = await remove_limited(state, source, options)
    return Response(content=result.data, media_type=result.content_type, headers=result.headers)


def check_result_size_early(source: RequestInput, options: RemovalOptions) -> None:
    """The result-size rule (options.MAX_RESULT_PIXELS) from the image's header, before a queue place
    or a worker is spent on a request the finishing would refuse anyway. Exact when the result's size
    follows from the input alone (no crop: the content is the whole, possibly downscaled, image);
    otherwise the finishing checks it before allocating, as everywhere."""
    if source.data is None or options.crop_to_foreground or options.output_format == "delta_png":
        return
    width, height = downscaled_size(upright_size(source.data), options.max_pixels)
    options.result_size(width, height)


async def remove_limited(
    state: ServerState,
    source: RequestInput,
    options: RemovalOptions,
    adapt: Callable[[ImageInput], RemovalOptions] | None = None,
) -> RemovalResult:
    """Every route's way from a parsed request to a result (Pixian and remove.bg alike): the URL
    policy, a queue place (or 429), the fetch, a worker slot, then ``pixcut.api.remove_background``
    with the server's backend. ``adapt`` (run in the worker, before the removal) lets an adapter
    finish options that depend on the image, such as remove.bg's ``scale``."""
    if source.url is not None and not state.config.allow_url_fetch:
        raise UrlFetchDisabledError(
            f"{source.field}: this server does not fetch URLs (started without --allow-url-fetch)"
        )
    backend = state.backend
    if backend is None:
        raise ServerError("the server is still starting", status=503, code=1000)

    def work(image: ImageInput) -> RemovalResult:
        return run_removal(image, adapt(image) if adapt else options, backend)

    async with state.limiter.admit() as ticket:
        data = source.data
        if source.url is not None:
            data = await anyio.to_thread.run_sync(fetch_url, source.url, state.fetch_policy)
        image = ImageInput(data=data, filename=source.filename)
        return await ticket.run(work, image)
