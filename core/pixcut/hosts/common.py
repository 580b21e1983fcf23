"""What every host installer shares: copying a plug-in tree, the host kit, and recording where pixcut lives.

The plug-ins run inside GIMP's or Krita's own Python, which usually cannot import
pixcut; they run the ``pixcut`` executable instead. The installer writes its
absolute path (and the pixcut version that installed the plug-in) next to the plug-in
so the plug-in finds it without PATH and can tell when it was left behind by an upgrade,
and copies the host kit (``hostkit.py``) beside it as ``pixcut_hostkit.py``.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import sys
from pathlib import Path

from pixcut import __version__
from pixcut.hosts import hostkit

LOCATION_FILE = hostkit.LOCATION_FILE
KIT_SOURCE = Path(hostkit.__file__)


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


def read_location(folder: Path) -> hostkit.Location | None:
    """The installed plug-in's record (the host kit's parser: one for the plug-ins, doctor and here)."""
    return hostkit.read_location(str(folder))


def write_location(folder: Path, executable: str | None = None, linked: bool = False) -> Path:
    """Write ``pixcut-location.json`` into ``folder`` (atomically) and return its path.

    A linked (developer) install records no version: it follows the sources, so it is never stale.
    """
    target = folder / LOCATION_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_text(hostkit.location_text(executable or pixcut_executable(), None if linked else __version__))
    os.replace(tmp, target)
    return target


def install_kit(folder: Path, link: bool) -> Path:
    """Put the host kit beside the plug-in as ``pixcut_hostkit.py`` (a symlink for a linked install)."""
    target = folder / hostkit.KIT_FILE
    copy_tree(KIT_SOURCE, target, link=link)
    return target


def stale_files(source: Path, installed: Path) -> list[str]:
    """Files of the shipped plug-in (and the kit) that differ from, or are missing in, the installed copy.

    ``pixcut doctor`` uses it after ``pip install -U pixcut``: any difference means the copy is
    stale and ``pixcut hosts install HOST`` refreshes it.
    """
    pairs = [(KIT_SOURCE, installed / hostkit.KIT_FILE)]
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                pairs.append((path, installed / path.relative_to(source)))
    else:
        pairs.append((source, installed))
    return [
        str(copy.relative_to(installed) if copy != installed else copy.name)
        for original, copy in pairs
        if original.name != LOCATION_FILE and (not copy.is_file() or not filecmp.cmp(original, copy, shallow=False))
    ]


def flatpak_home(app_id: str) -> Path:
    """Where a Flatpak app keeps its per-user files (the same path inside and outside the sandbox)."""
    return Path.home() / ".var" / "app" / app_id


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
