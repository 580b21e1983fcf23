"""The worked example of docs/plugins.md, installed as a user would: pip into a fresh venv, then the CLI.

No network: the new venv reaches the project's packages (pixcut, Pillow, pluggy...) through a
``.pth`` file that adds this venv's site-packages, and pip installs the example with
``--no-index --no-build-isolation --no-deps``. The example lives only in the temporary venv,
so this also shows that pixcut finds plug-ins through the ``pixcut`` entry-point group.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "plugin-example"


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"{args}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugin-venv")
    venv = root / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    target = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    ours = sysconfig.get_paths()["purelib"]
    # addsitedir (not a bare path line) so the project's own .pth files, e.g. pixcut's editable install, apply.
    (target / "pixcut_project.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    source = root / "pixcut-chromakey"
    shutil.copytree(EXAMPLE, source)  # pip builds in-tree: keep build/ and *.egg-info out of the repo
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-index",
        "--no-build-isolation",
        "--no-deps",
        source,
    )
    return python


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIXCUT_CONFIG_DIR": str(tmp_path / "config")}


def test_the_example_is_listed_as_an_installed_plugin(plugin_venv: Path, tmp_path: Path) -> None:
    listing = json.loads(run(plugin_venv, "-m", "pixcut", "plugins", "list", "--json", env=cli_env(tmp_path)).stdout)
    assert listing == [
        {
            "name": "chromakey",
            "hooks": ["pixcut_register_backends"],
            "default": False,
            "package": "pixcut-chromakey",
            "version": "0.1.0",
        }
    ]


def test_the_example_backend_works_from_the_cli(plugin_venv: Path, tmp_path: Path) -> None:
    shot = Image.new("RGB", (120, 80), (20, 200, 40))  # a green screen
    ImageDraw.Draw(shot).rectangle((30, 20, 69, 59), fill=(200, 40, 40))  # a 40x40 subject at (30, 20)
    shot.save(tmp_path / "shot.png")
    proc = run(
        plugin_venv,
        "-m",
        "pixcut",
        "remove",
        tmp_path / "shot.png",
        "-o",
        tmp_path / "cut.png",
        "--backend",
        "chromakey",
        "--crop-to-foreground",
        "--margin",
        "5px",
        "--json",
        env=cli_env(tmp_path),
    )
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert (events[0]["event"], events[0]["backend"]) == ("start", "chromakey")
    result = next(e for e in events if e["event"] == "result")
    assert result["input_foreground"] == [20, 30, 40, 40] and result["result_size"] == [50, 50]
    cut = Image.open(tmp_path / "cut.png")
    assert cut.size == (50, 50) and cut.mode == "RGBA"
    assert cut.getpixel((0, 0))[3] == 0 and cut.getpixel((25, 25)) == (200, 40, 40, 255)


def test_the_project_venv_does_not_see_the_example() -> None:
    """The backend above came from the temporary venv's entry point, not from this environment."""
    from pixcut.plugins import get_backends

    assert "chromakey" not in get_backends()
