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


def test_missing_credentials_fail_before_any_request(scripted, monkeypatch, tmp_path):
    monkeypatch.delenv("PIXIAN_API_ID", raising=False)
    monkeypatch.delenv("PIXIAN_API_SECRET", raising=False)
    monkeypatch.setenv("PIXCUT_CONFIG_DIR", str(tmp_path))
    backend = create_backend("pixian", BackendSettings(endpoint=scripted.url))
    with pytest.raises(AuthenticationError, match="set-credentials"):
        backend.remove(ImageInput(data=b"x"), RemovalOptions())
    assert scripted.requests == []


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
