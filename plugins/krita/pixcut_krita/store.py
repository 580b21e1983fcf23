"""Settings persistence through Krita's settings API (group ``pixcut`` in kritarc).

Scripts may write the same keys with ``Krita.instance().writeSetting("pixcut", key, value)``;
``changed`` lets the docker follow edits made by the dialog.
"""

from __future__ import annotations

from krita import Krita
from PyQt5.QtCore import QObject, pyqtSignal

from .logic import DEFAULTS, SETTING_KEYS, SETTINGS_GROUP, Settings

CONSENT_KEY = "pixian_consent"


class _Bus(QObject):
    changed = pyqtSignal()


bus = _Bus()


def load() -> Settings:
    """The stored settings (defaults for anything missing or malformed)."""
    app = Krita.instance()
    values = {key: app.readSetting(SETTINGS_GROUP, key, DEFAULTS[key]) for key in SETTING_KEYS}
    values["executable"] = app.readSetting(SETTINGS_GROUP, "executable", "")
    return Settings.from_strings(values)


def save(settings: Settings) -> None:
    """Store every key and tell open dockers."""
    app = Krita.instance()
    for key, value in settings.to_strings().items():
        app.writeSetting(SETTINGS_GROUP, key, value)
    bus.changed.emit()


def has_consent() -> bool:
    """Whether the user already agreed to upload images to the Pixian cloud."""
    return Krita.instance().readSetting(SETTINGS_GROUP, CONSENT_KEY, "false") == "true"


def give_consent() -> None:
    Krita.instance().writeSetting(SETTINGS_GROUP, CONSENT_KEY, "true")
