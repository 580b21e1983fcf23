"""Mask output (``output="mask"``): the 8-bit alpha matte of exactly the result the cutout would be.

Offline through the real engine, through the CLI process, and from the cloud (a real
HTTP server on 127.0.0.1 playing the service) both as a finished PNG and as a Delta PNG.
"""

import io
import json
import subprocess
import sys

import pytest
from PIL import Image, ImageChops
from support import Canned, cutout_with_box, make_photo, png_bytes

from pixcut import remove_background
from pixcut.backends import BackendSettings, create_backend
from pixcut.credentials import Credentials
from pixcut.delta_png import encode_delta
from pixcut.errors import OptionsError
from pixcut.finishing import build_result
from pixcut.options import RemovalOptions

GEOMETRIES = [
    {},
    {"crop_to_foreground": True},
    {"crop_to_foreground": True, "margin": "10px 5%"},
    {"target_size": "120 90", "margin": "4px", "vertical_alignment": "bottom"},
]


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: ",".join(g) or "plain")
def test_mask_is_the_alpha_of_the_cutout_result_with_the_same_geometry(geometry):
    cutout = cutout_with_box((200, 100), (50, 20, 90, 80))
    want = build_result(cutout, RemovalOptions(**geometry), input_size=cutout.size)
    got = build_result(cutout, RemovalOptions(output="mask", **geometry), input_size=cutout.size)
    assert got.format == "png"
    mask = Image.open(io.BytesIO(got.data))
    assert mask.mode == "L"
    assert mask.size == want.image.size
    assert mask.tobytes() == want.image.getchannel("A").tobytes()
    assert got.info.result_foreground == want.info.result_foreground
    assert got.info.result_size == want.info.result_size


def test_background_colour_does_not_apply_to_a_mask():
    cutout = cutout_with_box((60, 40), (10, 10, 30, 30))
    got = build_result(cutout, RemovalOptions(output="mask", background_color="#FF0000"), input_size=cutout.size)
    assert got.format == "png"  # auto stays PNG: the colour would have made it a JPEG cutout
    mask = Image.open(io.BytesIO(got.data))
    assert mask.mode == "L"
    assert mask.getpixel((0, 0)) == 0 and mask.getpixel((15, 15)) == 255


def test_mask_as_webp_is_lossless():
    cutout = cutout_with_box((60, 40), (10, 10, 30, 30))
    got = build_result(cutout, RemovalOptions(output="mask", output_format="webp"), input_size=cutout.size)
    decoded = Image.open(io.BytesIO(got.data))
    assert decoded.format == "WEBP"
    assert decoded.convert("L").tobytes() == cutout.getchannel("A").tobytes()


@pytest.mark.parametrize("fmt", ["jpeg", "delta_png"])
def test_mask_refuses_formats_that_cannot_hold_it(fmt):
    with pytest.raises(OptionsError, match="mask"):
        RemovalOptions(output="mask", output_format=fmt)


def test_output_type_is_validated_and_never_a_form_field():
    with pytest.raises(OptionsError, match="output"):
        RemovalOptions(output="matte")
    assert "output" not in " ".join(RemovalOptions(output="mask").to_form())
    with pytest.raises(OptionsError):
        RemovalOptions.from_form({"output": "mask"})


def test_offline_mask_through_the_api_matches_the_cutout_alpha():
    photo = make_photo((160, 120))
    options = {"crop_to_foreground": True, "margin": "6px"}
    cutout = remove_background(photo, **options)
    mask = remove_background(photo, output="mask", **options)
    assert mask.image.mode == "L"
    assert mask.image.size == cutout.image.size
    assert ImageChops.difference(mask.image, cutout.image.getchannel("A")).getbbox() is None
    assert mask.image.getextrema() == (0, 255)


def test_cli_output_type_mask(tmp_path):
    source = tmp_path / "photo.png"
    make_photo((160, 120)).save(source)
    out = tmp_path / "mask.png"
    proc = subprocess.run(
        [sys.executable, "-m", "pixcut", "remove", str(source), "-o", str(out), "--output-type", "mask", "--json",
         "--target-size", "100 100", "--background-color", "#00FF00"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = next(json.loads(line) for line in proc.stdout.splitlines() if '"result"' in line)
    mask = Image.open(out)
    assert mask.mode == "L" and mask.size == (100, 100)
    assert result["result_size"] == [100, 100] and result["format"] == "png"
    beside = subprocess.run(
        [sys.executable, "-m", "pixcut", "remove", str(source), "--output-type", "mask"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert beside.returncode == 0, beside.stderr
    assert Image.open(tmp_path / "photo-mask.png").mode == "L"


def _cloud(url):
    return create_backend("pixian", BackendSettings(endpoint=url, credentials=Credentials("id", "secret")))


CLOUD_HEADERS = {"Content-Type": "image/png", "X-Result-Size": "40 30", "X-Result-Foreground": "6 5 20 20"}


def test_cloud_mask_is_derived_locally_from_the_returned_cutout(scripted, photo_path):
    served = cutout_with_box((40, 30), (5, 6, 25, 26))
    scripted.responses = [Canned(200, png_bytes(served), CLOUD_HEADERS)]
    result = remove_background(
        photo_path, backend=_cloud(scripted.url), output="mask", crop_to_foreground=True, background_color="#FF0000"
    )
    form = scripted.requests[0].form()
    assert form["result.crop_to_foreground"] == b"true"
    assert "background.color" not in form  # the matte is the alpha: an opaque result would lose it
    assert "output" not in form and form.get("output.format", b"png") == b"png"
    assert result.format == "png"
    assert result.image.mode == "L"
    assert result.image.tobytes() == served.getchannel("A").tobytes()
    assert result.info.result_size == (40, 30)


def test_cloud_mask_through_delta_png_uses_the_same_finishing(scripted, tmp_path):
    photo = make_photo((80, 60))
    path = tmp_path / "p.png"
    photo.save(path)
    cutout = cutout_with_box((80, 60), (20, 10, 60, 50))
    scripted.responses = [Canned(200, encode_delta(cutout), {"Content-Type": "image/png", "X-Input-Size": "80 60"})]
    result = remove_background(path, backend=_cloud(scripted.url), output="mask", crop_to_foreground=True, delta=True)
    assert scripted.requests[0].form()["output.format"] == b"delta_png"
    assert result.image.mode == "L" and result.image.size == (40, 40)
    assert result.image.getextrema() == (255, 255)


def test_a_mask_carries_no_colour_profile_or_metadata():
    from icc_profiles import display_p3_like

    exif = Image.Exif()
    exif[0x010F] = "camera"
    buffer = io.BytesIO()
    make_photo((80, 60)).save(buffer, "JPEG", icc_profile=display_p3_like(), exif=exif.tobytes())
    for fmt in ("png", "webp"):
        result = remove_background(buffer.getvalue(), output="mask", output_format=fmt, keep_metadata=True)
        mask = Image.open(io.BytesIO(result.data))
        assert not mask.info.get("icc_profile") and not mask.getexif()


def test_webp_quality_needs_webp_output():
    with pytest.raises(OptionsError, match="webp"):
        RemovalOptions(webp_quality=80)
    assert RemovalOptions(output_format="webp", webp_quality=80).webp_quality == 80


def test_cloud_lossy_webp_mask_asks_the_wire_for_a_png_cutout():
    wire = RemovalOptions(output="mask", output_format="webp", webp_quality=50, background_color="#FF0000").wire_options
    assert (wire.output, wire.output_format, wire.webp_quality, wire.background_color) == ("cutout", "png", None, None)
