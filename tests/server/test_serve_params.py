"""Every API parameter through a real ``pixcut serve``, with pixcut's own Pixian client as the client.

The server must give exactly what the offline backend gives in-process for the same
options (same pixels, same result headers): it adds transport, not behaviour.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from _serve_support import API_ID, API_SECRET, LiveServer
from PIL import Image

from pixcut import remove_background
from pixcut.backends import BackendSettings, create_backend
from pixcut.credentials import Credentials
from pixcut.result import RESULT_HEADERS, RemovalResult


@pytest.fixture(scope="module")
def pixian(auth_server: LiveServer):  # type: ignore[no-untyped-def]
    settings = BackendSettings(
        endpoint=auth_server.url,
        credentials=Credentials(API_ID, API_SECRET),
        backoff_unit=0.05,
        max_server_retries=0,
    )
    return create_backend("pixian", settings)


@pytest.fixture(scope="module")
def local():  # type: ignore[no-untyped-def]
    return create_backend("local", BackendSettings())


def pixels(result: RemovalResult) -> np.ndarray:
    """Decoded from the bytes (a local result may cache its pre-encoding image in ``.image``)."""
    with Image.open(io.BytesIO(result.data)) as image:
        return np.asarray(image.convert(image.mode))


TALL_CROP = {"target_size": "200 400", "crop_to_foreground": True}
# Each case costs two inferences (~1 s each on a 2-core runner), so the cases are chosen to cover every
# parameter once; alignment, margin and crop get their own geometric checks below.
CASES = {
    "crop+margin4": {"crop_to_foreground": True, "margin": "10px 20% 5px 15%"},
    "target+margin": {"target_size": "320 240", "margin": "5%"},
    "target+crop+bottom": {**TALL_CROP, "vertical_alignment": "bottom"},
    "background->jpeg": {"background_color": "#0055FF"},
    "jpeg+quality": {"output_format": "jpeg", "jpeg_quality": 40},
    "max_pixels": {"max_pixels": 10_000},
    "test": {"test": True},
    "delta_png": {"output_format": "delta_png"},
}


@pytest.mark.parametrize("options", list(CASES.values()), ids=list(CASES))
def test_parameter_matches_local_backend(pixian, local, photo_file: Path, options: dict) -> None:  # type: ignore[no-untyped-def]
    served = remove_background(photo_file, backend=pixian, **options)
    direct = remove_background(photo_file, backend=local, **options)
    assert served.format == direct.format
    assert served.info == direct.info
    assert served.data == direct.data
    assert served.image.size == served.info.result_size
    assert np.array_equal(pixels(served), pixels(direct))


def test_background_colour_gives_opaque_jpeg(pixian, photo_file: Path) -> None:  # type: ignore[no-untyped-def]
    result = remove_background(photo_file, backend=pixian, background_color="#0055FF")
    assert result.format == "jpeg" and result.data[:3] == b"\xff\xd8\xff"
    assert result.image.mode == "RGB"
    corner = np.asarray(result.image)[2, 2].astype(int)
    assert np.abs(corner - np.array([0x00, 0x55, 0xFF])).max() <= 12


def test_vertical_alignment_places_the_content(pixian, photo_file: Path) -> None:  # type: ignore[no-untyped-def]
    tops = {}
    for alignment in ("top", "middle", "bottom"):
        result = remove_background(photo_file, backend=pixian, **TALL_CROP, vertical_alignment=alignment)
        assert result.info.result_size == (200, 400)
        box = result.info.result_foreground
        assert box is not None
        tops[alignment] = (box.top, box.top + box.height)
    assert tops["top"][0] <= 1
    assert tops["bottom"][1] >= 399
    assert tops["top"][0] < tops["middle"][0] < tops["bottom"][0]


def test_crop_and_margin_sizes(pixian, photo_file: Path) -> None:  # type: ignore[no-untyped-def]
    cropped = remove_background(photo_file, backend=pixian, crop_to_foreground=True)
    box = cropped.info.input_foreground
    assert box is not None and cropped.info.result_size == (box.width, box.height)
    margined = remove_background(photo_file, backend=pixian, crop_to_foreground=True, margin="10px")
    assert margined.info.result_size == (box.width + 20, box.height + 20)
    assert margined.info.result_foreground is not None
    assert (margined.info.result_foreground.top, margined.info.result_foreground.left) == (10, 10)


def test_delta_rebuild_equals_png(pixian, photo_file: Path) -> None:  # type: ignore[no-untyped-def]
    finishing = {"crop_to_foreground": True, "margin": "8px 4%", "target_size": "240 240"}
    finishing["output_format"] = "png"
    plain = remove_background(photo_file, backend=pixian, **finishing)
    rebuilt = remove_background(photo_file, backend=pixian, delta=True, **finishing)
    assert rebuilt.info.result_size == plain.info.result_size
    assert np.array_equal(pixels(rebuilt), pixels(plain))


def test_all_seven_headers_consistent(auth_server: LiveServer, photo_bytes: bytes) -> None:
    import httpx

    auth = (API_ID, API_SECRET)
    files = {"image": ("photo.png", photo_bytes, "image/png")}
    test_call = httpx.post(auth_server.url, files=files, data={"test": "true"}, auth=auth, timeout=60)
    assert test_call.status_code == 200, test_call.text
    for name in RESULT_HEADERS:
        assert name in test_call.headers, name
    assert test_call.headers["X-Credits-Calculated"] == "0"
    assert test_call.headers["X-Credits-Charged"] == "0"
    assert test_call.headers["X-Input-Orientation"] == "1"
    assert test_call.headers["X-Input-Size"] == "256 256"
    assert test_call.headers["X-Result-Size"] == "256 256"
    assert test_call.headers["X-Input-Foreground"] == test_call.headers["X-Result-Foreground"]
    top, left, width, height = map(int, test_call.headers["X-Result-Foreground"].split())
    assert 0 <= top and 0 <= left and left + width <= 256 and top + height <= 256 and width * height > 0

    production = httpx.post(auth_server.url, files=files, auth=auth, timeout=60)
    assert production.status_code == 200
    assert "X-Credits-Calculated" not in production.headers
    for name in RESULT_HEADERS:
        if name != "X-Credits-Calculated":
            assert name in production.headers
