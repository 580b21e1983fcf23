"""The built-in credentials provider: the environment, then the user's config file.

A default plug-in marked ``trylast``, so any installed provider (a keyring or a secrets
manager) is asked first and this one answers only when none did.
"""

from __future__ import annotations

import os

from pixcut.config import load_config
from pixcut.credentials import ENV_ID, ENV_SECRET, Credentials
from pixcut.hookspecs import hookimpl


@hookimpl(trylast=True)
def pixcut_credentials(endpoint: str) -> Credentials | None:
    """``PIXIAN_API_ID``/``PIXIAN_API_SECRET`` when both are set, else ``api_id``/``api_secret``
    from the config file; the same pair for every endpoint."""
    api_id, secret = os.environ.get(ENV_ID), os.environ.get(ENV_SECRET)
    if api_id and secret:
        return Credentials(api_id, secret)
    config = load_config()
    stored_id, stored_secret = config.get("api_id"), config.get("api_secret")
    if stored_id and stored_secret:
        return Credentials(str(stored_id), str(stored_secret))
    return None
