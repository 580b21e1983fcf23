"""Every documented error code, reached by a request that really causes it, against a real server.

Each answer must be the API's error JSON with the documented status and code, and
the server must keep answering afterwards (no 500, no hang).
"""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from _serve_support import AUTH, LiveServer, encode, make_photo, png_with_declared_size
from PIL import Image

TIMEOUT = httpx.Timeout(30.0)


def post(server: LiveServer, *, files=None, data=None, auth=AUTH, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(server.url, files=files, data=data, auth=auth, timeout=TIMEOUT, **kwargs)


def assert_error(response: httpx.Response, status: int, code: int, needle: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}
    assert body["error"]["status"] == status and body["error"]["code"] == code, body
    assert needle.lower() in body["error"]["message"].lower()
    return body["error"]


def image_part(data: bytes, name: str = "photo.png") -> dict:
    return {"image": (name, data, "application/octet-stream")}


def test_unreadable_truncated_png(auth_server: LiveServer) -> None:
    whole = encode(make_photo())
    assert_error(post(auth_server, files=image_part(whole[: len(whole) // 2])), 400, 1006, "read")
    assert auth_server.healthz()["ok"] is True


def test_unreadable_empty_file(auth_server: LiveServer) -> None:
    assert_error(post(auth_server, files=image_part(b"")), 400, 1006)


def test_unreadable_base64(auth_server: LiveServer) -> None:
    assert_error(post(auth_server, data={"image.base64": "not base64 at all!"}), 400, 1006, "base64")


def test_unsupported_type(auth_server: LiveServer) -> None:
    assert_error(post(auth_server, files=image_part(b"GIF? no: plain text " * 10, "x.txt")), 400, 1007)
    pcx = encode(make_photo((32, 32)), "PCX")  # Pillow reads it; the API does not accept it
    assert_error(post(auth_server, files=image_part(pcx, "x.pcx")), 400, 1007, "PCX")


def test_decompression_bomb_is_too_large(auth_server: LiveServer) -> None:
    bomb = png_with_declared_size(40_000, 40_000)
    assert len(bomb) < 200
    assert_error(post(auth_server, files=image_part(bomb)), 400, 1008)
    assert auth_server.healthz()["ok"] is True


def test_too_many_pixels_below_pillow_bomb_limit(auth_server: LiveServer) -> None:
    response = post(auth_server, files=image_part(png_with_declared_size(8000, 4001)))
    assert_error(response, 400, 1008, "32,000,000")
    assert auth_server.healthz()["ok"] is True


def test_bad_parameter_names_the_field(auth_server: LiveServer, photo_bytes: bytes) -> None:
    response = post(auth_server, files=image_part(photo_bytes), data={"result.margin": "ten pixels"})
    assert_error(response, 400, 1100, "result.margin")
    response = post(auth_server, files=image_part(photo_bytes), data={"background.color": "0055FF"})
    assert_error(response, 400, 1100, "background.color")


def test_unknown_parameter(auth_server: LiveServer, photo_bytes: bytes) -> None:
    response = post(auth_server, files=image_part(photo_bytes), data={"result.crop_to_forground": "true"})
    assert_error(response, 400, 1100, "unknown parameter")


def test_repeated_parameter(auth_server: LiveServer, photo_bytes: bytes) -> None:
    response = post(auth_server, files=image_part(photo_bytes), data={"test": ["true", "false"]})
    assert_error(response, 400, 1100, "more than once")


def test_missing_input(auth_server: LiveServer) -> None:
    assert_error(post(auth_server, data={"test": "true"}), 400, 1101, "no image")
    assert_error(post(auth_server), 400, 1101)


def test_two_inputs(auth_server: LiveServer, photo_bytes: bytes) -> None:
    data = {"image.base64": base64.b64encode(photo_bytes).decode()}
    assert_error(post(auth_server, files=image_part(photo_bytes), data=data), 400, 1101, "exactly one")


def test_base64_over_the_limit(auth_server: LiveServer) -> None:
    assert_error(post(auth_server, data={"image.base64": "A" * 1_000_004}), 400, 1100, "1,000,000")


def test_base64_urlencoded_works(auth_server: LiveServer, photo_bytes: bytes) -> None:
    response = post(auth_server, data={"image.base64": base64.b64encode(photo_bytes).decode(), "test": "1"})
    assert response.status_code == 200, response.text
    assert Image.open(io.BytesIO(response.content)).mode == "RGBA"
    assert response.headers["X-Credits-Calculated"] == "0"


@pytest.mark.parametrize(
    "auth, needle",
    [(None, "missing"), (("test-id", "wrong"), "invalid"), (("other", "s3cret-for-tests-only"), "invalid")],
)
def test_authentication(auth_server: LiveServer, photo_bytes: bytes, auth, needle: str) -> None:  # type: ignore[no-untyped-def]
    response = post(auth_server, files=image_part(photo_bytes), auth=auth)
    error = assert_error(response, 401, 1200, needle)
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "s3cret" not in error["message"]
    # every endpoint is protected, health included
    assert httpx.get(auth_server.base + "/healthz", auth=auth, timeout=TIMEOUT).status_code == 401


def test_body_too_large_by_length(auth_server: LiveServer) -> None:
    response = post(auth_server, files=image_part(b"\0" * (3 * 1024 * 1024)))
    assert_error(response, 413, 1102, "larger")
    assert auth_server.healthz()["ok"] is True


def test_body_too_large_chunked(auth_server: LiveServer) -> None:
    boundary = "pixcut-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(48):  # 3 MB with no Content-Length: counted as it is read
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    try:
        response = httpx.post(auth_server.url, content=body(), headers=headers, auth=AUTH, timeout=TIMEOUT)
    except httpx.TransportError:  # the server may close while the client still sends; then check health
        pass
    else:
        assert_error(response, 413, 1102)
    assert auth_server.healthz()["ok"] is True


def test_unknown_route_and_method(auth_server: LiveServer) -> None:
    assert_error(httpx.get(auth_server.base + "/nope", auth=AUTH, timeout=TIMEOUT), 404, 1604)
    assert_error(httpx.get(auth_server.url, auth=AUTH, timeout=TIMEOUT), 405, 1604)


def test_openapi_docs_served(auth_server: LiveServer) -> None:
    assert httpx.get(auth_server.base + "/docs", auth=AUTH, timeout=TIMEOUT).status_code == 200
    schema = httpx.get(auth_server.base + "/openapi.json", auth=AUTH, timeout=TIMEOUT).json()
    assert "/api/v2/remove-background" in schema["paths"]


class ExplodingBackend:
    """A backend with a bug: the server must answer 500/1000 with a generic message and go on."""

    name = "exploding"

    def remove(self, source, options):  # type: ignore[no-untyped-def]
        raise RuntimeError("internal detail that must not reach the client")


def test_unexpected_exception_is_generic_500(photo_bytes: bytes) -> None:
    from pixcut.server.config import ServeConfig

    server = LiveServer(ServeConfig(backend=ExplodingBackend())).start()
    try:
        response = httpx.post(server.url, files=image_part(photo_bytes), timeout=TIMEOUT)
        error = assert_error(response, 500, 1000)
        assert "internal detail" not in error["message"]
        assert server.healthz()["ok"] is True
    finally:
        server.stop()
