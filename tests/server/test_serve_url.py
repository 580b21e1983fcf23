"""``image.url``: refused when fetching is off; when on, private/loopback targets are refused before
any connection is made (never traffic to 10.x). The fetcher's redirect and size rules are checked
against a real local HTTP server with the address rule relaxed to loopback only."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from _serve_support import AUTH, LiveServer, encode, make_photo

from pixcut.server.errors import UrlFetchError, UrlRefusedError
from pixcut.server.fetch import FetchPolicy, fetch_url, is_public_address


def refused(server: LiveServer, url: str, auth=AUTH) -> dict:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = httpx.post(server.url, data={"image.url": url}, auth=auth, timeout=30)
    assert time.monotonic() - started < 5  # refused up front: nothing was waited on
    assert response.status_code == 400, response.text
    return response.json()["error"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "http://10.0.0.1/x.png",
        "https://10.0.0.1/x.png",
        "http://localhost/x.png",
        "http://[::1]/x.png",
        "http://[::ffff:10.0.0.1]/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/x.png",
        "http://100.64.0.1/x.png",
    ],
)
def test_private_targets_refused(auth_server: LiveServer, url: str) -> None:
    error = refused(auth_server, url)
    assert error["code"] == 1602, error
    assert "private" in error["message"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x.png", "http://u:p@example.com/x"])
def test_other_schemes_and_userinfo_refused(auth_server: LiveServer, url: str) -> None:
    assert refused(auth_server, url)["code"] == 1602


def test_url_refused_when_fetching_disabled(tight_server: LiveServer) -> None:
    for url in ("http://10.0.0.1/x.png", "http://93.184.216.34/x.png"):
        error = refused(tight_server, url, auth=None)
        assert error["code"] == 1601 and "--allow-url-fetch" in error["message"]


def test_address_rule() -> None:
    import ipaddress

    assert is_public_address(ipaddress.ip_address("93.184.216.34"))
    assert is_public_address(ipaddress.ip_address("2606:4700::1111"))
    for text in (
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "::1",
        "fe80::1",
        "169.254.1.1",
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "fc00::1",
        "100.64.0.1",
    ):
        assert not is_public_address(ipaddress.ip_address(text)), text


# -- the fetcher itself, against a real loopback server, with loopback allowed by the policy ------------

PNG = encode(make_photo((64, 64)))


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/img.png":
                self.send_response(200)
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)
            elif self.path.startswith("/hop/"):
                left = int(self.path.rsplit("/", 1)[1])
                self.send_response(302)
                self.send_header("Location", "/img.png" if left == 0 else f"/hop/{left - 1}")
                self.end_headers()
            elif self.path == "/to-private":
                self.send_response(302)
                self.send_header("Location", "http://10.0.0.1/x.png")
                self.end_headers()
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


LOOPBACK_ONLY = FetchPolicy(max_bytes=1_000_000, max_redirects=3, address_allowed=lambda ip: ip.is_loopback)


def test_fetch_follows_redirects_within_the_cap(origin: str) -> None:
    assert fetch_url(f"{origin}/img.png", LOOPBACK_ONLY) == PNG
    assert fetch_url(f"{origin}/hop/2", LOOPBACK_ONLY) == PNG


def test_fetch_redirect_cap(origin: str) -> None:
    with pytest.raises(UrlRefusedError, match="redirects"):
        fetch_url(f"{origin}/hop/5", LOOPBACK_ONLY)


def test_fetch_rechecks_every_hop(origin: str) -> None:
    with pytest.raises(UrlRefusedError, match="private"):
        fetch_url(f"{origin}/to-private", LOOPBACK_ONLY)


def test_fetch_size_cap_and_status(origin: str) -> None:
    small = FetchPolicy(max_bytes=100, address_allowed=lambda ip: ip.is_loopback)
    with pytest.raises(UrlFetchError, match="larger"):
        fetch_url(f"{origin}/img.png", small)
    with pytest.raises(UrlFetchError, match="404"):
        fetch_url(f"{origin}/missing", LOOPBACK_ONLY)
