"""Shared test helpers: generated sample images and a scripted HTTP server on 127.0.0.1.

The scripted server is a real ``http.server`` answering from a queue of canned
responses, for failure sequences the real ``pixcut serve`` cannot be made to
produce on demand (429 storms, HTML 502s). It records every request.
"""

from __future__ import annotations

import io
import json
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "docs" / "samples" / "astronaut.jpg"


def make_photo(size: tuple[int, int] = (320, 240), box: tuple[int, int, int, int] | None = None) -> Image.Image:
    """A photo-like test image: a soft gradient background and one saturated object at ``box``."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image = Image.merge(
        "RGB",
        (image.getchannel(0).point(lambda v: 150 + v // 4),) * 2 + (image.getchannel(0).point(lambda v: 170 + v // 5),),
    )
    box = box or (width // 3, height // 4, 2 * width // 3, 3 * height // 4)
    ImageDraw.Draw(image).ellipse(box, fill=(200, 30, 40))
    return image


def cutout_with_box(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    """An RGBA cutout whose alpha is opaque exactly inside ``box`` (left, top, right, bottom exclusive)."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=(20, 120, 220, 255))
    return image


@dataclass
class Canned:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, bytes]:
        """Decode a multipart/form-data or urlencoded body into name -> raw value."""
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/"):
            message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + self.body)
            return {
                part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                for part in message.iter_parts()
            }
        from urllib.parse import parse_qsl

        return {k: v.encode() for k, v in parse_qsl(self.body.decode())}


class ScriptedServer:
    """Answers requests from ``responses`` in order (the last one repeats).

    ``delay`` holds every answer back that many seconds, so concurrent requests overlap;
    ``peak`` is the most requests it had in hand at once (what a concurrency limit is judged by).
    """

    def __init__(self) -> None:
        self.responses: list[Canned] = []
        self.requests: list[Recorded] = []
        self.delay = 0.0
        self.peak = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with server._lock:
                    server.requests.append(Recorded("POST", self.path, dict(self.headers), body))
                    index = min(len(server.requests) - 1, len(server.responses) - 1)
                    server._in_flight += 1
                    server.peak = max(server.peak, server._in_flight)
                canned = server.responses[index]
                if server.delay:
                    time.sleep(server.delay)
                with server._lock:
                    server._in_flight -= 1
                self.send_response(canned.status)
                for key, value in canned.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v2/remove-background"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def png_with_declared_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (a decompression bomb's signature)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def signal_batch_after_first_result(
    inputs: Path, out_dir: Path, signum: int = signal.SIGINT, timeout: float = 180
) -> tuple[int, list[dict[str, object]]]:
    """Run ``pixcut remove INPUTS --out-dir OUT --json``, send ``signum`` once the first result is
    written (other items still in flight), and return the exit code and every JSON event."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixcut", "remove", str(inputs), "--out-dir", str(out_dir), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    events: list[dict[str, object]] = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "result":
            proc.send_signal(signum)
            break
    rest, _ = proc.communicate(timeout=timeout)
    events += [json.loads(line) for line in rest.splitlines() if line.strip()]
    return proc.returncode, events


def raised_within(func: Callable[[], object], timeout: float = 60.0) -> BaseException | None:
    """Run ``func`` in a daemon thread and return what it raised (None if nothing). A ``func``
    still running after ``timeout`` fails the test: for code whose bug is a hang, not an error."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            func()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout:g} s"
    return raised[0] if raised else None
