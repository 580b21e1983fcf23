"""The host kit against the real ``pixcut``: its ``--json`` output, and an upgrade that leaves a plug-in behind.

The contract tests feed what ``pixcut remove --json`` really prints (offline engine) through the kit
(package module and both installed copies). The upgrade test installs the GIMP and Krita plug-ins,
then runs a copy of the pixcut package whose version is bumped (what ``pip install -U pixcut``
leaves): the plug-in's kit and ``pixcut doctor`` both call the copy stale and name the one command,
and after that command both are content.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw
from support_hosts import upgraded_package

import pixcut
from pixcut.hosts import gimp, hostkit, krita

PIXCUT = [sys.executable, "-m", "pixcut"]


def run_pixcut(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PIXCUT, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """Real runs on an object on a plain background, each with the arguments the kit builds."""
    folder = tmp_path_factory.mktemp("contract")
    source = folder / "layer.png"
    image = Image.new("RGB", (200, 150), (240, 240, 235))
    ImageDraw.Draw(image).ellipse((90, 40, 170, 120), fill=(190, 30, 30))
    image.save(source)
    scenarios = {
        "plain": {},
        "layer-crop": {"crop_to_foreground": True, "margin": "10px"},
        "mask-with-finishing": {"output_mode": "mask", "background_color": "#FFFFFF", "target_size": "300 300"},
        "short-colour": {"background_color": "#fff"},
        "eight-digit-colour": {"background_color": "#ff000080"},
    }
    done = {}
    for name, values in scenarios.items():
        out = folder / f"{name}.png"
        args = hostkit.remove_arguments(hostkit.Settings.from_mapping(values), str(source), str(out))
        done[name] = (run_pixcut(args), out)
    return done


def read(kit, run: subprocess.CompletedProcess[str], host: str = "gimp"):
    reader = kit.EventReader(host, PIXCUT)
    for start in range(0, len(run.stdout), 50):  # as a pipe delivers it: in pieces
        reader.feed(run.stdout[start : start + 50])
    reader.finish()
    return reader.outcome, kit.failure_message(reader.outcome, run.returncode, run.stderr, host, PIXCUT)


def test_a_real_run_passes_the_protocol_check_and_places_the_crop(kit, runs):
    outcome, problem = read(kit, runs["layer-crop"][0])
    assert problem is None, runs["layer-crop"][0].stdout
    assert outcome.start["protocol"] == kit.PROTOCOL and outcome.start["version"] == pixcut.__version__
    assert outcome.fraction == 1.0
    result = kit.cutout(outcome)
    assert result.result_foreground[:2] == (10, 10)
    x, y = kit.placement(100, 60, result)
    assert (x + 10, y + 10) == (100 + result.input_foreground[1], 60 + result.input_foreground[0])
    assert Image.open(result.output).size == result.result_size


def test_mask_mode_is_the_plain_alpha_at_the_layers_size(kit, runs):
    outcome, problem = read(kit, runs["mask-with-finishing"][0])
    assert problem is None, runs["mask-with-finishing"][0].stdout + runs["mask-with-finishing"][0].stderr
    result = kit.cutout(outcome)
    mask = Image.open(result.output)
    plain = Image.open(runs["plain"][1]).getchannel("A")
    assert mask.mode == "L" and mask.size == plain.size == (200, 150)
    assert ImageChops.difference(mask, plain).getextrema()[1] <= 1
    assert kit.placement(5, 7, result) == (5, 7)


@pytest.mark.parametrize("scenario", ["short-colour", "eight-digit-colour"])
def test_a_colour_the_core_refuses_shows_the_cores_message(kit, runs, scenario):
    run = runs[scenario][0]
    _outcome, problem = read(kit, run)
    core = next(json.loads(line) for line in run.stdout.splitlines() if '"error"' in line)["error"]
    assert run.returncode == 2 and core["type"] == "OptionsError"
    assert problem == f"OptionsError: {core['message']}"
    assert "#RRGGBB" in problem


# --- an upgrade that leaves the plug-ins behind ------------------------------------------------


@pytest.fixture
def upgraded(tmp_path) -> tuple[Path, dict[str, str]]:
    """A copy of the pixcut package with another version and a changed kit, and the env that runs it."""
    site = upgraded_package(tmp_path)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(site),
        "GIMP3_DIRECTORY": str(tmp_path / "gimp-profile"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    return site, env


def doctor_checks(env: dict[str, str]) -> dict[str, dict[str, str]]:
    run = run_pixcut(["doctor", "--json"], env)
    return {check["name"]: check for check in json.loads(run.stdout)["checks"]}


@pytest.mark.parametrize("host", ["gimp", "krita"])
def test_after_an_upgrade_plugin_and_doctor_name_the_one_refresh_command(tmp_path, upgraded, load_kit, host):
    _site, env = upgraded
    installer = gimp if host == "gimp" else krita
    with pytest.MonkeyPatch.context() as patch:  # install with the current pixcut (the "old" one)
        for key in ("GIMP3_DIRECTORY", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "HOME"):
            patch.setenv(key, env[key])
        folder = installer.install()
    assert hostkit.read_location(str(folder)).version == pixcut.__version__

    source = tmp_path / "in.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(source)
    run = run_pixcut(["remove", str(source), "-o", str(tmp_path / "out.png"), "--json"], env)
    assert run.returncode == 0, run.stderr
    kit = load_kit(folder / hostkit.KIT_FILE, f"pixcut_hostkit_upgrade_{host}")
    reader = kit.EventReader(host, PIXCUT)
    reader.feed(run.stdout)
    assert kit.failure_message(reader.outcome, 0, "", host) is None  # same protocol: the run itself works
    notice = kit.stale_notice(kit.read_location(str(folder)), reader.outcome.start, host, PIXCUT)
    command = f"{' '.join(PIXCUT)} hosts install {host}"
    assert notice == (
        f"The {host} plug-in was installed by pixcut {pixcut.__version__}, but pixcut 99.0.0 is running. "
        f"Refresh it with: {command}"
    )
    check = doctor_checks(env)[host]
    assert check["status"] == "problem" and "stale copy" in check["detail"], check
    assert "pixcut_hostkit.py" in check["detail"] and check["detail"].endswith(f"run pixcut hosts install {host}")

    refreshed = run_pixcut(["plugins", "install", host], env)  # the alias of 'hosts install' (issue 13)
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    assert doctor_checks(env)[host]["status"] == "ok"
    assert (folder / hostkit.KIT_FILE).read_text().endswith("# a newer kit\n")
    assert kit.stale_notice(kit.read_location(str(folder)), reader.outcome.start, host, PIXCUT) is None
