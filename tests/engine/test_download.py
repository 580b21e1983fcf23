"""Download: verified, resumable, against a real http.server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pixcut.engine import get_engine, resolve_model
from pixcut.engine.download import download
from pixcut.errors import ModelError

PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: int | None = None  # bytes of the next response before the connection drops
    ignore_range: bool = False
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)


class _Handler(http.server.BaseHTTPRequestHandler):
    state: ServerState

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        st = self.state
        rng = self.headers.get("Range")
        st.requests.append((self.path, rng))
        data = st.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if rng and not st.ignore_range:
            start = int(rng.split("=", 1)[1].split("-", 1)[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if st.cut_after is not None:
            self.wfile.write(body[: st.cut_after])
            self.wfile.flush()
            st.cut_after = None
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture()
def server() -> Iterator[tuple[str, ServerState]]:
    state = ServerState(files={"/model.onnx": PAYLOAD})
    handler = type("Handler", (_Handler,), {"state": state})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_download_verifies_and_reports_progress(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    seen: list[tuple[int, int | None]] = []
    dest = download(f"{base}/model.onnx", tmp_path / "m.onnx", SHA, progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "m.onnx.part").exists()
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # A verified file is reused without touching the network.
    n = len(state.requests)
    download(f"{base}/model.onnx", dest, SHA)
    assert len(state.requests) == n


def test_interrupted_transfer_resumes_with_range(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    dest = tmp_path / "m.onnx"
    state.cut_after = 100_000
    with pytest.raises(ModelError, match="resume"):
        download(f"{base}/model.onnx", dest, SHA, retries=0)
    part = tmp_path / "m.onnx.part"
    assert part.stat().st_size == 100_000 and not dest.exists()
    seen: list[tuple[int, int | None]] = []
    download(f"{base}/model.onnx", dest, SHA, progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == PAYLOAD and not part.exists()
    assert state.requests[-1] == ("/model.onnx", "bytes=100000-")
    assert seen[0] == (100_000, len(PAYLOAD))


def test_interruption_is_retried_within_one_call(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    state.cut_after = 123_456
    dest = download(f"{base}/model.onnx", tmp_path / "m.onnx", SHA)
    assert dest.read_bytes() == PAYLOAD
    assert [r for _, r in state.requests] == [None, "bytes=123456-"]


def test_server_ignoring_range_restarts_cleanly(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, state = server
    (tmp_path / "m.onnx.part").write_bytes(PAYLOAD[:5000])
    state.ignore_range = True
    dest = download(f"{base}/model.onnx", tmp_path / "m.onnx", SHA)
    assert dest.read_bytes() == PAYLOAD


def test_bad_hash_deletes_part_and_raises(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(ModelError, match="sha256") as err:
        download(f"{base}/model.onnx", tmp_path / "m.onnx", "ab" * 32)
    assert "deleted" in err.value.message
    assert not (tmp_path / "m.onnx.part").exists() and not (tmp_path / "m.onnx").exists()


def test_http_error_is_a_model_error(server: tuple[str, ServerState], tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(ModelError, match="404"):
        download(f"{base}/missing.onnx", tmp_path / "m.onnx", SHA)


def test_resolve_model_from_url_with_sha256(
    server: tuple[str, ServerState], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, state = server
    real = resolve_model().path.read_bytes()
    state.files["/nets/u2netp.onnx"] = real
    monkeypatch.setenv("PIXCUT_MODEL_DIR", str(tmp_path / "models"))
    sha = hashlib.sha256(real).hexdigest()
    with pytest.raises(ModelError, match="needs its sha256"):
        resolve_model(f"{base}/nets/u2netp.onnx")
    resolved = resolve_model(f"{base}/nets/u2netp.onnx#sha256={sha}")
    assert resolved.source == "download" and resolved.path == tmp_path / "models" / "u2netp.onnx"
    assert resolved.spec.input_size == (320, 320)
    eng = get_engine(f"{base}/nets/u2netp.onnx#sha256={sha}")
    assert eng.model_name == "u2netp" and eng.path == resolved.path
