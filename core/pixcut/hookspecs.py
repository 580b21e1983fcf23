"""pluggy hook specifications: the seams third-party packages can extend.

A plug-in is any module or object with functions named like these specs and
decorated with ``pixcut.hookimpl``; packages expose it through the ``pixcut``
entry-point group (see ``plugins.py`` and docs/plugins.md). The built-in backends and
the built-in credentials provider are registered the same way, as default plug-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    from pixcut.backends import Backend, BackendSettings
    from pixcut.credentials import Credentials
    from pixcut.result import RemovalResult

hookspec = HookspecMarker("pixcut")
hookimpl = HookimplMarker("pixcut")

BackendFactory = Callable[["BackendSettings"], "Backend"]
"""Builds a backend from the user's settings (endpoint, credentials, model, timeouts...)."""


class RegisterBackend(Protocol):
    """The ``register`` callable handed to ``pixcut_register_backends``."""

    def __call__(self, name: str, factory: BackendFactory, description: str = "") -> None: ...


@hookspec
def pixcut_register_backends(register: RegisterBackend) -> None:
    """Register removal backends by calling ``register(name, factory, description)``.

    Called whenever the backends are listed or one is built by name (``create_backend``,
    ``--backend``, ``pixcut doctor``, ``pixcut plugins``). ``factory(settings:
    pixcut.backends.BackendSettings) -> Backend`` builds a backend; a backend has a ``name``
    and a ``remove(source, options)`` method returning a ``RemovalResult``. pluggy calls the
    most recently registered plug-in first and the first registration of a name wins, so an
    installed plug-in can override a built-in backend (the built-ins are ``trylast``).
    """


@hookspec(firstresult=True)
def pixcut_credentials(endpoint: str) -> Credentials | None:
    """Return the API credentials to use for ``endpoint``, or None to let the next provider answer.

    Called by the Pixian client before each request that has no explicit credentials, and
    by ``pixcut doctor``. Providers are asked in pluggy's order (last registered first); the
    built-in provider (``trylast``) reads ``PIXIAN_API_ID``/``PIXIAN_API_SECRET`` and then the
    user's config file. A provider must never log or print the secret.
    """


@hookspec
def pixcut_before_removal(request: dict[str, Any]) -> None:
    """Observe a removal about to start (logging, progress, cost accounting).

    Called by ``pixcut.api.remove_background`` (and so for the Python API, ``pixcut remove``,
    batches and ``pixcut serve`` requests) after the options were validated and before the
    backend runs. ``request`` holds ``backend`` (name), ``input`` (a display name, never image
    bytes) and ``options`` (a ``RemovalOptions``). Observers must not modify it and must not
    raise: an exception here aborts the removal.
    """


@hookspec
def pixcut_after_removal(request: dict[str, Any], result: RemovalResult | None, error: BaseException | None) -> None:
    """Observe a finished removal: exactly one of ``result`` (success) or ``error`` is set.

    Called by ``pixcut.api.remove_background`` once the backend returned or raised, with the
    same ``request`` dict the before hook saw; called for failures too, so cost and error
    accounting see every request. ``result.info.credits_charged`` is what the service charged.
    """
