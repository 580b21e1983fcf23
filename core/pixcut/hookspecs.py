"""pluggy hook specifications: the seams third-party packages can extend.

A plug-in is any module or object with functions named like these specs and
decorated with ``pixcut.hookimpl``; packages expose it through the
``pixcut`` entry-point group (see ``plugins.py``). The built-in backends and the
built-in credentials provider are registered the same way, as default plug-ins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    from collections.abc import Callable

    from pixcut.credentials import Credentials
    from pixcut.result import RemovalResult

hookspec = HookspecMarker("pixcut")
hookimpl = HookimplMarker("pixcut")


@hookspec
def pixcut_register_backends(register: Callable[..., None]) -> None:
    """Register removal backends by calling ``register(name, factory, description)``.

    ``factory(settings: pixcut.backends.BackendSettings) -> Backend`` builds a
    backend; a backend has a ``name`` and a ``remove(source, options)`` method
    returning a ``RemovalResult``. Names are what ``--backend`` and
    ``remove_background(backend=...)`` accept; a later registration of the same name
    replaces an earlier one, so a plug-in can override a built-in backend.
    """


@hookspec(firstresult=True)
def pixcut_credentials(endpoint: str) -> Credentials | None:
    """Return the API credentials to use for ``endpoint``, or None to let the next provider answer.

    Providers are asked in pluggy's order (last registered first); the built-in
    provider reads ``PIXIAN_API_ID``/``PIXIAN_API_SECRET`` and then the user's
    config file. A provider must never log or print the secret.
    """


@hookspec
def pixcut_before_removal(request: dict[str, Any]) -> None:
    """Observe a removal about to start (logging, progress, cost accounting).

    ``request`` holds ``backend`` (name), ``input`` (a display name, never image
    bytes) and ``options`` (a ``RemovalOptions``). Observers must not modify it and
    must not raise: an exception here aborts the removal.
    """


@hookspec
def pixcut_after_removal(request: dict[str, Any], result: RemovalResult | None, error: BaseException | None) -> None:
    """Observe a finished removal: exactly one of ``result`` (success) or ``error`` is set.

    Called for failures too, so cost and error accounting see every request.
    ``result.info.credits_charged`` is what the service charged.
    """
