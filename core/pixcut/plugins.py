"""The plug-in manager: built-in plug-ins plus those installed under the ``pixcut`` entry points.

Modelled on simonw/llm and datasette: one module-level PluginManager, pixcut's own
plug-ins (``DEFAULT_PLUGINS``) registered exactly like third-party ones, and every hook
called through ``pm.hook`` so pluggy's ordering, wrappers and tracing apply. Plug-ins are
loaded lazily, on the first ``load_plugins()`` call (the first removal, backend lookup,
credentials lookup or ``pixcut plugins``), not when ``pixcut`` is imported. Set
``PIXCUT_LOAD_PLUGINS=`` (empty) to skip installed third-party plug-ins, e.g. when debugging.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pluggy

from pixcut import hookspecs

if TYPE_CHECKING:
    from pixcut.hookspecs import BackendFactory

ENTRY_POINT_GROUP = "pixcut"
DEFAULT_PLUGINS = (
    "pixcut.default_plugins.credentials",
    "pixcut.backends.pixian",
    "pixcut.backends.local",
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
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return pm


@dataclass(frozen=True)
class BackendInfo:
    name: str
    factory: BackendFactory
    description: str


def get_backends() -> dict[str, BackendInfo]:
    """All registered backends by name; an installed plug-in's registration beats a built-in's."""
    load_plugins()
    found: dict[str, BackendInfo] = {}

    def register(name: str, factory: BackendFactory, description: str = "") -> None:
        # pluggy calls the newest plug-in first and the built-ins (trylast) last: first one wins.
        found.setdefault(name, BackendInfo(name, factory, description))

    pm.hook.pixcut_register_backends(register=register)
    return found
