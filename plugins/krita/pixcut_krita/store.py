"""Settings persistence through Krita's settings API (group ``pixcut`` in kritarc).

The schema and defaults are the host kit's; Krita stores strings only. Scripts may write the same
keys with ``Krita.instance().writeSetting("pixcut", key, value)``; ``changed`` lets the docker
follow edits made by the dialog. ``executable`` and ``timeout`` are Krita-only keys.
"""

from __future__ import annotations

from krita import Krita
from PyQt5.QtCore import QObject, pyqtSignal

from . import pixcut_hostkit as kit

GROUP = "pixcut"
CONSENT_KEY = "pixian_consent"


class _Bus(QObject):
    changed = pyqtSignal()


bus = _Bus()


def _read(key: str, default: str) -> str:
    return str(Krita.instance().readSetting(GROUP, key, default))


def load() -> kit.Settings:
    """The stored settings (the kit's defaults for anything missing or malformed)."""
    defaults = kit.Settings().to_strings()
    return kit.Settings.from_mapping({key: _read(key, value) for key, value in defaults.items()})


def save(settings: kit.Settings) -> None:
    """Store every key and tell open dockers."""
    app = Krita.instance()
    for key, value in settings.to_strings().items():
        app.writeSetting(GROUP, key, value)
    bus.changed.emit()


def executable() -> str:
    """The user's own pixcut command (empty: PATH, then the installer's record)."""
    return _read("executable", "").strip()


def timeout() -> int:
    return kit.timeout_seconds(_read("timeout", str(kit.DEFAULT_TIMEOUT)))


def has_consent() -> bool:
    """Whether the user already agreed to upload images to the Pixian cloud."""
    return _read(CONSENT_KEY, "false") == "true"


def give_consent() -> None:
    Krita.instance().writeSetting(GROUP, CONSENT_KEY, "true")
