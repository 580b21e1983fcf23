"""API credentials: the built-in provider (environment, then the user's config file).

Registered as a default plug-in for the ``pixcut_credentials`` hook, so a
keyring or secrets-manager plug-in can answer first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pixcut.config import load_config
from pixcut.hookspecs import hookimpl

ENV_ID = "PIXIAN_API_ID"
ENV_SECRET = "PIXIAN_API_SECRET"


@dataclass(frozen=True)
class Credentials:
    api_id: str
    api_secret: str

    def __repr__(self) -> str:  # never show the secret, even in a traceback or a debugger
        return f"Credentials(api_id={self.api_id!r}, api_secret='***')"

    __str__ = __repr__


@hookimpl(trylast=True)
def pixcut_credentials(endpoint: str) -> Credentials | None:
    api_id, secret = os.environ.get(ENV_ID), os.environ.get(ENV_SECRET)
    if api_id and secret:
        return Credentials(api_id, secret)
    config = load_config()
    api_id, secret = config.get("api_id"), config.get("api_secret")
    if api_id and secret:
        return Credentials(str(api_id), str(secret))
    return None


def find_credentials(endpoint: str) -> Credentials | None:
    """Ask every credentials provider (plug-ins first) for ``endpoint``."""
    from pixcut.plugins import load_plugins

    return load_plugins().hook.pixcut_credentials(endpoint=endpoint)
