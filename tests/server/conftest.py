"""Session-scoped real ``pixcut serve`` instances and sample files for the server tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _serve_support import API_ID, API_SECRET, LiveServer, make_photo

from pixcut.server.config import ServeConfig


@pytest.fixture(scope="session")
def auth_server() -> Iterator[LiveServer]:
    """Authentication on, URL fetching on, 2 MB body limit, default workers/queue."""
    server = LiveServer(
        ServeConfig(api_id=API_ID, api_secret=API_SECRET, allow_url_fetch=True, max_body_bytes=2 * 1024 * 1024)
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tight_server() -> Iterator[LiveServer]:
    """No authentication, URL fetching off, 1 worker and no queue: overload is easy to reach."""
    server = LiveServer(ServeConfig(workers=1, queue=0)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def photo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("server") / "photo.png"
    make_photo().save(path)
    return path


@pytest.fixture(scope="session")
def photo_bytes(photo_file: Path) -> bytes:
    return photo_file.read_bytes()
