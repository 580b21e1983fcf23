"""Server traffic goes through ``pixcut.api.remove_background``: observer plug-ins see every request."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from _serve_support import LiveServer

from pixcut import hookimpl
from pixcut.plugins import load_plugins, pm
from pixcut.result import RemovalResult


class Observer:
    """Registered through the plug-in manager exactly like a third-party plug-in."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, ...]] = []

    @hookimpl
    def pixcut_before_removal(self, request: dict[str, object]) -> None:
        self.seen.append(("before", str(request["backend"]), str(request["input"])))

    @hookimpl
    def pixcut_after_removal(
        self, request: dict[str, object], result: RemovalResult | None, error: BaseException | None
    ) -> None:
        outcome = f"{result.info.result_size}" if result is not None else type(error).__name__
        self.seen.append(("after", str(request["input"]), outcome))


@pytest.fixture
def observer() -> Iterator[Observer]:
    load_plugins()
    instance = Observer()
    pm.register(instance, name="test-server-observer")
    yield instance
    pm.unregister(instance)


def test_a_server_request_fires_both_observer_hooks(
    tight_server: LiveServer, photo_bytes: bytes, observer: Observer
) -> None:
    response = httpx.post(tight_server.url, files={"image": ("shot.png", photo_bytes)}, timeout=120)
    assert response.status_code == 200, response.text
    size = response.headers["X-Result-Size"]
    assert observer.seen == [("before", "local", "shot.png"), ("after", "shot.png", f"{tuple(map(int, size.split()))}")]


def test_a_failed_server_request_reaches_the_after_hook(
    tight_server: LiveServer, photo_bytes: bytes, observer: Observer
) -> None:
    # A whole header but half the data: the early size check passes, the removal itself fails.
    truncated = photo_bytes[: len(photo_bytes) // 2]
    response = httpx.post(tight_server.url, files={"image": ("cut.png", truncated)}, timeout=60)
    assert response.status_code == 400, response.text
    assert [entry[:2] for entry in observer.seen] == [("before", "local"), ("after", "cut.png")]
    assert observer.seen[1][2].endswith("Error"), observer.seen
