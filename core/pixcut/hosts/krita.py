"""Install the Krita 5 plug-in (``pixcut hosts install krita``).

Krita loads a Python plug-in from its user ``pykrita`` folder: a package folder
(``pixcut_krita/``) plus a ``pixcut_krita.desktop`` beside it, and only when kritarc's
``[python]`` group says ``enable_pixcut_krita=true``. Krita's embedded Python cannot import
pixcut, so ``pixcut-location.json`` inside the package records this pixcut's executable.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pixcut.hosts import common, hostkit

PLUGIN_NAME = "pixcut_krita"
DESKTOP_FILE = f"{PLUGIN_NAME}.desktop"
ENABLE_KEY = f"enable_{PLUGIN_NAME}"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else Path.home() / fallback


FLATPAK_ID = hostkit.FLATPAK_APPS["krita"]


def native_dest() -> Path:
    """Krita's user plug-in folder: ``$XDG_DATA_HOME/krita/pykrita`` (``~/.local/share/krita/pykrita``)."""
    return _xdg("XDG_DATA_HOME", ".local/share") / "krita" / "pykrita"


def flatpak_dest() -> Path:
    """The Flatpak Krita's plug-in folder (its XDG dirs live under ``~/.var/app/org.kde.krita``)."""
    return common.flatpak_home(FLATPAK_ID) / "data" / "krita" / "pykrita"


def flatpak_kritarc() -> Path:
    return common.flatpak_home(FLATPAK_ID) / "config" / "kritarc"


def _flatpak_only() -> bool:
    """Only the Flatpak Krita has a profile here (and no XDG override says otherwise)."""
    if os.environ.get("XDG_DATA_HOME", "").strip():
        return False
    return not native_dest().parent.exists() and flatpak_dest().parent.exists()


def default_dest() -> Path:
    """The plug-in folder Krita reads: the native one, or the Flatpak one when only that Krita exists."""
    return flatpak_dest() if _flatpak_only() else native_dest()


def default_kritarc() -> Path:
    """Krita's settings file: ``$XDG_CONFIG_HOME/kritarc`` (``~/.config/kritarc``), or the Flatpak's."""
    if _flatpak_only() and not os.environ.get("XDG_CONFIG_HOME", "").strip():
        return flatpak_kritarc()
    return _xdg("XDG_CONFIG_HOME", ".config") / "kritarc"


def plugin_sources() -> tuple[Path, Path]:
    """The package folder and the .desktop file shipped with pixcut (wheel bundle or checkout)."""
    base = common.repo_plugins_dir() / "krita"
    package, desktop = base / PLUGIN_NAME, base / DESKTOP_FILE
    if not (package / "__init__.py").is_file() or not desktop.is_file():
        raise FileNotFoundError(f"the Krita plug-in is missing from this pixcut installation: {base}")
    return package, desktop


def install(dest: Path | None = None, link: bool = False, kritarc: Path | None = None) -> Path:
    """Copy (or symlink) the plug-in into ``dest``, enable it in kritarc; return the package folder.

    With ``link`` the package is a symlink to the sources (for plug-in developers); the location
    file then lands in the source folder, where ``.gitignore`` keeps it out of commits.
    """
    root = Path(dest).expanduser() if dest else default_dest()
    package, desktop = plugin_sources()
    target = root / PLUGIN_NAME
    common.copy_tree(package, target, link=link)
    common.copy_tree(desktop, root / DESKTOP_FILE, link=link)
    common.write_location(target, linked=link)
    common.install_kit(target, link=link)
    set_enabled(kritarc or default_kritarc(), True)
    return target


def uninstall(dest: Path | None = None, kritarc: Path | None = None) -> list[Path]:
    """Remove the package and .desktop file, drop the kritarc switch; return what was removed."""
    root = Path(dest).expanduser() if dest else default_dest()
    target = root / PLUGIN_NAME
    removed: list[Path] = []
    if target.is_symlink():
        for extra in (target.resolve() / common.LOCATION_FILE, target.resolve() / hostkit.KIT_FILE):
            if common.remove_path(extra):
                removed.append(extra)
    for path in (target, root / DESKTOP_FILE):
        if common.remove_path(path):
            removed.append(path)
    set_enabled(kritarc or default_kritarc(), False)
    return removed


def set_enabled(kritarc: Path, enabled: bool) -> None:
    """Write (or, when disabling, remove) ``enable_pixcut_krita`` in ``[python]``, keeping the rest.

    kritarc is a KConfig file that Krita rewrites on exit; a line-based edit keeps the user's
    other groups, comments and key order exactly, which configparser would not.
    """
    text = kritarc.read_text(encoding="utf-8") if kritarc.is_file() else ""
    if not enabled and not text:
        return
    new = edit_python_group(text, f"{ENABLE_KEY}=true" if enabled else None)
    if new != text:
        kritarc.parent.mkdir(parents=True, exist_ok=True)
        tmp = kritarc.with_name(kritarc.name + ".pixcut-tmp")
        tmp.write_text(new, encoding="utf-8")
        os.replace(tmp, kritarc)


_ENABLE_LINE = re.compile(rf"^\s*{re.escape(ENABLE_KEY)}\s*=")


def _python_group(lines: list[str]) -> tuple[int, int] | None:
    """(header index, end index) of kritarc's ``[python]`` group, or None when it has none."""
    start = next((i for i, value in enumerate(lines) if value.strip() == "[python]"), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    return start, end


def is_enabled(kritarc: Path) -> bool:
    """Whether kritarc's ``[python]`` group switches the plug-in on (what Krita itself reads)."""
    lines = kritarc.read_text(encoding="utf-8").splitlines() if kritarc.is_file() else []
    bounds = _python_group(lines)
    if bounds is None:
        return False
    start, end = bounds
    values = [line.split("=", 1)[1].strip() for line in lines[start + 1 : end] if _ENABLE_LINE.match(line)]
    return bool(values) and values[-1].lower() == "true"


def edit_python_group(text: str, line: str | None) -> str:
    """Set the enable line in the ``[python]`` group (add the group if missing); None removes it."""
    lines = text.splitlines()
    bounds = _python_group(lines)
    if bounds is None:
        if line is None:
            return text
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return prefix + ("\n" if prefix.strip() else "") + f"[python]\n{line}\n"
    start, end = bounds
    body = [value for value in lines[start + 1 : end] if not _ENABLE_LINE.match(value)]
    if line is not None:
        body.insert(0, line)
    result = lines[: start + 1] + body + lines[end:]
    return "\n".join(result) + ("\n" if text.endswith("\n") or line is not None else "")
