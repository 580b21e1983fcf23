"""API credentials: the type, and the lookup that asks the ``pixcut_credentials`` providers.

The providers themselves are plug-ins: the built-in one (environment, then the user's
config file) lives in ``pixcut.default_plugins.credentials``, so this module depends on
the plug-in manager and nothing depends back on it at import time.
"""

from __future__ import annotations

import re
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


# scheme://user:password@host - the authority part up to its last '@' (a password may hold one).
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s?#]*@")
# user:password@host typed without a scheme (still a URL to the user, and still a secret).
_BARE_USERINFO = re.compile(r"(?<![\w/:@])[\w.%+-]+:[^\s/@'\"]+@(?=[\w\[])")


def mask_secrets(text: str) -> str:
    """``text`` with the user:password part of every URL in it replaced by ``***``.

    The one masking helper: error messages, log lines and reports go through it, because a
    URL given by the user (``--endpoint http://id:secret@host/...``, also ``ftp://``) or echoed
    by a library's exception is the usual way a password ends up on screen.
    """
    return _BARE_USERINFO.sub("***@", _URL_USERINFO.sub(r"\1***@", text))


def mask_url(url: str) -> str:
    """One URL for messages and logs: :func:`mask_secrets` applied to it."""
    return mask_secrets(url)


def find_credentials(endpoint: str) -> Credentials | None:
    """Ask the credentials providers for ``endpoint``: installed plug-ins first, the built-in last."""
    found: Credentials | None = load_plugins().hook.pixcut_credentials(endpoint=endpoint)
    return found
