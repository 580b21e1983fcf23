import pytest

from pixcut.errors import OptionsError
from pixcut.options import Margin, RemovalOptions

FULL = dict(
    test=True,
    max_pixels=1_000_000,
    background_color="#0055ff",
    crop_to_foreground=True,
    margin="10px 20% 5px 15.5%",
    target_size="1920 1080",
    vertical_alignment="bottom",
    output_format="jpeg",
    jpeg_quality=90,
)


def test_full_options_become_the_exact_api_form_fields():
    assert RemovalOptions(**FULL).to_form() == {
        "test": "true",
        "max_pixels": "1000000",
        "background.color": "#0055FF",
        "result.crop_to_foreground": "true",
        "result.margin": "10px 20% 5px 15.5%",
        "result.target_size": "1920 1080",
        "result.vertical_alignment": "bottom",
        "output.format": "jpeg",
        "output.jpeg_quality": "90",
    }


def test_form_round_trip_and_defaults_send_nothing():
    options = RemovalOptions(**FULL)
    assert RemovalOptions.from_form(options.to_form()) == options
    assert RemovalOptions().to_form() == {}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10px", (10, 10, 10, 10)),
        ("10px 20px", (10, 20, 10, 20)),
        ("1px 2px 3px", (1, 2, 3, 2)),
        ("1px 2px 3px 4px", (1, 2, 3, 4)),
        ("10% 50%", (20, 100, 20, 100)),
        ("2.5%", (5, 5, 5, 5)),
    ],
)
def test_margin_css_shorthand(text, expected):
    # percentages: top/bottom of the height (200), left/right of the width (200)
    assert Margin.parse(text).resolve(200, 200) == expected


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"max_pixels": 99}, "max_pixels"),
        ({"max_pixels": 25_000_001}, "max_pixels"),
        ({"background_color": "0055FF"}, "background.color"),
        ({"background_color": "#05F"}, "background.color"),
        ({"margin": "10"}, "result.margin"),
        ({"margin": "1px 2px 3px 4px 5px"}, "result.margin"),
        ({"margin": "-5px"}, "result.margin"),
        ({"target_size": "1920"}, "result.target_size"),
        ({"target_size": "0 10"}, "result.target_size"),
        ({"vertical_alignment": "center"}, "result.vertical_alignment"),
        ({"output_format": "gif"}, "output.format"),
        ({"jpeg_quality": 0}, "output.jpeg_quality"),
        ({"jpeg_quality": 101}, "output.jpeg_quality"),
        ({"test": "yes"}, "test"),
    ],
)
def test_invalid_values_name_the_field(kwargs, field):
    with pytest.raises(OptionsError) as info:
        RemovalOptions(**kwargs)
    assert str(info.value).startswith(field)


def test_unknown_form_field_is_rejected():
    with pytest.raises(OptionsError, match="result.crop"):
        RemovalOptions.from_form({"result.crop": "true"})


def test_booleans_accept_api_spellings():
    assert RemovalOptions.from_form({"test": "TRUE", "result.crop_to_foreground": "1"}).crop_to_foreground
    assert not RemovalOptions.from_form({"test": "0"}).test


def test_auto_format_resolution():
    assert RemovalOptions().resolved_format == "png"
    assert RemovalOptions(background_color="#FFFFFF").resolved_format == "jpeg"
    assert RemovalOptions(background_color="#FFFFFF", output_format="png").resolved_format == "png"
