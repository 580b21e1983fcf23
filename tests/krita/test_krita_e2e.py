"""End-to-end: the plug-in in a real Krita 5 under Xvfb, with the real ``pixcut`` (offline backend).

Each test runs one Krita on a copy of a warmed profile; the test driver opens the image,
triggers the repeat action (stored settings, no dialog) and reports the layer stack and pixels.
The reference for every pixel check is ``pixcut remove`` run directly on the very input the
plug-in exported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support_hosts import serving, upgraded_pixcut

import pixcut

pytestmark = pytest.mark.krita

REPEAT = "pixcut_remove_background_repeat"
OFFLINE = {"backend": "local", "output_mode": "layer"}


def names(stack: list) -> list:
    return [node["name"] for node in stack]


def expected_layer(result, image, source_bounds):
    """Where ``pixcut``'s result lands on the canvas and the alpha Krita should then hold there.

    Krita reports a paint layer's exact bounds: the box of its non-transparent-black pixels.
    """
    sx, sy = source_bounds[:2]
    fg_in, fg_out = result["input_foreground"], result["result_foreground"]
    x = sx + (fg_in[1] - fg_out[1] if fg_in and fg_out else 0)
    y = sy + (fg_in[0] - fg_out[0] if fg_in and fg_out else 0)
    rgba = np.asarray(image)
    rows, cols = np.nonzero(rgba.any(axis=2))
    top, left, bottom, right = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
    bounds = [int(x + left), int(y + top), int(right - left), int(bottom - top)]
    return bounds, rgba[top:bottom, left:right, 3]


def layer_alpha(info: dict) -> np.ndarray:
    _x, _y, w, h = info["bounds"]
    return np.frombuffer(Path(info["bin"]).read_bytes(), dtype=np.uint8).reshape(h, w, 4)[..., 3]


def assert_inserted_above(report: dict) -> dict:
    """The cutout is one new layer directly above the source; nothing else changed."""
    assert report["status"] == "ok", report
    assert report["message_boxes"] == []
    before, after = names(report["layers_before"]), names(report["layers_after"])
    source = report["source"]["name"]
    index = before.index(source)
    assert after == before[: index + 1] + [f"{source} (cutout)"] + before[index + 1 :]
    assert report["source_unchanged"] is True
    assert report["layers_after"][index]["bounds"] == report["source"]["bounds"]
    return report["cutout"]


def test_jpeg_layer_mode_and_undo(krita, images, pixcut_direct):
    report = krita({"image": str(images["jpeg"]), "action": REPEAT, "undo": True}, OFFLINE)
    cutout = assert_inserted_above(report)
    assert report["source"]["bounds"] == [0, 0, 320, 240]
    result, image = pixcut_direct(report["source"]["png"])
    bounds, alpha = expected_layer(result, image, report["source"]["bounds"])
    assert cutout["type"] == "paintlayer" and cutout["bounds"] == bounds
    assert np.array_equal(layer_alpha(cutout), alpha)
    assert names(report["layers_after_undo"]) == names(report["layers_before"]), "one undo removes the cutout"


def test_offset_png_layer_mode(krita, images, pixcut_direct):
    report = krita({"image": str(images["png"]), "action": REPEAT, "move": [25, 15]}, OFFLINE)
    cutout = assert_inserted_above(report)
    sx, sy, sw, sh = report["source"]["bounds"]
    assert (sx, sy) != (0, 0) and (sw, sh) == (200, 150), report["source"]
    result, image = pixcut_direct(report["source"]["png"])
    assert image.size == (sw, sh)
    bounds, alpha = expected_layer(result, image, report["source"]["bounds"])
    assert cutout["bounds"] == bounds
    assert np.array_equal(layer_alpha(cutout), alpha)


def test_crop_and_margin_placement(krita, images, pixcut_direct):
    settings = dict(OFFLINE, crop_to_foreground="true", margin="10px", model="u2netp")
    report = krita({"image": str(images["jpeg"]), "action": REPEAT}, settings)
    cutout = assert_inserted_above(report)
    result, image = pixcut_direct(report["source"]["png"], "--crop-to-foreground", "--margin", "10px")
    assert list(image.size) != [320, 240] and result["result_foreground"][:2] == [10, 10]
    bounds, alpha = expected_layer(result, image, report["source"]["bounds"])
    assert cutout["bounds"] == bounds
    assert np.array_equal(layer_alpha(cutout), alpha)
    # the foreground box sits where it was in the source
    fg_top, fg_left = result["input_foreground"][:2]
    assert cutout["bounds"][0] <= fg_left and cutout["bounds"][1] <= fg_top


def test_mask_mode_makes_a_masked_copy_of_the_plain_alpha(krita, images, pixcut_direct):
    """Mask mode with every layer-only option set: the mask is still the plain alpha at the layer's size."""
    settings = dict(OFFLINE, output_mode="mask", crop_to_foreground="true")
    settings.update(background_color="#FFFFFF", target_size="300 300")
    report = krita({"image": str(images["png"]), "action": REPEAT, "move": [25, 15]}, settings)
    cutout = assert_inserted_above(report)
    source = report["source"]
    assert cutout["bounds"] == source["bounds"], "the copy keeps the source's pixels"
    copy_pixels = Path(cutout["bin"]).read_bytes()
    assert copy_pixels == Path(cutout["bin"]).with_name("source.bin").read_bytes()
    mask = cutout["mask"]
    assert mask["type"] == "transparencymask" and mask["name"] == "pixcut mask"
    _result, image = pixcut_direct(source["png"])  # the plain cutout: no option at all
    x, y, w, h = mask["bounds"]
    mask_alpha = np.frombuffer(Path(mask["bin"]).read_bytes(), dtype=np.uint8).reshape(h, w)
    sx, sy, sw, sh = source["bounds"]
    assert (x, y, w, h) == (sx, sy, sw, sh)
    assert np.array_equal(mask_alpha, np.asarray(image)[..., 3])


def test_selection_mode_selects_the_plain_alpha_and_adds_no_layer(krita, images, pixcut_direct):
    settings = dict(OFFLINE, output_mode="selection", target_size="300 300", background_color="#FFFFFF")
    report = krita({"image": str(images["png"]), "action": REPEAT, "move": [25, 15]}, settings)
    assert report["status"] == "ok" and report["message_boxes"] == [], report
    # Krita shows a document's global selection as a "Selection Mask" node; nothing else is added
    added = [node for node in report["layers_after"] if node not in report["layers_before"]]
    assert [node["type"] for node in added] == ["selectionmask"], added
    assert [n for n in report["layers_after"] if n["type"] != "selectionmask"] == report["layers_before"]
    assert report["source_unchanged"] is True
    _result, image = pixcut_direct(report["source"]["png"])
    alpha = np.asarray(image)[..., 3]
    sx, sy, sw, sh = report["source"]["bounds"]
    x, y, w, h = report["selection"]["bounds"]
    selected = np.frombuffer(Path(report["selection"]["bin"]).read_bytes(), dtype=np.uint8).reshape(h, w)
    canvas = np.zeros((max(y + h, sy + sh), max(x + w, sx + sw)), dtype=np.uint8)
    canvas[y : y + h, x : x + w] = selected
    assert np.array_equal(canvas[sy : sy + sh, sx : sx + sw], alpha)
    assert canvas.sum() == selected.sum() and int(alpha.sum()) == int(selected.sum())


def test_mask_mode_undo_steps(krita, images):
    """Krita 5.2+ builds the masked copy detached (createTransparencyMask): one undo removes it all.

    Krita 5.1 has no Python call to fill a mask (a mask made by createNode has no pixels to write),
    so its own "add transparency mask" action makes it from a temporary selection: two steps there,
    and undoing the mask brings that selection back (Krita's "Selection Mask" node).
    """
    settings = dict(OFFLINE, output_mode="mask")
    report = krita({"image": str(images["jpeg"]), "action": REPEAT, "undo": 2}, settings)
    assert report["status"] == "ok", report
    before = names(report["layers_before"])
    first, second = (names(stack) for stack in report["stacks_after_undo"])
    print(f"\nKrita {report['krita_version']}: mask mode after one undo {first}, after two {second}")
    if report["one_step_masks"]:
        assert first == before
    else:
        copy = next(node for node in report["stacks_after_undo"][0] if node["name"].endswith("(cutout)"))
        assert copy["children"] == [], "the first undo removes the mask"
        assert [name for name in second if name != "Selection Mask"] == before, "the second removes the copy"


def assert_failed_cleanly(report: dict, message: str) -> None:
    """One message box with ``message``; the document exactly as before."""
    assert report["status"] == "error"
    assert message in report["message"], report["message"]
    assert len(report["message_boxes"]) == 1 and message in report["message_boxes"][0]
    assert report["layers_after"] == report["layers_before"]
    assert report["source_unchanged"] is True
    assert "cutout" not in report


@pytest.mark.parametrize("colour", ["#fff", "#ff000080"])
def test_a_colour_the_core_refuses_shows_the_cores_message(krita, images, colour):
    report = krita({"image": str(images["jpeg"]), "action": REPEAT}, dict(OFFLINE, background_color=colour))
    core = f"OptionsError: background.color: expected '#RRGGBB' with the '#' (e.g. '#0055FF'), got '{colour}'"
    assert_failed_cleanly(report, core)


@pytest.fixture(scope="module")
def serve_endpoint(pixcut_exe, tmp_path_factory):
    """A real ``pixcut serve`` without auth on a free loopback port."""
    with serving(Path(pixcut_exe.split()[0]), tmp_path_factory.mktemp("serve") / "serve.log") as url:
        yield url


def test_a_no_auth_pixcut_serve_endpoint_works_without_credentials(krita, images, pixcut_direct, serve_endpoint):
    settings = {"backend": "endpoint", "endpoint": serve_endpoint, "output_mode": "layer"}
    report = krita({"image": str(images["jpeg"]), "action": REPEAT}, settings)
    cutout = assert_inserted_above(report)
    result, image = pixcut_direct(report["source"]["png"])  # the offline engine here = the server's
    bounds, alpha = expected_layer(result, image, report["source"]["bounds"])
    assert cutout["bounds"] == bounds
    assert np.abs(layer_alpha(cutout).astype(int) - alpha.astype(int)).max() <= 1


def test_an_unreachable_endpoint_is_reported_within_seconds(krita, images):
    settings = {
        "backend": "endpoint",
        "endpoint": "http://127.0.0.1:9/api/v2/remove-background",
        "output_mode": "layer",
    }
    report = krita({"image": str(images["jpeg"]), "action": REPEAT}, settings)
    assert_failed_cleanly(report, "NetworkError: http://127.0.0.1:9/api/v2/remove-background could not be reached")
    print(f"\nKrita: unreachable endpoint reported after {report['action_seconds']:.2f} s (export, pixcut, retries)")
    assert report["action_seconds"] < 5.0


def test_after_an_upgrade_the_plugin_names_the_refresh_command(krita, images, pixcut_exe, tmp_path):
    """pixcut upgraded under an installed plug-in: the run works and the plug-in says how to refresh it."""
    upgraded = upgraded_pixcut(tmp_path / "upgrade", Path(pixcut_exe.split()[0]).with_name("python"))
    report = krita({"image": str(images["jpeg"]), "action": REPEAT}, dict(OFFLINE, executable=str(upgraded)))
    assert report["status"] == "ok", report
    assert report["message_boxes"] == [
        f"The krita plug-in was installed by pixcut {pixcut.__version__}, but pixcut 99.0.0 is running. "
        f"Refresh it with: {upgraded} hosts install krita"
    ]
