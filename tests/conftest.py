"""Fixtures shared by every test folder (helpers live in ``support.py``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pi_heif
import pillow_heif
import pytest
from support import ScriptedServer, make_photo

import pixcut.imageio  # noqa: F401  (registers pi-heif, pixcut's HEIC reader, with Pillow)

# pixcut reads HEIC through pi-heif, which has no encoder; the tests make their HEIC inputs with
# pillow-heif (a test dependency). Registering pillow-heif would also make it the reader, so pi-heif is
# registered again after it: pillow-heif saves, pi-heif (what users run) opens.
pillow_heif.register_heif_opener()
pi_heif.register_heif_opener()


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The translated-model cache (``PIXCUT_CACHE_DIR``) in a folder of the test session's own, for
    this process and every pixcut process the tests start, never the user's."""
    folder = tmp_path_factory.mktemp("pixcut-cache")
    before = os.environ.get("PIXCUT_CACHE_DIR")
    os.environ["PIXCUT_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("PIXCUT_CACHE_DIR", None)
    else:
        os.environ["PIXCUT_CACHE_DIR"] = before


@pytest.fixture
def photo_path(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    make_photo().save(path)
    return path


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()
