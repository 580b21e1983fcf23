"""The offline backend speaks the API's semantics: same options, same result headers, same finishing."""

import io

import pytest
from PIL import Image
from support import make_photo

from pixcut import RemovalOptions, remove_background
from pixcut.backends import ImageInput, create_backend
from pixcut.errors import OptionsError

OPTION_SETS = [
    {},
    {"crop_to_foreground": True},
    {"crop_to_foreground": True, "margin": "5% 10px"},
    {"target_size": "200 120", "vertical_alignment": "bottom", "margin": "4px"},
    {"crop_to_foreground": True, "background_color": "#336699"},
    {"crop_to_foreground": True, "output_format": "jpeg", "jpeg_quality": 90},
]


@pytest.fixture(scope="module")
def local():
    return create_backend("local")


@pytest.fixture(scope="module")
def photo_bytes():
    buffer = io.BytesIO()
    make_photo((240, 180), (80, 40, 170, 150)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: ",".join(o) or "plain")
def test_delta_transfer_plus_local_finishing_equals_the_finished_result(local, photo_bytes, options):
    direct = remove_background(photo_bytes, backend=local, **options)
    via_delta = remove_background(photo_bytes, backend=local, delta=True, **options)
    assert via_delta.format == direct.format
    assert via_delta.image.tobytes() == direct.image.tobytes()
    assert via_delta.headers == direct.headers


def test_result_headers_describe_the_object(local, photo_bytes):
    result = remove_background(photo_bytes, backend=local)
    top, left, width, height = result.info.input_foreground.to_list()
    # the drawn ellipse spans left 80..170, top 40..150
    assert abs(left - 80) <= 12 and abs(top - 40) <= 12
    assert abs(left + width - 171) <= 12 and abs(top + height - 151) <= 12
    assert result.headers["X-Input-Size"] == "240 180" and result.headers["X-Credits-Charged"] == "0"
    assert "X-Credits-Calculated" not in result.headers


def test_max_pixels_downscales_and_reports_input_coordinates(local, photo_bytes):
    full = remove_background(photo_bytes, backend=local)
    small = remove_background(photo_bytes, backend=local, max_pixels=240 * 180 // 4)
    assert small.image.size == (120, 90) and small.info.input_size == (240, 180)
    for a, b in zip(small.info.input_foreground.to_list(), full.info.input_foreground.to_list(), strict=True):
        assert abs(a - b) <= 6
    with pytest.raises(OptionsError, match="max_pixels"):
        remove_background(photo_bytes, backend=local, delta=True, max_pixels=1000)


def test_test_mode_has_a_visible_watermark(local, photo_bytes):
    plain = remove_background(photo_bytes, backend=local, background_color="#FFFFFF", output_format="png")
    marked = remove_background(photo_bytes, backend=local, background_color="#FFFFFF", output_format="png", test=True)
    assert marked.headers["X-Credits-Calculated"] == "0"
    a, b = plain.image.convert("RGB"), marked.image.convert("RGB")
    from PIL import ImageChops

    changed = sum(ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0).histogram()[255:])
    assert changed > 0.05 * a.width * a.height  # a watermark, not a speck
    # and it shows on transparent results too: much of the background is no longer fully transparent
    clear = remove_background(photo_bytes, backend=local).image.getchannel("A")
    marked_alpha = remove_background(photo_bytes, backend=local, test=True).image.getchannel("A")
    background = clear.point(lambda v: 255 if v == 0 else 0)
    covered = ImageChops.multiply(background, marked_alpha.point(lambda v: 255 if v else 0))
    assert background.histogram()[255] > 0.2 * a.width * a.height  # the photo has a background to mark
    assert covered.histogram()[255] > 0.05 * background.histogram()[255]


def test_exif_rotated_input_is_upright_and_reported(local):
    upright = make_photo((200, 120), (20, 20, 90, 100))
    exif = Image.Exif()
    exif[0x0112] = 8
    buffer = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_270).save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    result = remove_background(buffer.getvalue(), backend=local)
    assert result.info.input_orientation == 8 and result.image.size == (200, 120)
    assert result.info.input_foreground.left < 40


def test_pil_image_input_and_url_refusal(local):
    result = remove_background(make_photo((64, 48)), backend=local)
    assert result.image.size == (64, 48)
    with pytest.raises(OptionsError, match="does not fetch"):
        local.remove(ImageInput(url="http://127.0.0.1/x.png"), RemovalOptions())


def test_decontamination_changes_only_soft_edge_colours(photo_bytes):
    from pixcut.backends import BackendSettings

    plain = remove_background(photo_bytes, backend=create_backend("local"))
    clean = remove_background(photo_bytes, backend=create_backend("local", BackendSettings(decontaminate=True)))
    a_plain, a_clean = plain.image.getchannel("A"), clean.image.getchannel("A")
    assert a_plain.tobytes() == a_clean.tobytes()  # the mask is untouched
    alpha = a_plain.tobytes()
    p, c = plain.image.tobytes(), clean.image.tobytes()
    changed_opaque = changed_soft = 0
    for i, value in enumerate(alpha):
        if p[4 * i : 4 * i + 3] != c[4 * i : 4 * i + 3]:
            if value == 255:
                changed_opaque += 1
            else:
                changed_soft += 1
    assert changed_opaque == 0 and changed_soft > 0
