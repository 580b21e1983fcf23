"""The cloud client against a real HTTP server on 127.0.0.1 answering scripted sequences."""

import base64
import json

import pytest
from PIL import Image
from support import Canned, cutout_with_box, png_bytes

from pixcut import remove_background
from pixcut.backends import BackendSettings, ImageInput, create_backend
from pixcut.credentials import Credentials
from pixcut.errors import (
    AuthenticationError,
    BadRequestError,
    NetworkError,
    OptionsError,
    RateLimitedError,
    ServerError,
)
from pixcut.options import RemovalOptions

SECRET = "s3cr3t-value"
RESULT = png_bytes(cutout_with_box((40, 30), (5, 6, 25, 26)))
HEADERS = {
    "Content-Type": "image/png",
    "X-Credits-Charged": "0.0",
    "X-Credits-Calculated": "1.25",
    "X-Input-Orientation": "6",
    "X-Input-Size": "3000 4000",
    "X-Result-Size": "40 30",
    "X-Input-Foreground": "600 500 2000 2000",
    "X-Result-Foreground": "6 5 20 20",
}


def client(url, sleeps=None, **kw):
    settings = BackendSettings(
        endpoint=url,
        credentials=Credentials("my-id", SECRET),
        backoff_unit=0.001,
        sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
        **kw,
    )
    return create_backend("pixian", settings)


def error_body(status, code, message):
    return json.dumps({"error": {"status": status, "code": code, "message": message}}).encode()


def test_full_options_are_sent_as_exact_form_fields_with_basic_auth(scripted, photo_path):
    scripted.responses = [Canned(200, RESULT, HEADERS)]
    options = RemovalOptions(
        test=True,
        max_pixels=2_000_000,
        background_color="#112233",
        crop_to_foreground=True,
        margin="1px 2%",
        target_size="640 480",
        vertical_alignment="top",
        output_format="png",
        jpeg_quality=55,
    )
    remove_background(photo_path, options, client(scripted.url))
    request = scripted.requests[0]
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"my-id:{SECRET}".encode()).decode()
    form = request.form()
    assert form.pop("image") == photo_path.read_bytes()
    assert form == {
        "test": b"true",
        "max_pixels": b"2000000",
        "background.color": b"#112233",
        "result.crop_to_foreground": b"true",
        "result.margin": b"1px 2%",
        "result.target_size": b"640 480",
        "result.vertical_alignment": b"top",
        "output.format": b"png",
        "output.jpeg_quality": b"55",
    }


def test_base64_and_url_inputs(scripted, photo_path):
    scripted.responses = [Canned(200, RESULT, HEADERS)]
    backend = client(scripted.url)
    data = photo_path.read_bytes()
    backend.remove(ImageInput(data=data, transport="base64"), RemovalOptions())
    backend.remove(ImageInput(url="https://example.com/a.jpg"), RemovalOptions())
    assert base64.b64decode(scripted.requests[0].form()["image.base64"]) == data
    assert scripted.requests[1].form() == {"image.url": b"https://example.com/a.jpg"}


def test_base64_over_one_megabyte_is_refused_before_any_request(scripted):
    backend = client(scripted.url)
    with pytest.raises(OptionsError, match="image.base64"):
        backend.remove(ImageInput(data=b"x" * 800_000, transport="base64"), RemovalOptions())
    assert scripted.requests == []


def test_all_result_headers_are_parsed(scripted, photo_path):
    scripted.responses = [Canned(200, RESULT, HEADERS)]
    result = remove_background(photo_path, backend=client(scripted.url))
    info = result.info
    assert (info.credits_charged, info.credits_calculated, info.input_orientation) == (0.0, 1.25, 6)
    assert info.input_size == (3000, 4000) and info.result_size == (40, 30)
    assert info.input_foreground.to_list() == [600, 500, 2000, 2000]
    assert info.result_foreground.to_list() == [6, 5, 20, 20]
    assert result.image.size == (40, 30) and result.format == "png"


def test_429_twice_then_success_waits_one_then_two_units(scripted, photo_path):
    scripted.responses = [Canned(429, b""), Canned(429, b""), Canned(200, RESULT, HEADERS)]
    sleeps: list[float] = []
    backend = client(scripted.url, sleeps)
    backend.remove(ImageInput(data=photo_path.read_bytes()), RemovalOptions())
    assert sleeps == pytest.approx([0.001, 0.002])
    assert len(scripted.requests) == 3
    assert backend.consecutive_429 == 0  # reset after the success


def test_429_backoff_is_capped(scripted, photo_path):
    scripted.responses = [Canned(429, error_body(429, 9, "slow down"))]
    sleeps: list[float] = []
    backend = client(scripted.url, sleeps, max_rate_limit_retries=3)
    with pytest.raises(RateLimitedError, match="slow down"):
        backend.remove(ImageInput(data=photo_path.read_bytes()), RemovalOptions())
    assert sleeps == pytest.approx([0.001, 0.002, 0.003])


def test_500_then_200_is_retried(scripted, photo_path):
    scripted.responses = [Canned(500, error_body(500, 1000, "oops")), Canned(200, RESULT, HEADERS)]
    sleeps: list[float] = []
    result = client(scripted.url, sleeps).remove(ImageInput(data=photo_path.read_bytes()), RemovalOptions())
    assert result.data == RESULT and len(scripted.requests) == 2 and len(sleeps) == 1


def test_400_error_json_maps_to_exception_with_code_and_message(scripted, photo_path):
    scripted.responses = [Canned(400, error_body(400, 1006, "Failed to read the supplied image. "))]
    with pytest.raises(BadRequestError) as info:
        client(scripted.url).remove(ImageInput(data=b"junk"), RemovalOptions())
    assert (info.value.status, info.value.code) == (400, 1006)
    assert info.value.message == "Failed to read the supplied image."
    assert len(scripted.requests) == 1  # a 4xx is never retried


def test_401_is_an_authentication_error_without_the_secret(scripted, photo_path):
    scripted.responses = [Canned(401, error_body(401, 1200, "bad credentials"))]
    with pytest.raises(AuthenticationError) as info:
        client(scripted.url).remove(ImageInput(data=b"x"), RemovalOptions())
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.to_json())


def test_502_with_html_body_gives_a_clean_error(scripted):
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    scripted.responses = [Canned(502, html, {"Content-Type": "text/html"})]
    with pytest.raises(ServerError) as info:
        client(scripted.url, max_server_retries=1).remove(ImageInput(data=b"x"), RemovalOptions())
    assert info.value.status == 502 and info.value.code is None
    assert "non-JSON" in info.value.message and "502 Bad Gateway" in info.value.message
    assert "<h1>" not in info.value.message
    assert len(scripted.requests) == 2


def test_unreachable_endpoint_is_a_network_error():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://user:{SECRET}@127.0.0.1:{port}/api/v2/remove-background"
    with pytest.raises(NetworkError) as info:
        client(url, max_server_retries=1).remove(ImageInput(data=b"x"), RemovalOptions())
    assert SECRET not in str(info.value)


def no_credentials(monkeypatch, tmp_path):
    monkeypatch.delenv("PIXIAN_API_ID", raising=False)
    monkeypatch.delenv("PIXIAN_API_SECRET", raising=False)
    monkeypatch.setenv("PIXCUT_CONFIG_DIR", str(tmp_path))


def test_missing_credentials_fail_before_any_request_for_the_provider(monkeypatch, tmp_path):
    no_credentials(monkeypatch, tmp_path)
    sent: list[object] = []
    backend = create_backend("pixian", BackendSettings(sleep=sent.append))  # the provider's own endpoint
    with pytest.raises(AuthenticationError, match="set-credentials"):
        backend.remove(ImageInput(data=b"x"), RemovalOptions())
    assert sent == []  # nothing was tried


def test_custom_endpoint_needs_no_credentials(scripted, monkeypatch, tmp_path, photo_path):
    """Issue 15 item 3: a no-auth pixcut serve (or any compatible server) works without credentials."""
    no_credentials(monkeypatch, tmp_path)
    scripted.responses = [Canned(200, RESULT, HEADERS)]
    result = create_backend("pixian", BackendSettings(endpoint=scripted.url)).remove(
        ImageInput(data=photo_path.read_bytes()), RemovalOptions()
    )
    assert result.data == RESULT
    assert "Authorization" not in scripted.requests[0].headers


def test_custom_endpoint_401_without_credentials_says_how_to_configure_them(scripted, monkeypatch, tmp_path):
    no_credentials(monkeypatch, tmp_path)
    scripted.responses = [Canned(401, error_body(401, 1200, "authentication required"))]
    backend = create_backend("pixian", BackendSettings(endpoint=scripted.url))
    with pytest.raises(AuthenticationError) as info:
        backend.remove(ImageInput(data=b"x"), RemovalOptions())
    assert "authentication required" in info.value.message and "set-credentials" in info.value.message
    assert info.value.code == 1200 and len(scripted.requests) == 1


def test_refused_connection_backs_off_briefly_and_429_keeps_the_linear_schedule(scripted, photo_path):
    """Issue 15 item 4: default settings; the waits are recorded instead of slept (no timing asserts)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []
    refused = create_backend(
        "pixian",
        BackendSettings(
            endpoint=f"http://127.0.0.1:{port}/api/v2/remove-background",
            credentials=Credentials("id", SECRET),
            sleep=sleeps.append,
        ),
    )
    with pytest.raises(NetworkError, match="could not be reached"):
        refused.remove(ImageInput(data=b"x"), RemovalOptions())
    assert len(sleeps) == 3 and sum(sleeps) < 2.5  # bounded retries, well under 5 s in all

    scripted.responses = [Canned(429, b""), Canned(429, b""), Canned(200, RESULT, HEADERS)]
    sleeps.clear()
    rate_limited = create_backend(
        "pixian", BackendSettings(endpoint=scripted.url, credentials=Credentials("id", SECRET), sleep=sleeps.append)
    )
    rate_limited.remove(ImageInput(data=photo_path.read_bytes()), RemovalOptions())
    assert sleeps == [5.0, 10.0]  # the provider's 429 rule is unchanged


def test_5xx_retries_are_bounded(scripted):
    scripted.responses = [Canned(503, error_body(503, 1000, "down"))]
    sleeps: list[float] = []
    with pytest.raises(ServerError, match="down"):
        client(scripted.url, sleeps).remove(ImageInput(data=b"x"), RemovalOptions())
    assert len(scripted.requests) == 4 and len(sleeps) == 3  # max_server_retries=3


def test_credentials_from_environment(scripted, monkeypatch, photo_path):
    monkeypatch.setenv("PIXIAN_API_ID", "env-id")
    monkeypatch.setenv("PIXIAN_API_SECRET", "env-secret")
    scripted.responses = [Canned(200, RESULT, HEADERS)]
    create_backend("pixian", BackendSettings(endpoint=scripted.url)).remove(
        ImageInput(data=photo_path.read_bytes()), RemovalOptions()
    )
    expected = base64.b64encode(b"env-id:env-secret").decode()
    assert scripted.requests[0].headers["Authorization"] == f"Basic {expected}"


def test_jpeg_content_type_sets_the_format(scripted, photo_path):
    jpeg = Image.new("RGB", (8, 8), "red")
    import io

    buffer = io.BytesIO()
    jpeg.save(buffer, "JPEG")
    scripted.responses = [Canned(200, buffer.getvalue(), {"Content-Type": "image/jpeg"})]
    result = client(scripted.url).remove(ImageInput(data=photo_path.read_bytes()), RemovalOptions())
    assert result.format == "jpeg" and result.extension == ".jpg"


CAPTIVE_PORTAL = b"<html><head><title>Hotel Wi-Fi</title></head><body>Please log in to continue</body></html>"


def test_200_with_a_captive_portal_page_is_a_server_error_naming_it_and_retried(scripted):
    """Issue 8 item 3: a 200 that is not an image is never a success."""
    from pixcut.errors import InvalidResponseError

    scripted.responses = [Canned(200, CAPTIVE_PORTAL, {"Content-Type": "text/html"})]
    sleeps: list[float] = []
    with pytest.raises(InvalidResponseError) as info:
        client(scripted.url, sleeps, max_server_retries=1).remove(ImageInput(data=b"x"), RemovalOptions())
    assert isinstance(info.value, ServerError) and info.value.retryable
    assert "not an image" in info.value.message and "text/html" in info.value.message
    assert "Please log in" in info.value.message and "<html>" not in info.value.message
    assert len(scripted.requests) == 2 and len(sleeps) == 1  # retried like a 5xx


def test_200_portal_then_the_image_succeeds(scripted, photo_path):
    scripted.responses = [Canned(200, CAPTIVE_PORTAL, {"Content-Type": "text/html"}), Canned(200, RESULT, HEADERS)]
    result = client(scripted.url).remove(ImageInput(data=photo_path.read_bytes()), RemovalOptions())
    assert result.data == RESULT and result.image.size == (40, 30)


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (RESULT, {**HEADERS, "X-Result-Size": "400 300"}, "not the announced 400x300"),
        (RESULT[: len(RESULT) // 2], HEADERS, "cannot be decoded"),
        (b"", {"Content-Type": "image/png"}, "empty"),
        (b"GIF89a" + RESULT[6:], HEADERS, "not an image"),
    ],
    ids=["wrong-size", "truncated-png", "empty", "garbage"],
)
def test_200_bodies_that_are_not_the_announced_image(scripted, body, headers, expected):
    from pixcut.errors import InvalidResponseError

    scripted.responses = [Canned(200, body, headers)]
    with pytest.raises(InvalidResponseError, match=expected):
        client(scripted.url, max_server_retries=0).remove(ImageInput(data=b"x"), RemovalOptions())


def truncating_server(declared: int, sent: bytes):
    """A raw socket server: announces ``declared`` body bytes, sends ``sent`` and closes."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    hits: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(rest) < length:
                    rest += conn.recv(65536)
                hits.append(1)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n" % declared + sent
                )

    threading.Thread(target=serve, daemon=True).start()
    return listener, hits


def test_truncated_response_is_a_retried_network_error():
    """Issue 8 item 7: a body cut short is a NetworkError (a PixcutError), retried, not a raw requests error."""
    listener, hits = truncating_server(len(RESULT), RESULT[:100])
    port = listener.getsockname()[1]
    sleeps: list[float] = []
    try:
        with pytest.raises(NetworkError, match="incomplete"):
            client(f"http://127.0.0.1:{port}/api/v2/remove-background", sleeps).remove(
                ImageInput(data=b"x"), RemovalOptions()
            )
    finally:
        listener.close()
    assert len(hits) == 4 and len(sleeps) == 3


def test_a_password_in_the_endpoint_never_appears_in_errors():
    """Issue 8 item 5: a malformed or non-http endpoint's error masks user:password."""
    for endpoint in (f"ftp://user:{SECRET}@example.com/x", f"http://user:{SECRET}@[::1/x", f"user:{SECRET}@host"):
        with pytest.raises(OptionsError) as info:
            BackendSettings(endpoint=endpoint)
        assert SECRET not in str(info.value) and SECRET not in json.dumps(info.value.to_json())
