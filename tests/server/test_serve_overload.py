"""Overload: one worker and no queue, hit by concurrent clients, must shed load with 429."""

from __future__ import annotations

import threading

import httpx
from _serve_support import LiveServer, encode, make_photo, send_at_once


def test_overload_gives_429_with_retry_after(tight_server: LiveServer) -> None:
    data = encode(make_photo((512, 512)))
    statuses = send_at_once(
        6, lambda: httpx.post(tight_server.url, files={"image": ("p.png", data)}, timeout=60), join_timeout=90
    )
    codes = sorted(r.status_code for r in statuses)
    assert len(codes) == 6
    assert 200 in codes and 429 in codes, codes
    assert set(codes) <= {200, 429}
    for response in statuses:
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert response.json() == {
                "error": {"status": 429, "code": 1500, "message": response.json()["error"]["message"]}
            }
    health = tight_server.healthz()
    assert health["busy"] == 0 and health["queued"] == 0 and health["workers"] == 1 and health["queue"] == 0


def test_graceful_shutdown_finishes_in_flight(photo_bytes: bytes) -> None:
    import time

    from pixcut.server.config import ServeConfig

    server = LiveServer(ServeConfig(workers=1, queue=0)).start()
    result: list[httpx.Response] = []
    files = {"image": ("p.png", photo_bytes)}
    worker = threading.Thread(target=lambda: result.append(httpx.post(server.url, files=files, timeout=60)))
    worker.start()
    deadline = time.monotonic() + 20
    while server.healthz()["busy"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.stop()  # uvicorn's graceful exit, while the removal runs
    worker.join(60)
    assert result and result[0].status_code == 200
    assert result[0].content[:8] == b"\x89PNG\r\n\x1a\n"
