"""``pixcut serve --model/--model-family`` (#14): the model is a choice, a user file must declare its family."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from _serve_support import LiveServer, encode, make_photo

from pixcut.engine import resolve_model
from pixcut.server.config import ServeConfig


def test_serve_runs_a_declared_user_model(tmp_path: Path) -> None:
    net = tmp_path / "custom.onnx"
    net.write_bytes(resolve_model().path.read_bytes())
    server = LiveServer(ServeConfig(model=str(net), model_family="u2net", workers=1)).start()
    try:
        assert server.healthz()["model"] == "custom"
        response = httpx.post(server.url, files={"image": ("p.png", encode(make_photo()))}, timeout=120)
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    finally:
        server.stop()


def test_serve_refuses_an_undeclared_user_model_at_start(tmp_path: Path) -> None:
    net = tmp_path / "custom.onnx"
    net.write_bytes(resolve_model().path.read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "pixcut", "serve", "--port", "0", "--model", str(net)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PIXCUT_CONFIG_DIR": str(tmp_path / "config"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0
    assert "--model-family u2net|isnet|birefnet" in done.stderr
