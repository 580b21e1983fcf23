"""Unit tests of the GIMP plug-in's pure logic (``pixcut_gimp_logic.py``): no GIMP needed."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugins" / "gimp" / "pixcut-gimp"
sys.path.insert(0, str(PLUGIN_DIR))

import pixcut_gimp_logic as logic  # noqa: E402


def make_exe(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# --- arguments -> flags -----------------------------------------------------------------------


def test_defaults_map_to_the_offline_backend_only():
    assert logic.cli_flags(logic.Settings()) == ["--backend", "local"]


def test_every_option_maps_to_its_flag():
    settings = logic.Settings(
        backend="pixian",
        test=True,
        background_color="FFF",
        crop_to_foreground=True,
        margin=" 10px 5% ",
        target_size="800 600",
        vertical_alignment="bottom",
    )
    assert logic.cli_flags(settings) == [
        "--backend",
        "pixian",
        "--test",
        "--background-color",
        "#fff",
        "--crop-to-foreground",
        "--margin",
        "10px 5%",
        "--target-size",
        "800 600",
        "--vertical-alignment",
        "bottom",
    ]


def test_endpoint_backend_is_pixian_with_an_endpoint():
    settings = logic.Settings(backend="endpoint", endpoint=" http://127.0.0.1:8000/api/v2/remove-background ")
    assert logic.cli_flags(settings) == [
        "--backend",
        "pixian",
        "--endpoint",
        "http://127.0.0.1:8000/api/v2/remove-background",
    ]


def test_endpoint_backend_without_url_is_an_error():
    with pytest.raises(logic.PixcutGimpError, match="endpoint URL"):
        logic.cli_flags(logic.Settings(backend="endpoint"))


@pytest.mark.parametrize("field,value", [("backend", "gpu"), ("vertical_alignment", "center")])
def test_unknown_choices_are_refused(field, value):
    with pytest.raises(logic.PixcutGimpError):
        logic.cli_flags(logic.Settings(**{field: value}))


@pytest.mark.parametrize(
    "given,expected",
    [("", ""), ("  ", ""), ("#00FF00", "#00ff00"), ("abc", "#abc"), ("11223344", "#11223344"), ("red", "red")],
)
def test_colors_are_normalised_or_left_to_the_core(given, expected):
    assert logic.normalize_color(given) == expected


def test_command_always_asks_for_json_and_png():
    command = logic.build_command(["/x/pixcut"], "/t/in.png", "/t/out.png", logic.Settings(test=True))
    assert command == [
        "/x/pixcut",
        "remove",
        "/t/in.png",
        "-o",
        "/t/out.png",
        "--json",
        "--format",
        "png",
        "--backend",
        "local",
        "--test",
    ]


# --- events -----------------------------------------------------------------------------------

RESULT = {
    "event": "result",
    "input": "/t/in.png",
    "output": "/t/out.png",
    "format": "png",
    "input_size": [640, 480],
    "result_size": [220, 320],
    "input_foreground": [100, 200, 200, 300],
    "result_foreground": [10, 10, 200, 300],
}


def lines(*events) -> list[str]:
    return [json.dumps(e) + "\n" for e in events]


def test_result_event_is_read_among_noise():
    out = [
        "Downloading model...\n",
        *lines({"event": "start", "total": 1}, RESULT),
        "{not json\n",
        *lines({"event": "summary", "done": 1}),
    ]
    cutout = logic.interpret(logic.parse_events(out), 0)
    assert cutout == logic.Cutout("/t/out.png", (220, 320), (100, 200, 200, 300), (10, 10, 200, 300))


def test_error_event_becomes_the_core_message():
    error = {"type": "AuthError", "status": 401, "message": "Invalid API credentials"}
    with pytest.raises(logic.PixcutGimpError, match="^AuthError: Invalid API credentials$"):
        logic.interpret(logic.parse_events(lines({"event": "error", "input": None, "error": error})), 2)


def test_unreadable_output_reports_exit_code_and_stderr():
    expected = r"(?s)no readable result \(exit code 0\): Traceback.*boom"
    with pytest.raises(logic.PixcutGimpError, match=expected):
        logic.interpret(logic.parse_events(["garbage\n"]), 0, "Traceback...\nboom\n")


def test_malformed_result_is_an_error():
    with pytest.raises(logic.PixcutGimpError, match="malformed"):
        logic.interpret(logic.parse_events(lines({"event": "result", "output": "/x"})), 0)


def test_nonzero_exit_with_result_is_an_error():
    with pytest.raises(logic.PixcutGimpError, match="exit code 1"):
        logic.interpret(logic.parse_events(lines(RESULT)), 1)


def test_progress_fraction():
    assert logic.progress_fraction({"event": "progress", "done": 1, "failed": 0, "total": 4}) == 0.25
    assert logic.progress_fraction({"event": "summary"}) == 1.0
    assert logic.progress_fraction({"event": "start", "total": 1}) is None


# --- placement --------------------------------------------------------------------------------


def cutout(in_fg, res_fg, size=(100, 100)) -> logic.Cutout:
    return logic.Cutout("/o.png", size, in_fg, res_fg)


def test_uncropped_result_goes_at_the_layer_offsets():
    assert logic.placement((30, 40), cutout((5, 6, 10, 10), (5, 6, 10, 10)), logic.Settings()) == (30, 40)


def test_cropped_result_keeps_the_foreground_in_place():
    # foreground at (top 100, left 200) in the layer, at (10, 10) in the cropped result (margin 10)
    settings = logic.Settings(crop_to_foreground=True, margin="10px")
    assert logic.placement((30, 40), cutout((100, 200, 50, 60), (10, 10, 50, 60)), settings) == (220, 130)


def test_target_size_can_put_the_result_left_of_or_above_the_layer():
    settings = logic.Settings(target_size="1000 1000")
    assert logic.placement((0, 0), cutout((20, 30, 50, 60), (400, 470, 50, 60)), settings) == (-440, -380)


def test_no_foreground_falls_back_to_the_layer_offsets():
    settings = logic.Settings(crop_to_foreground=True)
    assert logic.placement((7, 8), cutout(None, None), settings) == (7, 8)


def test_cutout_name():
    assert logic.cutout_name("Background") == "Background (cutout)"


# --- finding pixcut ---------------------------------------------------------------------------


def test_setting_wins_over_path_and_location(tmp_path):
    exe = make_exe(tmp_path / "mine")
    found = logic.find_pixcut(tmp_path, {"PIXCUT_EXECUTABLE": str(exe)}, which=lambda _: "/usr/bin/pixcut")
    assert found == [str(exe)]


def test_setting_naming_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(logic.PixcutGimpError, match="not found"):
        logic.find_pixcut(tmp_path, {"PIXCUT_EXECUTABLE": str(tmp_path / "nope")}, which=lambda _: None)


def test_path_wins_over_location_file(tmp_path):
    (tmp_path / logic.LOCATION_FILE).write_text(json.dumps({"executable": str(make_exe(tmp_path / "x"))}))
    assert logic.find_pixcut(tmp_path, {}, which=lambda _: "/opt/bin/pixcut") == ["/opt/bin/pixcut"]


def test_location_file_is_the_last_resort(tmp_path):
    exe = make_exe(tmp_path / "pixcut")
    (tmp_path / logic.LOCATION_FILE).write_text(json.dumps({"executable": str(exe)}))
    assert logic.find_pixcut(tmp_path, {}, which=lambda _: None) == [str(exe)]


def test_location_file_may_hold_a_python_dash_m_command(tmp_path):
    python = make_exe(tmp_path / "python3")
    (tmp_path / logic.LOCATION_FILE).write_text(json.dumps({"executable": f"{python} -m pixcut"}))
    assert logic.find_pixcut(tmp_path, {}, which=lambda _: None) == [str(python), "-m", "pixcut"]


def test_nothing_found_explains_how_to_install(tmp_path):
    with pytest.raises(logic.PixcutGimpError, match="pixcut plugins install gimp"):
        logic.find_pixcut(tmp_path, {}, which=lambda _: None)


def test_broken_location_file_is_an_error(tmp_path):
    (tmp_path / logic.LOCATION_FILE).write_text("{")
    with pytest.raises(logic.PixcutGimpError, match="unreadable"):
        logic.find_pixcut(tmp_path, {}, which=lambda _: None)


# --- consent, timeout -------------------------------------------------------------------------


def test_consent_is_stored_once(tmp_path):
    consent = tmp_path / "profile" / logic.CONSENT_FILE
    assert not logic.has_consent(consent, {})
    logic.store_consent(consent)
    assert logic.has_consent(consent, {})
    assert not os.path.exists(str(consent) + ".tmp")


def test_consent_from_the_environment(tmp_path):
    assert logic.has_consent(tmp_path / "none.json", {"PIXCUT_CLOUD_CONSENT": "yes"})


def test_only_the_pixian_cloud_needs_consent():
    assert logic.Settings(backend="pixian").uploads_to_cloud
    assert not logic.Settings(backend="endpoint", endpoint="http://localhost").uploads_to_cloud
    assert not logic.Settings().uploads_to_cloud


def test_timeout_from_the_environment():
    assert logic.timeout_seconds({}) == logic.DEFAULT_TIMEOUT
    assert logic.timeout_seconds({"PIXCUT_GIMP_TIMEOUT": "12.5"}) == 12.5
    assert logic.timeout_seconds({"PIXCUT_GIMP_TIMEOUT": "soon"}) == logic.DEFAULT_TIMEOUT


# --- the installer (core/pixcut/hosts/gimp.py) --------------------------------------------------


def test_install_copies_sets_run_bit_and_records_pixcut(tmp_path):
    from pixcut.hosts import gimp

    folder = gimp.install(tmp_path / "plug-ins")
    script = folder / "pixcut-gimp.py"
    assert folder == tmp_path / "plug-ins" / "pixcut-gimp"
    assert script.stat().st_mode & stat.S_IXUSR
    assert (folder / "pixcut_gimp_logic.py").is_file()
    executable = json.loads((folder / "pixcut-location.json").read_text())["executable"]
    assert Path(executable.split(" -m ")[0]).is_file()
    assert gimp.uninstall(tmp_path / "plug-ins") == [folder]
    assert not folder.exists()
    assert gimp.uninstall(tmp_path / "plug-ins") == []


def test_install_link_and_default_dest(tmp_path, monkeypatch):
    from pixcut.hosts import gimp

    monkeypatch.setenv("GIMP3_DIRECTORY", str(tmp_path / "profile"))
    assert gimp.default_dest() == tmp_path / "profile" / "plug-ins"
    folder = gimp.install(link=True)
    try:
        assert folder.is_symlink() and folder.resolve() == PLUGIN_DIR.resolve()
    finally:
        removed = gimp.uninstall()
    assert folder in removed and not (PLUGIN_DIR / "pixcut-location.json").exists()
    monkeypatch.delenv("GIMP3_DIRECTORY")
    assert gimp.default_dest() == Path.home() / ".config" / "GIMP" / "3.0" / "plug-ins"
