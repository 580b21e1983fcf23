"""Fixtures for the real-Krita tests: test images, one warmed Krita profile per session, a runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).parent))

import kritaharness


@pytest.fixture(scope="session")
def krita_ready():
    """Krita must exist; in CI a missing Krita fails (``.ci/setup-krita`` installs it), never skips."""
    if not kritaharness.krita_available():
        if os.environ.get("CI"):
            pytest.fail("krita/Xvfb missing in CI: .ci/setup-krita should have installed them")
        pytest.skip("krita and Xvfb are not installed (run .ci/setup-krita)")


@pytest.fixture(scope="session")
def pixcut_exe() -> str:
    """The real pixcut the installer records (the venv's console script)."""
    from pixcut.hosts.common import pixcut_executable

    exe = pixcut_executable()
    assert Path(exe.split()[0]).exists(), exe
    return exe


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> dict:
    """An RGB JPEG (a red disc on a pale background) and an RGBA PNG with transparent borders."""
    folder = tmp_path_factory.mktemp("images")
    photo = Image.new("RGB", (320, 240), (230, 230, 225))
    ImageDraw.Draw(photo).ellipse((110, 60, 230, 200), fill=(200, 30, 40))
    jpeg = folder / "photo.jpg"
    photo.save(jpeg, quality=92)
    rgba = Image.new("RGBA", (280, 220), (0, 0, 0, 0))
    rgba.paste(photo.resize((200, 150)), (40, 30))
    png = folder / "offset.png"
    rgba.save(png)
    return {"jpeg": jpeg, "png": png}


@pytest.fixture(scope="session")
def warm_profile(krita_ready, tmp_path_factory, images, pixcut_exe) -> kritaharness.Profile:
    """Install the plug-in with the real installer and start Krita once (it builds its resource DB)."""
    profile = kritaharness.make_profile(tmp_path_factory.mktemp("krita-warm") / "home")
    report = kritaharness.run_krita(
        profile,
        {"image": str(images["jpeg"]), "action": "pixcut_remove_background_repeat", "warmup": True, "timeout": 60},
        tmp_path_factory.mktemp("warmup"),
        timeout=120,
    )
    assert report.get("plugin_loaded"), f"plug-in not loaded: {report}\n{kritaharness.log_tail(report)}"
    return profile


@pytest.fixture
def krita(warm_profile, tmp_path):
    """Run one job in a fresh copy of the warm profile: ``krita(job, settings) -> report``."""

    def run(job: dict, settings: dict, timeout: float = 90) -> dict:
        profile = kritaharness.copy_profile(warm_profile, tmp_path / "home")
        profile.set_settings(settings)
        job = dict({"timeout": 60}, **job)
        report = kritaharness.run_krita(profile, job, tmp_path / "run", timeout=timeout)
        assert not report["_timed_out"], f"Krita timed out\n{kritaharness.log_tail(report)}"
        assert "problem" not in report, f"{report.get('problem')}\n{kritaharness.log_tail(report)}"
        return report

    return run


@pytest.fixture
def pixcut_direct(pixcut_exe, tmp_path):
    """Run ``pixcut remove --json`` directly on an exported input: the reference for the plug-in."""

    def run(input_png: str, *options: str) -> tuple[dict, Image.Image]:
        out = tmp_path / "direct.png"
        proc = subprocess.run(
            [
                *pixcut_exe.split(),
                "remove",
                input_png,
                "-o",
                str(out),
                "--json",
                "--format",
                "png",
                "--backend",
                "local",
                *options,
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        results = [event for event in events if event["event"] == "result"]
        assert proc.returncode == 0 and results, proc.stdout + proc.stderr
        return results[0], Image.open(out).convert("RGBA")

    return run
