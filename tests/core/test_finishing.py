"""The API's result semantics on cutouts whose foreground box is known exactly."""

import io

import pytest
from PIL import Image
from support import cutout_with_box

from pixcut.finishing import build_result, finish
from pixcut.geometry import Box, foreground_box
from pixcut.options import RemovalOptions

SIZE = (200, 100)
BOX = (50, 20, 90, 80)  # left, top, right, bottom: a 40x60 foreground


@pytest.fixture
def cutout():
    return cutout_with_box(SIZE, BOX)


def test_no_options_returns_the_cutout_unchanged(cutout):
    finished = finish(cutout, RemovalOptions())
    assert finished.image.tobytes() == cutout.tobytes()
    assert finished.foreground == Box(20, 50, 40, 60)


def test_crop_to_foreground(cutout):
    finished = finish(cutout, RemovalOptions(crop_to_foreground=True))
    assert finished.image.size == (40, 60)
    assert finished.foreground == Box(0, 0, 40, 60)
    assert finished.image.getchannel("A").getextrema() == (255, 255)


@pytest.mark.parametrize(
    "margin, size, fg",
    [
        ("10px", (60, 80), Box(10, 10, 40, 60)),
        ("10px 5px", (50, 80), Box(10, 5, 40, 60)),
        ("1px 2px 3px", (44, 64), Box(1, 2, 40, 60)),
        ("1px 2px 3px 4px", (46, 64), Box(1, 4, 40, 60)),
        ("50%", (80, 120), Box(30, 20, 40, 60)),  # top/bottom 50% of 60, left/right 50% of 40
        ("10% 25%", (60, 72), Box(6, 10, 40, 60)),
        ("2.5px", (46, 66), Box(3, 3, 40, 60)),  # half up: 3 px on each side
    ],
)
def test_each_margin_form_on_a_cropped_result(cutout, margin, size, fg):
    finished = finish(cutout, RemovalOptions(crop_to_foreground=True, margin=margin))
    assert finished.image.size == size
    assert finished.foreground == fg
    assert foreground_box(finished.image) == fg


def test_margin_without_crop_grows_the_whole_image(cutout):
    finished = finish(cutout, RemovalOptions(margin="10px"))
    assert finished.image.size == (220, 120)
    assert finished.foreground == Box(30, 60, 40, 60)


@pytest.mark.parametrize("alignment, top", [("top", 0), ("middle", 100), ("bottom", 200)])
def test_target_size_fits_inside_centres_horizontally_and_aligns_vertically(cutout, alignment, top):
    # 40x60 content into 400x400: scale 400/60 would overflow width? no: min(400/40, 400/60) = 6.67
    options = RemovalOptions(crop_to_foreground=True, target_size="600 600", vertical_alignment=alignment)
    finished = finish(cutout, options)
    assert finished.image.size == (600, 600)
    # 40x60 scaled by min(600/40, 600/60) = 10 -> 400x600: no vertical space, centred horizontally
    assert finished.foreground == Box(0, 100, 400, 600)
    wide = finish(cutout, options.replace(target_size="200 100"))
    # scale min(200/40, 100/60) = 1.667 -> 67x100, centred: left (200-67)//2 = 66
    assert wide.foreground == Box(0, 66, 67, 100)
    tall = finish(cutout, options.replace(target_size="40 300"))
    # scale 1 -> 40x60 in 40x300: free height 240 -> top 0 / 120 / 240
    assert tall.foreground == Box({"top": 0, "middle": 120, "bottom": 240}[alignment], 0, 40, 60)
    assert foreground_box(tall.image) == tall.foreground


def test_margin_is_inset_with_a_target_size(cutout):
    options = RemovalOptions(crop_to_foreground=True, target_size="100 100", margin="10px")
    finished = finish(cutout, options)
    assert finished.image.size == (100, 100)  # the margin does not grow the target
    # inner 80x80: 40x60 scaled by 80/60 -> 53x80, at left 10 + (80-53)//2 = 23, top 10
    assert finished.foreground == Box(10, 23, 53, 80)


def test_background_colour_gives_an_opaque_jpeg(cutout):
    result = build_result(cutout, RemovalOptions(background_color="#00FF00"), input_size=SIZE)
    assert result.format == "jpeg" and result.content_type == "image/jpeg"
    image = Image.open(io.BytesIO(result.data))
    assert image.format == "JPEG" and image.mode == "RGB"
    r, g, b = image.getpixel((5, 5))
    assert g > 240 and r < 15 and b < 15
    r, g, b = image.getpixel((70, 50))
    assert (abs(r - 20), abs(g - 120), abs(b - 220)) < (12, 12, 12)


def test_png_with_background_colour_is_opaque(cutout):
    result = build_result(cutout, RemovalOptions(background_color="#FF0000", output_format="png"), input_size=SIZE)
    image = Image.open(io.BytesIO(result.data))
    assert image.format == "PNG" and image.mode == "RGB" and image.getpixel((0, 0)) == (255, 0, 0)


def test_jpeg_quality_is_applied(cutout):
    low = build_result(cutout, RemovalOptions(output_format="jpeg", jpeg_quality=5), input_size=SIZE)
    high = build_result(cutout, RemovalOptions(output_format="jpeg", jpeg_quality=100), input_size=SIZE)
    assert len(low.data) < len(high.data)


def test_headers_of_a_finished_result(cutout):
    result = build_result(
        cutout, RemovalOptions(crop_to_foreground=True, margin="5px"), input_size=(400, 200), orientation=3
    )
    # the cutout is half the input size (max_pixels downscale): the input box is scaled back
    assert result.headers == {
        "X-Input-Orientation": "3",
        "X-Input-Size": "400 200",
        "X-Result-Size": "50 70",
        "X-Input-Foreground": "40 100 80 120",
        "X-Result-Foreground": "5 5 40 60",
    }


def test_empty_foreground_crop_keeps_the_image():
    empty = Image.new("RGBA", (30, 20))
    finished = finish(empty, RemovalOptions(crop_to_foreground=True))
    assert finished.image.size == (30, 20) and finished.foreground is None
