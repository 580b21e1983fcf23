"""The host kit, one suite for both plug-ins: run against the package module and both installed copies.

Everything host-neutral the GIMP and Krita plug-ins do is decided here: finding pixcut, settings,
arguments, events, protocol, errors, placement, naming, consent, the model menu and Flatpak.
"""

from __future__ import annotations

import ast
import json
import stat
import sys
from pathlib import Path

import pytest

from pixcut.hosts import hostkit

HOSTS = ["gimp", "krita"]
FINISHING = ["--background-color", "--crop-to-foreground", "--margin", "--target-size", "--vertical-alignment"]
EVERYTHING = {
    "backend": "local",
    "model": "u2net",
    "test": True,
    "background_color": "#fff",
    "crop_to_foreground": True,
    "margin": "10px",
    "target_size": "300 300",
    "vertical_alignment": "bottom",
}


def make_exe(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_kit_is_standard_library_only():
    tree = ast.parse(Path(hostkit.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_installed_copies_are_the_package_kit(installed):
    for folder in installed.values():
        assert (folder / hostkit.KIT_FILE).read_bytes() == Path(hostkit.__file__).read_bytes()


# --- settings ---------------------------------------------------------------------------------


def test_defaults(kit):
    settings = kit.Settings.from_mapping({})
    assert settings == kit.Settings()
    assert (settings.backend, settings.output_mode, settings.vertical_alignment, settings.model) == (
        "local",
        "layer",
        "middle",
        "",
    )


def test_stored_strings_roundtrip_and_bad_values_fall_back(kit):
    settings = kit.Settings.from_mapping(dict(EVERYTHING, output_mode="mask"))
    assert kit.Settings.from_mapping(settings.to_strings()) == settings
    assert settings.to_strings()["test"] == "true"
    bad = kit.Settings.from_mapping({"backend": "nope", "output_mode": "LAYER", "test": "maybe", "margin": None})
    assert (bad.backend, bad.output_mode, bad.test, bad.margin) == ("local", "layer", False, "")


@pytest.mark.parametrize("mode", ["mask", "selection"])
def test_layer_only_options_are_the_finishing_ones(kit, mode):
    layer_only = {o.name for o in kit.OPTIONS if o.modes == kit.LAYER_ONLY}
    assert layer_only == {"background_color", "crop_to_foreground", "margin", "target_size", "vertical_alignment"}
    assert not kit.applies("target_size", mode) and kit.applies("target_size", "layer")
    assert kit.applies("model", mode) and kit.applies("backend", mode)
    ignored = kit.Settings.from_mapping(dict(EVERYTHING, output_mode=mode)).ignored_options()
    assert ignored == ["Background colour", "Crop to foreground", "Margin", "Target size", "Vertical alignment"]
    assert kit.Settings.from_mapping(EVERYTHING).ignored_options() == []


# --- arguments --------------------------------------------------------------------------------


def test_layer_mode_passes_every_option_verbatim(kit):
    args = kit.remove_arguments(kit.Settings.from_mapping(EVERYTHING), "in.png", "out.png")
    assert args == [
        "remove",
        "in.png",
        "-o",
        "out.png",
        "--json",
        "--format",
        "png",
        "--backend",
        "local",
        "--model",
        "u2net",
        "--test",
        "--background-color",
        "#fff",  # not "fixed" here: the core's rule decides, and its message is shown
        "--crop-to-foreground",
        "--margin",
        "10px",
        "--target-size",
        "300 300",
        "--vertical-alignment",
        "bottom",
    ]


@pytest.mark.parametrize("mode", ["mask", "selection"])
def test_mask_modes_ask_for_the_mask_and_pass_no_finishing_option(kit, mode):
    args = kit.remove_arguments(kit.Settings.from_mapping(dict(EVERYTHING, output_mode=mode)), "in.png", "out.png")
    assert args[-2:] == ["--output-type", "mask"]
    assert not set(FINISHING) & set(args)
    assert ["--model", "u2net"] == args[args.index("--model") : args.index("--model") + 2]


@pytest.mark.parametrize(
    "values,expected",
    [
        ({"backend": "pixian"}, ["--backend", "pixian"]),
        (
            {"backend": "endpoint", "endpoint": " http://127.0.0.1:8000/x "},
            ["--backend", "pixian", "--endpoint", "http://127.0.0.1:8000/x"],
        ),
        ({"backend": "local"}, ["--backend", "local"]),
    ],
)
def test_backends(kit, values, expected):
    assert kit.remove_arguments(kit.Settings.from_mapping(values), "i", "o")[7:] == expected


def test_endpoint_backend_without_url_is_refused(kit):
    with pytest.raises(kit.HostError, match="needs an endpoint URL"):
        kit.remove_arguments(kit.Settings(backend="endpoint"), "i", "o")


@pytest.mark.parametrize("value,expected", [("30", 30), ("0", 600), ("-5", 600), ("x", 600), (12.7, 12)])
def test_timeout(kit, value, expected):
    assert kit.timeout_seconds(value) == expected


# --- finding pixcut ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", HOSTS)
def test_find_order_setting_env_path_location(kit, tmp_path, host):
    setting, env_exe, on_path, recorded = (make_exe(tmp_path / n) for n in ("setting", "env", "path", "rec"))
    (tmp_path / kit.LOCATION_FILE).write_text(kit.location_text(str(recorded), "0.1.0"))
    env = {kit.EXECUTABLE_ENV: str(env_exe)}
    which = {"pixcut": str(on_path)}.get
    assert kit.find_pixcut(host, str(tmp_path), str(setting), env, which) == [str(setting)]
    assert kit.find_pixcut(host, str(tmp_path), "", env, which) == [str(env_exe)]
    assert kit.find_pixcut(host, str(tmp_path), "", {}, which) == [str(on_path)]
    assert kit.find_pixcut(host, str(tmp_path), "", {}, lambda _: None) == [str(recorded)]


@pytest.mark.parametrize("host", HOSTS)
def test_find_errors_name_the_fix(kit, tmp_path, host):
    with pytest.raises(kit.HostError, match="not found at '/nope/pixcut'"):
        kit.find_pixcut(host, str(tmp_path), "/nope/pixcut", {}, lambda _: None)
    with pytest.raises(kit.HostError, match=f"pixcut hosts install {host}"):
        kit.find_pixcut(host, str(tmp_path), "", {}, lambda _: None)
    (tmp_path / kit.LOCATION_FILE).write_text(kit.location_text("/gone/bin/pixcut", "0.1.0"))
    with pytest.raises(kit.HostError, match=f"no longer at '/gone/bin/pixcut'.*pixcut hosts install {host}"):
        kit.find_pixcut(host, str(tmp_path), "", {}, lambda _: None)


def test_a_recorded_python_dash_m_command_is_split(kit, tmp_path):
    python = make_exe(tmp_path / "python3")
    (tmp_path / kit.LOCATION_FILE).write_text(kit.location_text(f"{python} -m pixcut", None))
    assert kit.find_pixcut("gimp", str(tmp_path), "", {}, lambda _: None) == [str(python), "-m", "pixcut"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ('{"executable": "/x/pixcut", "version": "1.2", "protocol": 1}', ("/x/pixcut", "1.2", 1)),
        ('{"executable": "/x/pixcut"}', ("/x/pixcut", None, None)),  # written by an older installer
        ('{"executable": ""}', None),
        ('{"version": "1"}', None),
        ("[1, 2]", None),
        ("not json", None),
    ],
)
def test_location_file_parser(kit, tmp_path, text, expected):
    (tmp_path / kit.LOCATION_FILE).write_text(text)
    location = kit.read_location(str(tmp_path))
    assert (None if location is None else (location.executable, location.version, location.protocol)) == expected


# --- events, protocol, errors -----------------------------------------------------------------

START = {"event": "start", "total": 1, "backend": "local", "protocol": hostkit.PROTOCOL, "version": "0.1.0"}
RESULT = {
    "event": "result",
    "output": "/o.png",
    "result_size": [120, 80],
    "input_foreground": [30, 40, 50, 60],
    "result_foreground": [10, 10, 50, 60],
}


def lines(*events: dict) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


@pytest.mark.parametrize("host", HOSTS)
def test_reader_takes_split_chunks_and_ignores_noise(kit, host):
    text = "a warning from a library\n" + lines(START, {"event": "progress", "done": 0, "failed": 0, "total": 2})
    text += "{broken\n" + lines(RESULT, {"event": "summary"})
    reader = kit.EventReader(host)
    seen = []
    for start in range(0, len(text), 7):
        seen += reader.feed(text[start : start + 7])
        if seen and seen[-1]["event"] == "progress":
            assert reader.outcome.fraction == 0.0 and reader.outcome.stage == "processing"
    assert [e["event"] for e in seen] == ["start", "progress", "result", "summary"]
    assert reader.outcome.fraction == 1.0
    assert kit.failure_message(reader.outcome, 0, "", host) is None
    assert kit.cutout(reader.outcome) == kit.Cutout("/o.png", (120, 80), (30, 40, 50, 60), (10, 10, 50, 60))


@pytest.mark.parametrize("host", HOSTS)
def test_the_core_error_message_is_shown_unchanged(kit, host):
    message = "background.color: expected '#RRGGBB' with the '#' (e.g. '#0055FF'), got '#fff'"
    error = {"event": "error", "input": None, "error": {"type": "OptionsError", "message": message}}
    reader = kit.EventReader(host)
    reader.feed(lines(error))
    assert kit.failure_message(reader.outcome, 2, "", host) == f"OptionsError: {message}"


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(
    "protocol,says",
    [
        (None, "pixcut is older than this {host} plug-in.*pip install -U pixcut.*/v/bin/pixcut hosts install {host}"),
        (0, "pixcut is older.*interface 0.*pip install -U pixcut"),
        (hostkit.PROTOCOL + 1, "plug-in is older than pixcut.*Refresh the plug-in: /v/bin/pixcut hosts install {host}"),
    ],
)
def test_a_protocol_mismatch_refuses_the_result_and_names_the_command(kit, host, protocol, says):
    start = {k: v for k, v in START.items() if k != "protocol"}
    if protocol is not None:
        start["protocol"] = protocol
    reader = kit.EventReader(host, ["/v/bin/pixcut"])
    reader.feed(lines(start, RESULT))
    message = kit.failure_message(reader.outcome, 0, "", host, reader.pixcut)
    assert message is not None
    import re

    assert re.search(says.format(host=host), message), message


@pytest.mark.parametrize("host", HOSTS)
def test_an_old_pixcut_refusing_a_flag_gets_the_upgrade_command(kit, host):
    stderr = "usage: pixcut [-h] ...\npixcut: error: unrecognized arguments: --output-type mask\n"
    message = kit.failure_message(kit.Outcome(), 2, stderr, host)
    assert "unrecognized arguments: --output-type mask" in message
    assert "pip install -U pixcut" in message and f"pixcut hosts install {host}" in message


@pytest.mark.parametrize(
    "outcome,code,stderr,says",
    [
        ({}, 0, "", "pixcut gave no readable result (exit code 0)."),
        (
            {},
            3,
            "Traceback\nRuntimeError: boom\n",
            "pixcut gave no readable result (exit code 3).\nTraceback\nRuntimeError: boom",
        ),
        ({"result": RESULT}, 1, "", "pixcut failed (exit code 1)."),
    ],
)
def test_failures_without_an_error_event(kit, outcome, code, stderr, says):
    assert kit.failure_message(kit.Outcome(**outcome), code, stderr, "gimp") == says


def test_a_malformed_result_is_an_error(kit):
    with pytest.raises(kit.HostError, match="malformed"):
        kit.cutout(kit.Outcome(result={"event": "result", "output": "/o", "result_size": [1]}))


@pytest.mark.parametrize("host", HOSTS)
def test_a_plugin_from_another_pixcut_version_is_stale(kit, host):
    installed = kit.Location("/v/bin/pixcut", "0.1.0", 1)
    notice = kit.stale_notice(installed, dict(START, version="0.2.0"), host, ["/v/bin/pixcut"])
    assert notice == (
        f"The {host} plug-in was installed by pixcut 0.1.0, but pixcut 0.2.0 is running. "
        f"Refresh it with: /v/bin/pixcut hosts install {host}"
    )
    assert kit.stale_notice(installed, START, host) is None
    assert kit.stale_notice(kit.Location("/v/bin/pixcut", None, 1), dict(START, version="9"), host) is None  # linked


# --- placement, naming, consent ---------------------------------------------------------------


@pytest.mark.parametrize(
    "layer,input_fg,result_fg,expected",
    [
        ((0, 0), (30, 40, 50, 60), (30, 40, 50, 60), (0, 0)),  # no geometry change
        ((70, 50), (30, 40, 50, 60), (30, 40, 50, 60), (70, 50)),
        ((100, 60), (30, 40, 50, 60), (10, 10, 50, 60), (130, 80)),  # crop + margin 10
        ((-20, 30), (5, 5, 10, 10), (0, 0, 10, 10), (-15, 35)),
        ((7, 8), None, None, (7, 8)),  # no foreground
    ],
)
def test_placement(kit, layer, input_fg, result_fg, expected):
    assert kit.placement(*layer, kit.Cutout("/o", (1, 1), input_fg, result_fg)) == expected


def test_cutout_name(kit):
    assert kit.cutout_name("Logo") == "Logo (cutout)"


@pytest.mark.parametrize(
    "backend,stored,env,needed",
    [
        ("pixian", False, {}, True),
        ("pixian", True, {}, False),
        ("pixian", False, {"PIXCUT_CLOUD_CONSENT": "yes"}, False),
        ("local", False, {}, False),
        ("endpoint", False, {}, False),  # the user's own server
    ],
)
def test_consent_rule(kit, backend, stored, env, needed):
    settings = kit.Settings(backend=backend, endpoint="http://127.0.0.1:1/")
    assert kit.consent_needed(settings, stored, env) is needed


# --- the model menu ---------------------------------------------------------------------------

CATALOGUE = [
    {"name": "u2netp", "family": "u2net", "installed": True, "default": True, "commercial_use": True},
    {"name": "u2net", "family": "u2net", "installed": True, "default": False, "commercial_use": True},
    {"name": "birefnet-general", "family": "birefnet", "installed": False, "default": False, "commercial_use": True},
    {"name": "bria", "family": "isnet", "installed": False, "default": False, "commercial_use": False},
]


def test_model_menu_lists_installed_models_and_how_to_pull_the_others(kit):
    menu = kit.model_menu(json.dumps(CATALOGUE), 0, ["/v/bin/pixcut"])
    assert menu.installed == [
        ("", "pixcut's default model (u2netp)"),
        ("u2netp", "u2netp (u2net)"),
        ("u2net", "u2net (u2net)"),
    ]
    assert menu.pullable == [
        ("birefnet-general", "/v/bin/pixcut models pull birefnet-general"),
        ("bria", "/v/bin/pixcut models pull bria"),
    ]
    assert (
        kit.pull_hint(menu) == "More models (birefnet-general, bria): pixcut models pull NAME, then reopen this dialog."
    )
    assert kit.models_arguments() == ["models", "list", "--json"]


@pytest.mark.parametrize("text,code", [("", 2), ("not json", 0), ('{"a": 1}', 0)])
def test_model_menu_without_a_catalogue_keeps_the_default(kit, text, code):
    menu = kit.model_menu(text, code)
    assert menu.installed == [("", "pixcut's default model")] and menu.problem


# --- Flatpak ----------------------------------------------------------------------------------

INFO = """[Application]
name=org.gimp.GIMP
runtime=runtime/org.gnome.Platform/x86_64/46

[Session Bus Policy]
org.freedesktop.Flatpak={policy}
"""


def test_no_sandbox_outside_flatpak(kit):
    def missing(path):
        raise FileNotFoundError(path)

    assert kit.detect_sandbox({}, missing) is None


@pytest.mark.parametrize("policy,allowed", [("talk", True), ("own", True), ("none", False), ("see", False)])
def test_sandbox_detection_reads_the_bus_policy(kit, policy, allowed):
    sandbox = kit.detect_sandbox({}, lambda path: INFO.format(policy=policy))
    assert sandbox == kit.Sandbox("org.gimp.GIMP", allowed)
    assert kit.bus_policy_allows_spawn(INFO.format(policy=policy)) is allowed


def test_flatpak_id_alone_means_a_sandbox_that_may_not_spawn(kit):
    def missing(path):
        raise FileNotFoundError(path)

    assert kit.detect_sandbox({"FLATPAK_ID": "org.kde.krita"}, missing) == kit.Sandbox("org.kde.krita", False)


@pytest.mark.parametrize("host", HOSTS)
def test_in_a_permitted_sandbox_pixcut_runs_on_the_host(kit, tmp_path, host):
    (tmp_path / kit.LOCATION_FILE).write_text(kit.location_text("/home/u/.venv/bin/pixcut", "0.1.0"))
    sandbox = kit.Sandbox(kit.FLATPAK_APPS[host], True)
    argv = kit.find_pixcut(host, str(tmp_path), "", {}, lambda _: None, sandbox)
    assert argv == ["flatpak-spawn", "--host", "/home/u/.venv/bin/pixcut"]  # not checked: invisible in the sandbox
    assert kit.refresh_command(host, argv) == f"/home/u/.venv/bin/pixcut hosts install {host}"


@pytest.mark.parametrize("host", HOSTS)
def test_in_a_closed_sandbox_the_override_command_is_shown(kit, tmp_path, host):
    (tmp_path / kit.LOCATION_FILE).write_text(kit.location_text("/home/u/.venv/bin/pixcut", "0.1.0"))
    app = kit.FLATPAK_APPS[host]
    with pytest.raises(kit.HostError) as error:
        kit.find_pixcut(host, str(tmp_path), "", {}, lambda _: None, kit.Sandbox(app, False))
    assert f"flatpak override --user --talk-name=org.freedesktop.Flatpak {app}" in str(error.value)


def test_hand_over_files_go_where_the_host_sees_them(kit, tmp_path):
    sandbox = kit.Sandbox("org.gimp.GIMP", True)
    cache = tmp_path / ".var" / "app" / "org.gimp.GIMP" / "cache"
    assert kit.shared_work_dir(sandbox, {"XDG_CACHE_HOME": str(cache)}) == str(cache / "pixcut")
    assert (cache / "pixcut").is_dir()
    assert kit.shared_work_dir(None, {"XDG_CACHE_HOME": str(cache)}) is None
