"""Install the GIMP 3 plug-in (``pixcut hosts install gimp``).

GIMP 3 loads a Python plug-in only from a folder named like its executable file
(``plug-ins/pixcut-gimp/pixcut-gimp.py``), so the whole ``pixcut-gimp`` folder is copied (or
linked), the host kit goes beside it (``pixcut_hostkit.py``), the run bit is set, and
``pixcut-location.json`` records this pixcut's executable and version:
GIMP's own Python usually cannot import pixcut, and GIMP is often started without the venv on PATH.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pixcut.hosts import common, hostkit

PLUGIN_NAME = "pixcut-gimp"
PLUGIN_FILE = f"{PLUGIN_NAME}.py"


FLATPAK_ID = hostkit.FLATPAK_APPS["gimp"]


def native_dest() -> Path:
    """The user plug-ins folder of a GIMP 3 installed the usual way (``~/.config/GIMP/3.0/plug-ins``)."""
    return Path.home() / ".config" / "GIMP" / "3.0" / "plug-ins"


def flatpak_dest() -> Path:
    """The user plug-ins folder of the Flatpak GIMP (its profile lives under ``~/.var/app/org.gimp.GIMP``)."""
    return common.flatpak_home(FLATPAK_ID) / "config" / "GIMP" / "3.0" / "plug-ins"


def default_dest() -> Path:
    """``$GIMP3_DIRECTORY/plug-ins``; else the native profile, or the Flatpak one when only that exists."""
    profile = os.environ.get("GIMP3_DIRECTORY", "").strip()
    if profile:
        return Path(profile).expanduser() / "plug-ins"
    native, flatpak = native_dest(), flatpak_dest()
    if not native.parent.exists() and flatpak.parent.exists():
        return flatpak
    return native


def plugin_source() -> Path:
    """The ``pixcut-gimp`` folder shipped with pixcut (bundled in the wheel, or the checkout's plugins/)."""
    source = common.repo_plugins_dir() / "gimp" / PLUGIN_NAME
    if not (source / PLUGIN_FILE).is_file():
        raise FileNotFoundError(f"the GIMP plug-in is missing from this pixcut installation: {source}")
    return source


def install(dest: Path | None = None, link: bool = False) -> Path:
    """Copy (or symlink) the plug-in folder into ``dest`` and return the installed plug-in folder.

    With ``link`` the folder is a symlink to the sources (for plug-in developers); the location
    file is then written into the source folder, where ``.gitignore`` keeps it out of commits.
    """
    target = (Path(dest).expanduser() if dest else default_dest()) / PLUGIN_NAME
    common.copy_tree(plugin_source(), target, link=link)
    script = target / PLUGIN_FILE
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    common.write_location(target, linked=link)
    common.install_kit(target, link=link)
    return target


def uninstall(dest: Path | None = None) -> list[Path]:
    """Remove the installed plug-in folder (a copy or a link); return what was removed (empty if none)."""
    target = (Path(dest).expanduser() if dest else default_dest()) / PLUGIN_NAME
    removed: list[Path] = []
    if target.is_symlink():
        # A linked install wrote its location file and kit link into the sources: take them back out.
        for extra in (target.resolve() / common.LOCATION_FILE, target.resolve() / hostkit.KIT_FILE):
            if common.remove_path(extra):
                removed.append(extra)
    if common.remove_path(target):
        removed.append(target)
    return removed
