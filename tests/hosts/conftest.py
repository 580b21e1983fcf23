"""The host kit as each plug-in gets it: the package module, and the copies the installers put beside
the GIMP and Krita plug-ins. The kit's tests run against all three, so a copy that is not the same
working kit fails here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pixcut.hosts import gimp, hostkit, krita


def load_copy(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> dict[str, Path]:
    """Both plug-ins installed by the real installers into a throw-away profile."""
    root = tmp_path_factory.mktemp("hosts")
    return {
        "gimp": gimp.install(root / "gimp" / "plug-ins"),
        "krita": krita.install(dest=root / "pykrita", kritarc=root / "kritarc"),
    }


@pytest.fixture(params=["package", "gimp", "krita"], scope="session")
def kit(request, installed) -> ModuleType:
    """The kit under test: ``pixcut.hosts.hostkit`` or the copy beside an installed plug-in."""
    if request.param == "package":
        return hostkit
    return load_copy(installed[request.param] / hostkit.KIT_FILE, f"pixcut_hostkit_{request.param}")


@pytest.fixture(scope="session")
def load_kit():
    """Import a kit copy from a file (what a plug-in does with the one beside it)."""
    return load_copy
