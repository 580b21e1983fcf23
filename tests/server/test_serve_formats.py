"""``pixcut serve`` reads every format pixcut reads and keeps the photo's colour profile.

A real uvicorn server with the real engine; requests as curl sends them (httpx
multipart) and through pixcut's own client and CLI (``--endpoint``).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from _serve_support import API_ID, API_SECRET, AUTH, LiveServer, make_photo
from icc_profiles import cmyk_press_like, display_p3_like
from PIL import Image

from pixcut.imageio import SRGB_ICC

P3 = display_p3_like()


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def post(server: LiveServer, data: bytes, name: str, **form: str) -> httpx.Response:
    return httpx.post(server.url, files={"image": (name, data)}, data=form, auth=AUTH, timeout=120)


@pytest.mark.parametrize(
    "fmt, name, params",
    [("WEBP", "a.webp", {"lossless": True}), ("AVIF", "a.avif", {"quality": 90}), ("HEIF", "a.heic", {"quality": -1})],
)
def test_serve_reads_webp_avif_heic(auth_server: LiveServer, fmt: str, name: str, params: dict) -> None:
    response = post(auth_server, encoded(make_photo((128, 96)), fmt, **params), name)
    assert response.status_code == 200, response.text
    result = Image.open(io.BytesIO(response.content))
    assert result.format == "PNG" and result.mode == "RGBA" and result.size == (128, 96)
    assert response.headers["X-Input-Size"] == "128 96"


def test_serve_keeps_the_p3_profile_and_the_foreground_pixels(auth_server: LiveServer) -> None:
    data = encoded(make_photo((160, 120)), "JPEG", quality=95, icc_profile=P3)
    response = post(auth_server, data, "p3.jpg")
    assert response.status_code == 200, response.text
    result = Image.open(io.BytesIO(response.content))
    assert result.info.get("icc_profile") == P3
    rgba = np.asarray(result)
    source = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    opaque = rgba[..., 3] == 255
    assert opaque.sum() > 100
    assert np.array_equal(rgba[..., :3][opaque], source[opaque])
    jpeg = post(auth_server, data, "p3.jpg", **{"background.color": "#FFFFFF"})
    assert Image.open(io.BytesIO(jpeg.content)).info.get("icc_profile") == P3


def test_serve_converts_cmyk_through_its_profile(auth_server: LiveServer) -> None:
    cmyk = Image.new("CMYK", (128, 96), (10, 20, 30, 0))
    cmyk.paste((0, 210, 200, 20), (40, 24, 88, 72))
    response = post(auth_server, encoded(cmyk, "JPEG", quality=95, icc_profile=cmyk_press_like()), "cmyk.jpg")
    assert response.status_code == 200, response.text
    assert Image.open(io.BytesIO(response.content)).info.get("icc_profile") == SRGB_ICC


def test_serve_keeps_the_pixian_wire_format(auth_server: LiveServer) -> None:
    response = post(auth_server, encoded(make_photo((64, 48)), "PNG"), "a.png", **{"output.format": "webp"})
    assert response.status_code == 400
    assert "output.format" in response.json()["error"]["message"]


def test_cli_to_serve_with_heic_mask_and_webp(auth_server: LiveServer, tmp_path: Path) -> None:
    heic = tmp_path / "shot.heic"
    heic.write_bytes(encoded(make_photo((128, 96)), "HEIF", quality=-1))
    common = ["--endpoint", auth_server.url, "--api-id", API_ID, "--api-secret", API_SECRET, "--json"]
    proc = subprocess.run(
        [sys.executable, "-m", "pixcut", "remove", str(heic), "-o", str(tmp_path / "mask.png"),
         "--output-type", "mask", "--crop-to-foreground", *common],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    result = next(e for e in events if e["event"] == "result")
    assert result["converted_for_upload"] == "HEIF"
    mask = Image.open(tmp_path / "mask.png")
    assert mask.mode == "L" and mask.size == tuple(result["result_size"])
    proc = subprocess.run(
        [sys.executable, "-m", "pixcut", "remove", str(heic), "-o", str(tmp_path / "cut.webp"), "--format", "webp",
         *common],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert Image.open(tmp_path / "cut.webp").format == "WEBP"


def test_delta_transfer_of_a_rotated_webp_rebuilds_upright_with_its_profile(auth_server: LiveServer) -> None:
    from pixcut import remove_background
    from pixcut.backends import BackendSettings, create_backend
    from pixcut.credentials import Credentials

    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(make_photo((128, 96)), "WEBP", lossless=True, exif=exif.tobytes(), icc_profile=P3)
    cloud = create_backend(
        "pixian", BackendSettings(endpoint=auth_server.url, credentials=Credentials(API_ID, API_SECRET))
    )
    delta = remove_background(data, backend=cloud, delta=True, crop_to_foreground=True)
    # In process on the same (default) runtime as the server, so the two must agree to the bit.
    local = remove_background(data, crop_to_foreground=True)
    assert delta.converted_for_upload == "WEBP"
    assert delta.info.input_orientation == 6 and delta.info.input_size == (96, 128)
    assert delta.image.info.get("icc_profile") == P3
    assert np.array_equal(np.asarray(delta.image), np.asarray(local.image))
