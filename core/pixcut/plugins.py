"""The plug-in manager: built-in plug-ins plus those installed under the ``pixcut`` entry points.

Modelled on simonw/llm and datasette: one module-level PluginManager, the
built-in backends registered as default plug-ins exactly like third-party ones,
and setuptools entry points loaded once at import. Set ``PIXCUT_LOAD_PLUGINS=``
(empty) to skip third-party plug-ins, e.g. when debugging.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pluggy

from pixcut import hookspecs

DEFAULT_PLUGINS = (
    "pixcut.backends.pixian",
    "pixcut.backends.local",
    "pixcut.credentials",
)

pm = pluggy.PluginManager("pixcut")
pm.add_hookspecs(hookspecs)

_loaded = False


def load_plugins() -> pluggy.PluginManager:
    """Register default and entry-point plug-ins once; safe to call repeatedly."""
    global _loaded
    if _loaded:
        return pm
    _loaded = True
    for name in DEFAULT_PLUGINS:
        module = importlib.import_module(name)
        if not pm.is_registered(module):
            pm.register(module, name)
    if os.environ.get("PIXCUT_LOAD_PLUGINS", "1") != "":
        pm.load_setuptools_entrypoints("pixcut")
    return pm


@dataclass(frozen=True)
class BackendInfo:
    name: str
    factory: Callable[..., Any]
    description: str


def get_backends() -> dict[str, BackendInfo]:
    """All registered backends by name (later registrations override earlier ones)."""
    load_plugins()
    found: dict[str, BackendInfo] = {}

    def register(name: str, factory: Callable[..., Any], description: str = "") -> None:
        found[name] = BackendInfo(name, factory, description)

    # get_hookimpls() lists plug-ins in registration order: defaults first, so third parties win.
    for impl in pm.hook.pixcut_register_backends.get_hookimpls():
        impl.function(register=register)
    return found
