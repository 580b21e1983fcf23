"""`pixcut hosts` (GIMP/Krita add-ons), `pixcut plugins` (pluggy plug-ins) and the CLI's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pixcut import hookimpl
from pixcut.cli.main import main
from pixcut.plugins import load_plugins, pm


def pixcut(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixcut", *args], capture_output=True, text=True, env=env, input=stdin, timeout=120
    )


def test_hosts_install_and_the_plugins_alias_install_the_same_files(tmp_path: Path) -> None:
    new, old = tmp_path / "new", tmp_path / "old"
    assert pixcut("hosts", "install", "gimp", "--dest", str(new)).returncode == 0
    assert pixcut("plugins", "install", "gimp", "--dest", str(old)).returncode == 0
    files = sorted(p.relative_to(new) for p in new.rglob("*"))
    assert files and files == sorted(p.relative_to(old) for p in old.rglob("*"))
    removed = pixcut("hosts", "uninstall", "gimp", "--dest", str(new))
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert not any(new.rglob("*.py"))
    again = pixcut("plugins", "uninstall", "gimp", "--dest", str(new))
    assert again.returncode == 0 and "was not installed" in again.stdout


def test_hosts_needs_an_action_and_a_known_host() -> None:
    assert pixcut("hosts").returncode == 2
    assert pixcut("hosts", "install", "photoshop").returncode == 2


class Listed:
    @hookimpl
    def pixcut_before_removal(self, request: dict[str, object]) -> None:
        pass

    @hookimpl
    def pixcut_credentials(self, endpoint: str) -> None:
        return None


@pytest.fixture
def listed() -> object:
    load_plugins()
    plugin = Listed()
    pm.register(plugin, name="listed-plugin")
    yield plugin
    pm.unregister(plugin)


def test_plugins_list_json_names_plugins_and_their_hooks(listed: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert {"name": "listed-plugin", "hooks": ["pixcut_before_removal", "pixcut_credentials"]}.items() <= next(
        entry for entry in listing if entry["name"] == "listed-plugin"
    ).items()
    assert not any(entry["default"] for entry in listing)  # built-ins only with --all

    assert main(["plugins", "list", "--json", "--all"]) == 0
    names = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert names["pixcut.backends.local"]["hooks"] == ["pixcut_register_backends"]
    assert names["pixcut.default_plugins.credentials"]["default"] is True


def test_bare_plugins_command_lists_in_words(listed: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    assert "listed-plugin (registered): pixcut_before_removal, pixcut_credentials" in capsys.readouterr().out


def test_an_options_error_from_any_subcommand_exits_2(tmp_path: Path) -> None:
    """Decided by the exception's type: OptionsError (and subclasses) are usage errors."""
    env = {"PIXCUT_CONFIG_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = pixcut("config", "set-credentials", "--api-id", "someone", "--secret-stdin", env=env, stdin="\n")
    assert proc.returncode == 2 and "both the API id and the secret are needed" in proc.stderr


def test_any_other_pixcut_error_exits_1(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    proc = pixcut("config", "show", env={"PIXCUT_CONFIG_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1 and "is not valid JSON" in proc.stderr
