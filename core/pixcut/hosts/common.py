"""What every host installer shares: copying a plug-in tree and recording where pixcut lives.

The plug-ins run inside GIMP's or Krita's own Python, which usually cannot import
pixcut; they run the ``pixcut`` executable instead. The installer writes its
absolute path next to the plug-in so the plug-in finds it without PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

LOCATION_FILE = "pixcut-location.json"


def repo_plugins_dir() -> Path:
    """The plug-in sources shipped inside the package.

    ``bundled/gimp`` and ``bundled/krita`` are symlinks to the checkout's ``plugins/`` folders,
    so an editable install uses the working tree and a wheel carries real copies.
    """
    return Path(__file__).parent / "bundled"


def pixcut_executable() -> str:
    """The absolute path of the running pixcut's console script (falls back to ``python -m pixcut``)."""
    candidate = Path(sys.executable).with_name("pixcut")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("pixcut")
    return found if found else f"{sys.executable} -m pixcut"


def read_location(folder: Path) -> str | None:
    """The executable an installed plug-in will run, from its ``pixcut-location.json`` (None if unreadable)."""
    try:
        executable = json.loads((folder / LOCATION_FILE).read_text(encoding="utf-8"))["executable"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return executable if isinstance(executable, str) else None


def write_location(folder: Path, executable: str | None = None) -> Path:
    """Write ``pixcut-location.json`` into ``folder`` (atomically) and return its path."""
    target = folder / LOCATION_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"executable": executable or pixcut_executable()}, indent=2) + "\n")
    os.replace(tmp, target)
    return target


def copy_tree(src: Path, dest: Path, link: bool) -> None:
    """Install ``src`` at ``dest`` as a copy, or as a symlink when ``link`` (for plug-in developers)."""
    remove_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if link:
        dest.symlink_to(src.resolve(), target_is_directory=src.is_dir())
    elif src.is_dir():
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        shutil.copy2(src, dest)


def remove_path(path: Path) -> bool:
    """Remove a file, symlink or folder if present; True when something was removed."""
    if path.is_symlink() or path.is_file():
        path.unlink()
        return True
    if path.is_dir():
        shutil.rmtree(path)
        return True
    return False
