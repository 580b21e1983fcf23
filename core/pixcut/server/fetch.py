"""``image.url``: fetch the input image without letting a client reach internal services.

The rules (each hop of a redirect chain is checked again):

- only ``http`` and ``https`` URLs, without user:password;
- the host is resolved once and *every* resolved address must be public
  (``ipaddress``: not private, loopback, link-local, multicast, reserved,
  unspecified or otherwise non-global; IPv4-mapped IPv6 is unwrapped first);
- the connection goes to the address that was checked (the Host header and, for
  https, SNI and certificate verification keep the original name), so a DNS answer
  that changes between check and connect (DNS rebinding) cannot redirect it;
- at most ``max_redirects`` redirects, a size cap on the body, and an overall deadline.

The refusal happens before any socket is opened to the refused address. This
module is blocking; the app runs it in a worker thread.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3

from pixcut.server.errors import UrlFetchError, UrlRefusedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "pixcut-serve/0.1 (image.url fetch)"


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch. ``address_allowed`` is the address rule (replaceable only in code)."""

    max_bytes: int
    max_redirects: int = 3
    connect_timeout: float = 5.0
    total_timeout: float = 15.0
    address_allowed: Callable[[IPAddress], bool] = field(default=is_public_address)


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to ask for."""

    scheme: str
    host: str
    port: int
    address: str
    path: str
    host_header: str


def resolve_target(url: str, policy: FetchPolicy) -> Target:
    """Parse and check ``url``; raise ``UrlRefusedError`` unless every resolved address is allowed."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UrlRefusedError("image.url: not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefusedError(f"image.url: only http and https URLs are fetched, not {scheme or 'none'!r}")
    if parts.username is not None or parts.password is not None:
        raise UrlRefusedError("image.url: URLs with user:password are not fetched")
    host = parts.hostname
    if not host:
        raise UrlRefusedError("image.url: the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UrlFetchError(f"image.url: cannot resolve {host!r} ({exc})") from None
        addresses = []
        for info in infos:
            candidate = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if candidate not in addresses:
                addresses.append(candidate)
        if not addresses:
            raise UrlFetchError(f"image.url: {host!r} has no address")
    for address in addresses:
        if not policy.address_allowed(address):
            raise UrlRefusedError(
                f"image.url: refusing to fetch from {host!r}: it resolves to a private, loopback, "
                f"link-local or reserved address"
            )
    default_port = 443 if scheme == "https" else 80
    host_for_header = f"[{host}]" if ":" in host else host
    host_header = host_for_header if port == default_port else f"{host_for_header}:{port}"
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, host, port, str(addresses[0]), path, host_header)


def _pool(target: Target, policy: FetchPolicy, remaining: float) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(connect=min(policy.connect_timeout, remaining), read=max(0.1, remaining))
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, maxsize=1, retries=False)


def fetch_url(url: str, policy: FetchPolicy) -> bytes:
    """The body of ``url`` after the checks above; raises ``UrlRefusedError`` / ``UrlFetchError``."""
    deadline = time.monotonic() + policy.total_timeout
    current = url
    for _hop in range(policy.max_redirects + 1):
        target = resolve_target(current, policy)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise UrlFetchError("image.url: timed out")
        pool = _pool(target, policy, remaining)
        try:
            response = pool.urlopen(
                "GET",
                target.path,
                headers={
                    "Host": target.host_header,
                    "User-Agent": USER_AGENT,
                    "Accept": "image/*",
                    "Accept-Encoding": "identity",  # the size cap is then the bytes on the wire
                },
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            pool.close()
            raise UrlFetchError(f"image.url: could not fetch the image ({type(exc).__name__})") from None
        try:
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise UrlFetchError(f"image.url: HTTP {response.status} without a Location")
                current = urljoin(current, location)
                continue
            if response.status != 200:
                raise UrlFetchError(f"image.url: the image server answered HTTP {response.status}")
            return _read_capped(response, policy.max_bytes, deadline)
        finally:
            response.release_conn()
            pool.close()
    raise UrlRefusedError(f"image.url: more than {policy.max_redirects} redirects")


def _read_capped(response: urllib3.BaseHTTPResponse, limit: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise UrlFetchError(f"image.url: the image is larger than {limit:,} bytes")
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            # read1: at most one socket read, so a slow-drip server meets the deadline check.
            chunk = response.read1(64 * 1024)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise UrlFetchError(f"image.url: the image is larger than {limit:,} bytes")
            if time.monotonic() > deadline:
                raise UrlFetchError("image.url: timed out")
            chunks.append(chunk)
    except urllib3.exceptions.HTTPError as exc:
        raise UrlFetchError(f"image.url: could not fetch the image ({type(exc).__name__})") from None
    return b"".join(chunks)
