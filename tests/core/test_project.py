"""Project hygiene that code depends on: one version string, the licence, the typing marker."""

from __future__ import annotations

import configparser
from importlib.metadata import version
from pathlib import Path

import pytest
from support import Canned, ScriptedServer, make_photo

import pixcut
from pixcut.backends import BackendSettings, create_backend
from pixcut.credentials import Credentials
from pixcut.errors import BadRequestError

ROOT = Path(__file__).resolve().parents[2]


def test_one_version_string() -> None:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    assert setup["metadata"]["version"] == "attr: pixcut.__version__"
    assert version("pixcut") == pixcut.__version__  # the installed metadata came from it


def test_the_pixian_user_agent_carries_the_version(scripted: ScriptedServer, tmp_path: Path) -> None:
    scripted.responses = [Canned(400, b'{"error": {"status": 400, "code": 1006, "message": "no"}}')]
    backend = create_backend("pixian", BackendSettings(endpoint=scripted.url, credentials=Credentials("id", "secret")))
    make_photo((32, 24)).save(tmp_path / "in.png")
    with pytest.raises(BadRequestError):
        pixcut.remove_background(tmp_path / "in.png", backend=backend)
    assert scripted.requests[0].headers["User-Agent"] == f"pixcut/{pixcut.__version__}"


def test_licence_and_typing_marker_ship() -> None:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    assert setup["metadata"]["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "core" / "pixcut" / "py.typed").is_file()
    assert "py.typed" in setup["options.package_data"]["pixcut"]
