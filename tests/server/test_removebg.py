"""``POST /v1.0/removebg`` against a real ``pixcut serve`` (real model, real HTTP on 127.0.0.1).

The calls follow remove.bg's API reference (https://www.remove.bg/api, OpenAPI at
https://www.remove.bg/api/swagger.yaml) with only the URL changed. Each mapped parameter
is checked against the Pixian route of the same server with the equivalent pixcut
parameters: the bytes must be identical, which shows the adapter maps and does not
re-implement. Every error answer has remove.bg's form ``{"errors": [{"title", "code"}]}``.
"""

from __future__ import annotations

import base64
import http.server
import io
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from _serve_support import (
    API_ID,
    API_SECRET,
    AUTH,
    LiveServer,
    encode,
    make_photo,
    png_with_declared_size,
    send_at_once,
)
from PIL import Image

from pixcut.server.config import ServeConfig
from pixcut.server.fetch import FetchPolicy
from pixcut.server.removebg import REMOVEBG_PATH

CURL = shutil.which("curl")
KEY = {"X-Api-Key": f"{API_ID}:{API_SECRET}"}
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "astronaut.jpg"


def rb_url(server: LiveServer) -> str:
    return server.base + REMOVEBG_PATH


def post(server: LiveServer, data: dict[str, str], image: bytes | None, **kwargs: object) -> httpx.Response:
    files = {"image_file": ("photo.png", image)} if image is not None else None
    headers = kwargs.pop("headers", KEY if server.config.auth_required else {})
    return httpx.post(rb_url(server), data=data, files=files, headers=headers, timeout=120, **kwargs)  # type: ignore[arg-type]


def pixian(server: LiveServer, fields: dict[str, str], image: bytes) -> httpx.Response:
    auth = AUTH if server.config.auth_required else None
    response = httpx.post(server.url, data=fields, files={"image": ("photo.png", image)}, auth=auth, timeout=120)
    assert response.status_code == 200, response.text
    return response


def error_of(response: httpx.Response, status: int = 400) -> dict[str, str]:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert isinstance(error["title"], str) and error["title"] and isinstance(error["code"], str), error
    assert set(error) <= {"title", "code", "detail"}
    return error


# -- the documented calls ------------------------------------------------------------------------


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_documented_curl_call(auth_server: LiveServer, photo_file: Path, tmp_path: Path) -> None:
    """remove.bg's sample: curl -H 'X-API-Key: ...' -F 'image_file=@file' -F 'size=auto' -f URL -o no-bg.png"""
    out = tmp_path / "no-bg.png"
    command = [CURL, "-sS", "-H", f"X-API-Key: {API_ID}:{API_SECRET}", "-F", f"image_file=@{photo_file}"]
    command += ["-F", "size=auto", "-f", rb_url(auth_server), "-o", str(out), "-D", str(tmp_path / "headers")]
    completed = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    headers = {
        k.strip().lower(): v.strip()
        for k, _, v in (line.partition(":") for line in (tmp_path / "headers").read_text().splitlines()[1:])
        if k.strip()
    }
    with Image.open(out) as image:
        assert image.format == "PNG" and image.mode == "RGBA" and image.size == (256, 256)
        alpha = np.asarray(image)[:, :, 3]
    assert alpha.min() == 0 and alpha.max() == 255
    assert headers["x-width"] == "256" and headers["x-height"] == "256" and headers["x-credits-charged"] == "0"
    top, left = int(headers["x-foreground-top"]), int(headers["x-foreground-left"])
    width, height = int(headers["x-foreground-width"]), int(headers["x-foreground-height"])
    ys, xs = np.nonzero(alpha)
    assert (top, left, width, height) == (ys.min(), xs.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    assert "x-type" not in headers  # the model does not classify: like type_level=none


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_documented_json_call(auth_server: LiveServer, photo_file: Path) -> None:
    """The reference's JSON form: -H 'Accept: application/json' -F crop=true -F bg_color=FFFFFF -F format=jpg."""
    command = [CURL, "-sS", "-H", f"x-api-key: {API_ID}:{API_SECRET}", "-H", "Accept: application/json"]
    command += ["-F", f"image_file=@{photo_file}", "-F", "crop=true", "-F", "bg_color=FFFFFF", "-F", "format=jpg"]
    command += ["-f", "-X", "POST", rb_url(auth_server)]
    completed = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    import json

    data = json.loads(completed.stdout)["data"]
    with Image.open(io.BytesIO(base64.b64decode(data["result_b64"]))) as image:
        assert image.format == "JPEG"
        assert image.size == (data["foreground_width"], data["foreground_height"])  # cropped to the subject
    assert data["foreground_top"] == 0 and data["foreground_left"] == 0


def test_base64_input_form_and_json(auth_server: LiveServer, photo_bytes: bytes) -> None:
    plain = post(auth_server, {"size": "full"}, photo_bytes)
    encoded = base64.b64encode(photo_bytes).decode()
    as_form = httpx.post(
        rb_url(auth_server), data={"image_file_b64": encoded, "size": "full"}, headers=KEY, timeout=120
    )
    as_json = httpx.post(
        rb_url(auth_server), json={"image_file_b64": encoded, "size": "full"}, headers=KEY, timeout=120
    )
    assert plain.status_code == as_form.status_code == as_json.status_code == 200
    assert plain.content == as_form.content == as_json.content


# -- every mapped parameter, checked against the Pixian route of the same server ------------------

MAPPINGS = [
    ({"size": "full"}, {}),
    ({"size": "auto"}, {}),
    ({"size": "4k", "format": "png"}, {"output.format": "png"}),
    ({"size": "medium", "format": "jpg"}, {"max_pixels": "1500000", "output.format": "jpeg"}),
    ({"size": "hd", "format": "jpeg"}, {"max_pixels": "4000000", "output.format": "jpeg"}),
    ({"size": "full", "bg_color": "81d4fa"}, {"background.color": "#81D4FA"}),
    ({"size": "full", "bg_color": "#fff", "format": "png"}, {"background.color": "#FFFFFF", "output.format": "png"}),
    ({"size": "full", "bg_color": "green"}, {"background.color": "#008000"}),
    ({"size": "full", "bg_color": "81d4faff"}, {"background.color": "#81D4FA"}),
    ({"size": "full", "crop": "true"}, {"result.crop_to_foreground": "true"}),
    (
        {"size": "full", "crop": "true", "crop_margin": "10px"},
        {"result.crop_to_foreground": "true", "result.margin": "10px"},
    ),
    (
        {"size": "full", "crop": "true", "crop_margin": "10% 5%"},
        {"result.crop_to_foreground": "true", "result.margin": "10% 5%"},
    ),
    (
        {"size": "full", "crop": "true", "crop_margin": "5 10px 15px 20%"},
        {"result.crop_to_foreground": "true", "result.margin": "5px 10px 15px 20%"},
    ),
    ({"size": "full", "crop_margin": "30px"}, {}),  # remove.bg: crop_margin acts only with crop=true
    (
        {"size": "full", "scale": "80%"},
        {"result.crop_to_foreground": "true", "result.target_size": "256 256", "result.margin": "10%"},
    ),
    (
        {"size": "full", "scale": "50%", "position": "center"},
        {"result.crop_to_foreground": "true", "result.target_size": "256 256", "result.margin": "25%"},
    ),
    (
        {"size": "full", "scale": "60%", "position": "50% 100%"},
        {
            "result.crop_to_foreground": "true",
            "result.target_size": "256 256",
            "result.margin": "40% 20% 0% 20%",
            "result.vertical_alignment": "bottom",
        },
    ),
    (
        {"size": "full", "scale": "60%", "position": "50% 0%"},
        {
            "result.crop_to_foreground": "true",
            "result.target_size": "256 256",
            "result.margin": "0% 20% 40% 20%",
            "result.vertical_alignment": "top",
        },
    ),
    (
        {"size": "full", "type": "auto", "type_level": "none", "semitransparency": "true", "add_shadow": "false"},
        {},
    ),
    ({"size": "full", "roi": "0% 0% 100% 100%", "channels": "rgba"}, {}),
    ({"size": "full", "roi": "0px 0px 256px 256px"}, {}),
]


@pytest.mark.parametrize(("removebg", "pixcut"), MAPPINGS, ids=lambda v: " ".join(f"{k}={x}" for k, x in v.items()))
def test_parameter_maps_onto_pixcut(
    auth_server: LiveServer, photo_bytes: bytes, removebg: dict[str, str], pixcut: dict[str, str]
) -> None:
    ours = post(auth_server, removebg, photo_bytes)
    assert ours.status_code == 200, ours.text
    reference = pixian(auth_server, pixcut, photo_bytes)
    assert ours.headers["content-type"] == reference.headers["content-type"]
    assert ours.content == reference.content
    width, height = reference.headers["X-Result-Size"].split()
    assert (ours.headers["X-Width"], ours.headers["X-Height"]) == (width, height)
    top, left, fg_w, fg_h = reference.headers["X-Result-Foreground"].split()
    assert [ours.headers[f"X-Foreground-{k}"] for k in ("Top", "Left", "Width", "Height")] == [top, left, fg_w, fg_h]


def test_default_fields_of_a_common_python_client(auth_server: LiveServer, photo_bytes: bytes) -> None:
    """What the ``removebg`` package (github.com/brilam/remove-bg) sends by default, URL changed only."""
    fields = {
        "size": "regular",
        "type": "auto",
        "type_level": "none",
        "format": "auto",
        "roi": "0 0 100% 100%",
        "crop": "false",
        "scale": "original",
        "position": "original",
        "channels": "rgba",
        "add_shadow": "false",
        "semitransparency": "true",
    }
    response = post(auth_server, fields, photo_bytes)
    assert response.status_code == 200, response.text
    assert response.content == pixian(auth_server, {"max_pixels": "250000"}, photo_bytes).content


def test_size_preview_is_the_default_and_quarter_megapixel(auth_server: LiveServer) -> None:
    sample = SAMPLE.read_bytes()  # 512 x 512 = 262,144 pixels: above 0.25 MP
    default = post(auth_server, {}, sample)
    preview = post(auth_server, {"size": "preview"}, sample)
    small = post(auth_server, {"size": "small"}, sample)
    regular = post(auth_server, {"size": "regular"}, sample)
    assert default.status_code == 200, default.text
    assert default.content == preview.content == small.content == regular.content
    assert (default.headers["X-Width"], default.headers["X-Height"]) == ("500", "500")
    assert default.content == pixian(auth_server, {"max_pixels": "250000"}, sample).content
    full = post(auth_server, {"size": "full"}, sample)
    assert (full.headers["X-Width"], full.headers["X-Height"]) == ("512", "512")
    whole = post(auth_server, {"roi": "0px 0px 512px 512px"}, sample)  # roi counts input pixels, not preview's
    assert whole.status_code == 200 and whole.content == default.content, whole.text
    scaled = post(auth_server, {"scale": "50%"}, sample)  # the canvas is the preview-sized result
    assert (scaled.headers["X-Width"], scaled.headers["X-Height"]) == ("500", "500")


def test_channels_alpha_is_the_mask_of_the_cutout(auth_server: LiveServer, photo_bytes: bytes) -> None:
    for extra in ({}, {"crop": "true", "crop_margin": "12px"}):
        mask = post(auth_server, {"size": "full", "channels": "alpha", **extra}, photo_bytes)
        cutout = post(auth_server, {"size": "full", **extra}, photo_bytes)
        assert mask.status_code == 200 and cutout.status_code == 200, mask.text
        with Image.open(io.BytesIO(mask.content)) as matte, Image.open(io.BytesIO(cutout.content)) as rgba:
            assert matte.format == "PNG" and matte.mode == "L" and matte.size == rgba.size
            assert np.array_equal(np.asarray(matte), np.asarray(rgba.getchannel("A")))
        assert mask.headers["X-Width"] == cutout.headers["X-Width"]


def test_format_auto_and_webp(auth_server: LiveServer, photo_bytes: bytes) -> None:
    auto = post(auth_server, {"size": "full", "format": "auto"}, photo_bytes)
    assert auto.headers["content-type"] == "image/png"  # transparent regions exist
    opaque = post(auth_server, {"size": "full", "format": "auto", "bg_color": "red"}, photo_bytes)
    assert opaque.headers["content-type"] == "image/jpeg"  # no transparency left
    webp = post(auth_server, {"size": "full", "format": "webp"}, photo_bytes)
    assert webp.status_code == 200, webp.text
    with Image.open(io.BytesIO(webp.content)) as image:
        assert image.format == "WEBP" and image.mode == "RGBA"


def test_api_key_and_basic_auth(auth_server: LiveServer, photo_bytes: bytes) -> None:
    assert post(auth_server, {"size": "full"}, photo_bytes, headers={}, auth=AUTH).status_code == 200
    for headers in ({}, {"X-Api-Key": "wrong"}, {"X-Api-Key": f"{API_ID}:nope"}, {"X-Api-Key": API_SECRET}):
        error = error_of(post(auth_server, {}, photo_bytes, headers=headers), 403)
        assert error["code"] == "auth_failed" and API_SECRET not in error["title"]


# -- inputs by URL ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image_host(photo_bytes: bytes) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/photo.png":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(photo_bytes)))
            self.end_headers()
            self.wfile.write(photo_bytes)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/photo.png"
    httpd.shutdown()


def test_image_url_fetched_under_the_server_policy(image_host: str, photo_bytes: bytes, tmp_path: Path) -> None:
    """The documented image_url call, against a server whose address rule admits this loopback host only."""
    server = LiveServer(ServeConfig(allow_url_fetch=True)).start()
    try:
        state = server.server.config.app.state.pixcut  # type: ignore[attr-defined]
        state.fetch_policy = FetchPolicy(max_bytes=2**20, address_allowed=lambda ip: ip.is_loopback)
        by_file = post(server, {"size": "auto"}, photo_bytes)
        assert by_file.status_code == 200, by_file.text
        if CURL is not None:  # the reference's call with image_url instead of image_file, URL changed only
            out = tmp_path / "no-bg.png"
            command = [CURL, "-sS", "-H", "X-API-Key: any-key-this-server-is-open", "-F", f"image_url={image_host}"]
            command += ["-F", "size=auto", "-f", rb_url(server), "-o", str(out)]
            completed = subprocess.run(command, capture_output=True, timeout=120, check=False)
            assert completed.returncode == 0, completed.stderr
            assert out.read_bytes() == by_file.content
        by_url = httpx.post(rb_url(server), json={"image_url": image_host, "size": "auto"}, timeout=120)
        assert by_url.status_code == 200, by_url.text
        assert by_url.content == by_file.content
        missing = httpx.post(rb_url(server), data={"image_url": image_host.replace("photo", "gone")}, timeout=60)
        error = error_of(missing)
        assert error["code"] == "failed_image_download" and "404" in error["title"]
    finally:
        server.stop()


def test_image_url_refused(auth_server: LiveServer, tight_server: LiveServer) -> None:
    private = httpx.post(rb_url(auth_server), data={"image_url": "http://10.0.0.1/x.png"}, headers=KEY, timeout=30)
    assert error_of(private)["code"] == "invalid_image_url"
    off = httpx.post(rb_url(tight_server), data={"image_url": "http://93.184.216.34/x.png"}, timeout=30)
    error = error_of(off)
    assert error["code"] == "invalid_image_url" and "--allow-url-fetch" in error["title"]


# -- each error form -------------------------------------------------------------------------------

PARAMETER_ERRORS = [
    ({"size": "50MP"}, "invalid_size"),
    ({"size": "huge"}, "invalid_size"),
    ({"format": "zip"}, "invalid_format"),
    ({"format": "bmp"}, "invalid_format"),
    ({"format": "jpg", "channels": "alpha"}, "invalid_format"),
    ({"bg_color": "81d4fa77"}, "invalid_bg_color"),
    ({"bg_color": "not-a-colour"}, "invalid_bg_color"),
    ({"bg_color": "red", "channels": "alpha"}, "invalid_bg_color"),
    ({"crop": "true", "crop_margin": "1px 2px 3px"}, "invalid_crop_margin"),
    ({"crop": "true", "crop_margin": "60%"}, "invalid_crop_margin"),
    ({"crop": "true", "crop_margin": "600px"}, "invalid_crop_margin"),
    ({"crop": "true", "crop_margin": "ten"}, "invalid_crop_margin"),
    ({"crop": "maybe"}, "invalid_crop"),
    ({"scale": "5%"}, "invalid_scale"),
    ({"scale": "big"}, "invalid_scale"),
    ({"scale": "80%", "crop": "true"}, "invalid_scale"),
    ({"scale": "80%", "position": "25%"}, "invalid_position"),
    ({"scale": "80%", "position": "50% 30%"}, "invalid_position"),
    ({"position": "center"}, "invalid_position"),
    ({"channels": "rgb"}, "invalid_channels"),
    ({"roi": "0% 0% 50% 50%"}, "invalid_roi"),
    ({"roi": "0 0 100"}, "invalid_roi"),
    ({"roi": "0 0 100 100"}, "invalid_roi"),  # bare numbers are pixels: a 100 x 100 region of 256 x 256
    ({"roi": "0% 0% 100 ten"}, "invalid_roi"),
    ({"roi": "0px 0px 999px 999px"}, "roi_exceeds_bounds"),
    ({"roi": "50% 50% 10% 10%"}, "roi_region_empty"),
    ({"type": "person"}, "invalid_type"),
    ({"type_level": "1"}, "invalid_type_level"),
    ({"semitransparency": "false"}, "invalid_semitransparency"),
    ({"add_shadow": "true"}, "invalid_add_shadow"),
    ({"bg_image_url": "https://example.com/bg.jpg"}, "unsupported_parameter"),
    ({"shadow_type": "car"}, "unsupported_parameter"),
    ({"colour": "red"}, "unknown_parameter"),
]


@pytest.mark.parametrize(("fields", "code"), PARAMETER_ERRORS, ids=lambda v: str(v))
def test_parameter_errors(auth_server: LiveServer, photo_bytes: bytes, fields: dict[str, str], code: str) -> None:
    assert error_of(post(auth_server, fields, photo_bytes))["code"] == code


def test_input_errors(auth_server: LiveServer, photo_bytes: bytes) -> None:
    missing = error_of(post(auth_server, {"size": "full"}, None))
    assert missing["code"] == "missing_source" and "image_file" in missing["detail"]
    both = httpx.post(
        rb_url(auth_server),
        data={"image_file_b64": base64.b64encode(photo_bytes).decode()},
        files={"image_file": ("p.png", photo_bytes)},
        headers=KEY,
        timeout=60,
    )
    assert error_of(both)["code"] == "multiple_sources"
    assert error_of(post(auth_server, {}, b"plain text, not an image"))["code"] == "invalid_file_type"
    assert error_of(post(auth_server, {}, photo_bytes[: len(photo_bytes) // 2]))["code"] == "failed_to_read_image"
    bad_b64 = httpx.post(rb_url(auth_server), data={"image_file_b64": "%%%"}, headers=KEY, timeout=60)
    assert error_of(bad_b64)["code"] == "failed_to_read_image"
    assert error_of(post(auth_server, {}, png_with_declared_size(8000, 8000)))["code"] == "resolution_too_high"
    large = post(auth_server, {}, b"\0" * (3 * 1024 * 1024))
    assert error_of(large)["code"] == "file_too_large"
    assert error_of(httpx.get(rb_url(auth_server), headers=KEY, timeout=10), 405)["code"] == "method_not_allowed"
    transparent = encode(Image.new("RGBA", (64, 64), (0, 0, 0, 0)))
    assert error_of(post(auth_server, {"size": "full"}, transparent))["code"] == "unknown_foreground"
    json_body = httpx.post(rb_url(auth_server), content=b"{", headers={**KEY, "Content-Type": "application/json"})
    assert error_of(json_body)["code"] == "invalid_parameters"


def test_overload_in_removebg_form(tight_server: LiveServer) -> None:
    """The same limiter as the Pixian route: one worker, no queue -> 429 rate_limit_exceeded."""
    data = encode(make_photo((512, 512)))
    responses = send_at_once(5, lambda: post(tight_server, {"size": "full"}, data))
    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and 429 in codes and set(codes) <= {200, 429}, codes
    for response in responses:
        if response.status_code == 429:
            assert error_of(response, 429)["code"] == "rate_limit_exceeded"
            assert int(response.headers["Retry-After"]) >= 1


def test_listed_in_openapi(auth_server: LiveServer) -> None:
    spec = httpx.get(auth_server.base + "/openapi.json", auth=AUTH, timeout=10).json()
    body = spec["paths"][REMOVEBG_PATH]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"image_file", "image_file_b64", "image_url", "size", "crop_margin", "channels"} <= set(body["properties"])
