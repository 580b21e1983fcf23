"""API credentials: the type, and the lookup that asks the ``pixcut_credentials`` providers.

The providers themselves are plug-ins: the built-in one (environment, then the user's
config file) lives in ``pixcut.default_plugins.credentials``, so this module depends on
the plug-in manager and nothing depends back on it at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from pixcut.plugins import load_plugins

ENV_ID = "PIXIAN_API_ID"
ENV_SECRET = "PIXIAN_API_SECRET"


@dataclass(frozen=True)
class Credentials:
    """An API id and secret; the secret never appears in ``repr``/``str`` (tracebacks, debuggers, logs)."""

    api_id: str
    api_secret: str

    def __repr__(self) -> str:
        return f"Credentials(api_id={self.api_id!r}, api_secret='***')"

    __str__ = __repr__


def find_credentials(endpoint: str) -> Credentials | None:
    """Ask the credentials providers for ``endpoint``: installed plug-ins first, the built-in last."""
    found: Credentials | None = load_plugins().hook.pixcut_credentials(endpoint=endpoint)
    return found
