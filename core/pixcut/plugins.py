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
class PluginInfo:
    """One registered plug-in as ``pixcut plugins`` shows it."""

    name: str
    hooks: tuple[str, ...]
    default: bool  # one of pixcut's own (DEFAULT_PLUGINS)
    package: str | None = None  # the distribution that declared the entry point, if any
    version: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "hooks": list(self.hooks),
            "default": self.default,
            "package": self.package,
            "version": self.version,
        }


def get_plugins(include_defaults: bool = False) -> list[PluginInfo]:
    """The registered plug-ins and the hooks each implements, sorted by name (llm's ``get_plugins``)."""
    load_plugins()
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    found = []
    for name, plugin in pm.list_name_plugin():
        default = name in DEFAULT_PLUGINS
        if plugin is None or (default and not include_defaults):
            continue  # None: a blocked plug-in
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        dist = dists.get(id(plugin))
        package = str(dist.project_name) if dist is not None else None
        version = str(dist.version) if dist is not None else None
        found.append(PluginInfo(name, hooks, default, package, version))
    return sorted(found, key=lambda info: info.name)


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
