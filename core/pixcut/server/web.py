"""The web page at ``/``: drop photos, pick options, download cutouts, from any browser.

The page is three static files in ``pixcut/server/static`` (package data, so an
installed wheel has them), served by the app itself: no build step, no CDN, so it
works offline. It is a client like any other: it calls ``POST /api/v2/remove-background``
with the API's own fields, and derives the two things the API has no field for
(the mask and WebP) in the browser from the PNG cutout it received.

The page files are public even when the server requires credentials (they hold
nothing secret); the page asks for the API Id and Secret when the API answers 401.
``pixcut serve --open`` opens the page with the standard ``webbrowser`` module.
"""

from __future__ import annotations

import sys
import threading
import time
import webbrowser
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from pixcut.server.errors import RouteError

STATIC_DIR = Path(__file__).with_name("static")  # next to this module, installed with it
STATIC_PREFIX = "/static"
PAGE_PATHS = frozenset({"/", "/index.html", "/favicon.ico"})


def is_page_path(path: str) -> bool:
    """The page and its assets: served without credentials."""
    return path in PAGE_PATHS or path.startswith(STATIC_PREFIX + "/")


def add_routes(app: FastAPI) -> None:
    """``GET /`` (the page), ``/static/*`` (its script and style)."""
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        if not index.is_file():
            raise RouteError("The web page is not installed with this copy of pixcut", status=404)
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=_NO_STORE)

    @app.get("/index.html", include_in_schema=False)
    async def page_alias() -> Response:
        return RedirectResponse("/", status_code=308)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")


# The page is tiny and changes with pixcut's version: always fresh, never a stale script.
_NO_STORE = {"Cache-Control": "no-cache"}


def page_url(host: str, port: int) -> str:
    """The address a local browser reaches the page at (a wildcard listen address means this machine)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def open_when_started(server: uvicorn.Server, host: str, port: int, timeout: float = 300.0) -> threading.Thread:
    """``pixcut serve --open``: once uvicorn listens (the model loaded), open the page in the user's browser.

    A thread polls ``server.started`` so the browser never meets a server that is still
    loading the model; port 0 is resolved from the listening socket.
    """

    def wait_and_open() -> None:
        deadline = time.monotonic() + timeout
        while not server.started:
            if server.should_exit or time.monotonic() > deadline:
                return
            time.sleep(0.1)
        actual = port
        if actual == 0 and server.servers and server.servers[0].sockets:
            actual = int(server.servers[0].sockets[0].getsockname()[1])
        url = page_url(host, actual)
        if webbrowser.open(url):
            print(f"pixcut serve: opened {url} in your browser", file=sys.stderr)
        else:
            print(f"pixcut serve: no browser found; open {url} yourself", file=sys.stderr)

    thread = threading.Thread(target=wait_and_open, name="pixcut-open-page", daemon=True)
    thread.start()
    return thread
