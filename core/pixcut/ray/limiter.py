"""The cluster-wide limit on cloud requests in flight: one Ray actor every worker asks for a slot.

The provider asks batch clients to start with at most 5 parallel requests, add one
every 5 minutes, and not go above 100 without contacting them. On one machine
``pixcut.batch`` does this with threads; on a cluster the requests come from many
processes on many machines, so the count has to live in one place: an async Ray
actor holding the slots. A slot is held for the whole ``backend.remove`` call,
including that request's own 429 back-off (5 s, 10 s, 15 s... per request, as the
cloud client does today), since a backing-off request is still a thread to the
provider.

A worker that dies while holding a slot cannot give it back, so every slot is a
lease: it expires after ``lease`` seconds (default: longer than a request with all
its retries may take) and is reclaimed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from pixcut.backends import Backend, ImageInput
from pixcut.batch import MAX_JOBS, RAMP_INITIAL, RAMP_INTERVAL
from pixcut.options import RemovalOptions
from pixcut.result import RemovalResult

DEFAULT_LEASE = 3600.0


def ramp_limit(elapsed: float, ceiling: int, initial: int = RAMP_INITIAL, interval: float = RAMP_INTERVAL) -> int:
    """Requests allowed ``elapsed`` seconds after the start: ``initial``, +1 per ``interval``, at most ``ceiling``."""
    ceiling = max(1, min(ceiling, MAX_JOBS))
    if interval <= 0:
        return ceiling
    return max(1, min(ceiling, initial + int(max(0.0, elapsed) // interval)))


class CloudLimiter:
    """Run as an async Ray actor (``ray.remote(CloudLimiter)``); also usable in-process.

    ``acquire`` waits until fewer than ``ramp_limit(now)`` slots are held and returns
    a token for ``release``. ``stats`` reports what it granted (for tests and logs).
    """

    def __init__(
        self,
        ceiling: int,
        initial: int = RAMP_INITIAL,
        interval: float = RAMP_INTERVAL,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        self.ceiling = max(1, min(ceiling, MAX_JOBS))
        self.initial = initial
        self.interval = interval
        self.lease = lease
        self.started = time.monotonic()
        self.held: dict[str, float] = {}  # token -> lease deadline
        self.granted = 0
        self.expired = 0
        self.peak = 0
        self._changed: asyncio.Condition | None = None

    def limit(self) -> int:
        return ramp_limit(time.monotonic() - self.started, self.ceiling, self.initial, self.interval)

    def _reclaim(self) -> None:
        now = time.monotonic()
        for token in [t for t, deadline in self.held.items() if deadline < now]:
            del self.held[token]
            self.expired += 1

    async def acquire(self) -> str:
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            while True:
                self._reclaim()
                if len(self.held) < self.limit():
                    break
                try:  # wake at least every second: the ramp may have stepped up or a lease run out
                    await asyncio.wait_for(self._changed.wait(), timeout=1.0)
                except TimeoutError:
                    pass
            token = uuid.uuid4().hex
            self.held[token] = time.monotonic() + self.lease
            self.granted += 1
            self.peak = max(self.peak, len(self.held))
            return token

    async def release(self, token: str) -> None:
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            self.held.pop(token, None)
            self._changed.notify_all()

    def stats(self) -> dict[str, int]:
        return {
            "limit": self.limit(),
            "in_flight": len(self.held),
            "peak": self.peak,
            "granted": self.granted,
            "expired": self.expired,
        }


class LimitedBackend:
    """A backend whose every ``remove`` holds one slot of a ``CloudLimiter`` actor."""

    def __init__(self, inner: Backend, limiter: Any, get: Callable[[Any], Any]) -> None:
        self.inner = inner
        self.name = inner.name
        self.limiter = limiter  # an actor handle
        self._get = get  # ray.get, passed in so this module imports without Ray

    def remove(self, source: ImageInput, options: RemovalOptions) -> RemovalResult:
        token = self._get(self.limiter.acquire.remote())
        try:
            return self.inner.remove(source, options)
        finally:
            self.limiter.release.remote(token)
