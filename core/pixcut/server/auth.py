"""HTTP Basic authentication against one configured API Id / API Secret pair.

The API authenticates with Basic auth (user = API Id, password = API Secret).
Both halves are compared with ``hmac.compare_digest`` and both comparisons always
run, so the response time does not reveal which half (or how much of it) matched.
Nothing here logs or echoes what the client sent.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from pixcut.errors import AuthenticationError

# APIError subclasses take the code from the constructor (None would replace the class default).
AUTH_CODE = AuthenticationError.code


class BasicAuth:
    """Checks an ``Authorization`` header value; raises ``AuthenticationError`` (401, 1200)."""

    def __init__(self, api_id: str, api_secret: str) -> None:
        self._id = api_id.encode("utf-8")
        self._secret = api_secret.encode("utf-8")

    def __repr__(self) -> str:
        return "BasicAuth(***)"

    def check(self, header: str | None) -> None:
        if not header:
            raise AuthenticationError(
                "Missing API credentials: use HTTP Basic authentication with your API Id and API Secret",
                status=401,
                code=AUTH_CODE,
            )
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded.strip():
            raise AuthenticationError(
                "Unsupported authentication: use HTTP Basic with your API Id and API Secret",
                status=401,
                code=AUTH_CODE,
            )
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise AuthenticationError("Malformed HTTP Basic credentials", status=401, code=AUTH_CODE) from None
        self._verify(decoded, "Invalid API credentials")

    def check_api_key(self, key: str | None) -> None:
        """remove.bg's ``X-Api-Key`` header: the same credentials written ``ID:SECRET``."""
        if not key:
            raise AuthenticationError(
                "Missing API Key: send X-Api-Key: ID:SECRET (this server's API Id and API Secret)",
                status=401,
                code=AUTH_CODE,
            )
        self._verify(key.strip().encode("utf-8", "surrogateescape"), "Invalid API Key")

    def _verify(self, given: bytes, message: str) -> None:
        """``ID:SECRET`` against the configured pair; both halves are always compared."""
        given_id, sep, given_secret = given.partition(b":")
        id_ok = hmac.compare_digest(given_id, self._id)
        secret_ok = hmac.compare_digest(given_secret, self._secret)
        if not (sep and id_ok & secret_ok):
            raise AuthenticationError(message, status=401, code=AUTH_CODE)
