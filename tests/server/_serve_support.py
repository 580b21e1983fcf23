"""Helpers for the server tests: a real uvicorn server in a thread, and generated images.

Each server gets a socket bound to a free loopback port before uvicorn starts (no
port race), runs the real application with the real ONNX model, and is shut down
through uvicorn's own graceful exit. No mocks.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn
from PIL import Image, ImageDraw
from support import png_with_declared_size  # noqa: F401 (re-exported for the server tests)

from pixcut.server.app import API_PATH, create_app
from pixcut.server.config import ServeConfig
from pixcut.server.connections import uvicorn_config

API_ID = "test-id"
API_SECRET = "s3cret-for-tests-only"
AUTH = (API_ID, API_SECRET)


class LiveServer:
    """One uvicorn server in a daemon thread; ``url`` is the remove-background endpoint."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + API_PATH
        # The same uvicorn settings as `pixcut serve` (connection limit, timeouts, header cap).
        self.server = uvicorn.Server(uvicorn_config(create_app(config), config, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("pixcut serve did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.sock.close()

    def healthz(self) -> dict:
        auth = (self.config.api_id, self.config.api_secret) if self.config.auth_required else None
        response = httpx.get(self.base + "/healthz", auth=auth, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


def make_photo(size: tuple[int, int] = (256, 256)) -> Image.Image:
    """Photo-like enough for the model: a gradient background with one clear object."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient))
    image = Image.blend(image, Image.new("RGB", size, (190, 215, 235)), 0.7)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.28, height * 0.22, width * 0.72, height * 0.82), fill=(200, 30, 30))
    draw.rectangle((width * 0.42, height * 0.1, width * 0.58, height * 0.3), fill=(30, 120, 40))
    return image


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def send_at_once(clients: int, send: Callable[[], httpx.Response], join_timeout: float = 120) -> list[httpx.Response]:
    """``clients`` threads released together by a barrier, each calling ``send`` once; their answers.

    The overload tests need the requests to arrive at the same moment, or one worker would
    serve them one after another and no 429 would ever be seen.
    """
    responses: list[httpx.Response] = []
    barrier = threading.Barrier(clients)

    def client() -> None:
        barrier.wait()
        responses.append(send())

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(join_timeout)
    return responses
