"""Unit tests of the Krita plug-in's pure logic (no Krita, no PyQt5): pixels, PNG, arguments, placement."""

from __future__ import annotations

import ast
import io
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "krita"))

from pixcut_krita import logic
from pixcut_krita.logic import PixcutPluginError, Settings


def test_package_imports_without_krita():
    import pixcut_krita

    assert pixcut_krita.Krita is None  # outside Krita the package registers nothing
    tree = ast.parse(Path(logic.__file__).read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


# ------------------------------------------------------------------ pixels


def test_bgra_rgba_swap_roundtrip():
    bgra = bytes([1, 2, 3, 4, 10, 20, 30, 40])
    rgba = logic.bgra_to_rgba(bgra)
    assert rgba == bytes([3, 2, 1, 4, 30, 20, 10, 40])
    assert logic.rgba_to_bgra(rgba) == bgra
    assert logic.alpha_channel(rgba) == bytes([4, 40])


def test_layer_format_refused_with_a_way_out():
    logic.check_layer_format("RGBA", "U8")
    with pytest.raises(PixcutPluginError, match="Convert Image Color Space"):
        logic.check_layer_format("RGBA", "U16")
    with pytest.raises(PixcutPluginError, match="CMYKA/U8"):
        logic.check_layer_format("CMYKA", "U8")


# ------------------------------------------------------------------ PNG codec


def _pixels(width, height):
    return bytes((x * 7 + y * 13 + c * 50) % 256 for y in range(height) for x in range(width) for c in range(4))


def test_encode_png_is_read_back_by_pillow():
    rgba = _pixels(17, 9)
    image = Image.open(io.BytesIO(logic.encode_png(rgba, 17, 9)))
    assert image.mode == "RGBA" and image.size == (17, 9)
    assert image.tobytes() == rgba


# ------------------------------------------------------------------ settings and arguments


def test_settings_roundtrip_through_krita_strings():
    settings = Settings(
        backend="endpoint",
        endpoint="http://127.0.0.1:5000/api",
        test=True,
        background_color="#ffffff",
        crop_to_foreground=True,
        margin="10px",
        target_size="800 600",
        vertical_alignment="bottom",
        output_mode="mask",
        timeout=60,
    )
    strings = settings.to_strings()
    assert strings["test"] == "true" and strings["crop_to_foreground"] == "true"
    assert set(strings) == set(logic.SETTING_KEYS)
    assert Settings.from_strings(strings) == settings


def test_settings_from_bad_strings_fall_back_to_defaults():
    settings = Settings.from_strings(
        {"backend": "cloud9", "output_mode": "x", "vertical_alignment": "left", "timeout": "soon", "test": "TRUE"}
    )
    picked = (settings.backend, settings.output_mode, settings.vertical_alignment)
    assert picked == ("local", "layer", "middle")
    assert settings.timeout == 300 and settings.test is True


def _args(**kwargs):
    return logic.remove_arguments(Settings(**kwargs), "/in.png", "/out.png")


def test_arguments_default_is_offline_png_json():
    expected = ["remove", "/in.png", "-o", "/out.png", "--json", "--format", "png", "--backend", "local"]
    assert _args() == expected


def test_arguments_map_every_option():
    args = _args(
        backend="pixian",
        test=True,
        background_color="FF8800",
        crop_to_foreground=True,
        margin="5%",
        target_size="800x600",
        vertical_alignment="top",
    )
    tail = args[7:]
    assert tail == [
        "--backend",
        "pixian",
        "--test",
        "--background-color",
        "#ff8800",
        "--crop-to-foreground",
        "--margin",
        "5%",
        "--target-size",
        "800 600",
        "--vertical-alignment",
        "top",
    ]


def test_arguments_custom_endpoint():
    args = _args(backend="endpoint", endpoint="http://127.0.0.1:8000/api/v2/remove-background")
    assert args[7:] == ["--backend", "pixian", "--endpoint", "http://127.0.0.1:8000/api/v2/remove-background"]


def test_arguments_mask_mode_drops_finishing():
    args = _args(output_mode="mask", crop_to_foreground=True, margin="10px", background_color="#000000")
    assert "--crop-to-foreground" not in args and "--margin" not in args and "--background-color" not in args


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"backend": "endpoint", "endpoint": ""}, "endpoint"),
        ({"background_color": "red"}, "colour"),
        ({"target_size": "big"}, "Target size"),
    ],
)
def test_arguments_refuse_bad_settings(kwargs, match):
    with pytest.raises(PixcutPluginError, match=match):
        _args(**kwargs)


def test_uploads_to_pixian_only_for_the_cloud():
    assert Settings(backend="pixian").uploads_to_pixian
    assert not Settings(backend="endpoint", endpoint="http://x").uploads_to_pixian
    assert not Settings().uploads_to_pixian


# ------------------------------------------------------------------ executable lookup


def test_find_executable_order(tmp_path):
    fake = tmp_path / "bin" / "pixcut"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    assert logic.find_executable("/opt/x/pixcut --flag", str(plugin), path="") == ["/opt/x/pixcut", "--flag"]
    assert logic.find_executable("", str(plugin), path=str(fake.parent)) == [str(fake)]
    with pytest.raises(PixcutPluginError, match="pixcut was not found"):
        logic.find_executable("", str(plugin), path="")
    (plugin / logic.LOCATION_FILE).write_text(json.dumps({"executable": str(fake)}))
    assert logic.find_executable("", str(plugin), path="") == [str(fake)]


# ------------------------------------------------------------------ events


def test_event_reader_handles_split_lines_and_noise():
    reader = logic.EventReader()
    result = {"event": "result", "output": "/o.png", "input_foreground": [1, 2, 3, 4]}
    text = 'warning: noise\n{"event": "start", "total": 1}\n' + json.dumps(result)
    reader.feed(text[:30])
    reader.feed(text[30:])
    assert reader.outcome.result is None  # last line not terminated yet
    reader.finish()
    assert reader.outcome.result == result
    assert logic.failure_message(reader.outcome, 0, "") is None


def test_error_event_gives_the_core_message():
    reader = logic.EventReader()
    reader.feed(
        json.dumps(
            {
                "event": "error",
                "input": "/i.png",
                "error": {"type": "AuthenticationError", "status": 401, "message": "bad credentials"},
            }
        )
        + "\n"
    )
    assert logic.failure_message(reader.outcome, 1, "") == "AuthenticationError: bad credentials"


def test_failure_without_events_uses_stderr_tail():
    message = logic.failure_message(logic.Outcome(), 2, "a\nb\nTraceback: boom\n")
    assert "exit code 2" in message and "boom" in message
    assert "without a result" in logic.failure_message(logic.Outcome(), 0, "")


# ------------------------------------------------------------------ placement


def test_placement_without_finishing_is_the_layer_offset():
    assert logic.placement(40, 30, [5, 6, 10, 10], [5, 6, 10, 10]) == (40, 30)
    assert logic.placement(40, 30, None, None) == (40, 30)


def test_placement_keeps_the_foreground_corner_in_place():
    # crop + 10px margin: the foreground at (top 50, left 107) in the input sits at (10, 10) in the result
    assert logic.placement(0, 0, [50, 107, 213, 204], [10, 10, 213, 204]) == (97, 40)
    # offset layer, and a margin larger than the foreground's distance to the edge: negative canvas coords
    assert logic.placement(5, 3, [0, 0, 256, 256], [10, 10, 256, 256]) == (-5, -7)


def test_cutout_name():
    assert logic.cutout_name("Background") == "Background (cutout)"
