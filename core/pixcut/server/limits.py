"""Bounded concurrent removals with a short queue; beyond it, 429 with ``Retry-After``.

A removal is CPU-bound and holds a decoded image in memory, so the server runs at
most ``workers`` of them at once (each in a worker thread, off the event loop) and
lets at most ``queue`` more wait. A request that would exceed that is refused
immediately instead of piling up: the client backs off (the API's documented 429
behaviour) and memory stays bounded. ``Retry-After`` is estimated from the recent
average removal time.

All counters are touched only from the event loop thread, so they need no lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
import anyio.to_thread

from pixcut.server.errors import OverloadedError

T = TypeVar("T")


class Ticket:
    """An admitted request: counted as queued until it gets a worker, then as busy."""

    def __init__(self, limiter: RemovalLimiter) -> None:
        self._limiter = limiter

    async def run(self, func: Callable[..., T], *args: object) -> T:
        """Wait for a worker, then run ``func(*args)`` in a thread. Cancellation never abandons
        the thread: a graceful shutdown waits for it, and the slot is released only when it ends."""
        limiter = self._limiter
        async with limiter.slots:
            limiter.queued -= 1
            limiter.busy += 1
            started = anyio.current_time()
            try:
                return await anyio.to_thread.run_sync(lambda: func(*args), limiter=limiter.threads)
            finally:
                limiter.record(anyio.current_time() - started)
                limiter.busy -= 1
                limiter.queued += 1  # balanced by admit()'s exit


class RemovalLimiter:
    """``workers`` removals at a time, ``queue`` more waiting, the rest refused."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self.busy = 0
        self.queued = 0
        self.average_seconds = 1.0
        self._slots: anyio.Semaphore | None = None
        self._threads: anyio.CapacityLimiter | None = None

    # Created on first use: anyio primitives belong to the running event loop.
    @property
    def slots(self) -> anyio.Semaphore:
        if self._slots is None:
            self._slots = anyio.Semaphore(self.workers)
        return self._slots

    @property
    def threads(self) -> anyio.CapacityLimiter:
        if self._threads is None:
            self._threads = anyio.CapacityLimiter(self.workers)
        return self._threads

    def record(self, seconds: float) -> None:
        """Exponentially weighted mean of removal times, for ``Retry-After``."""
        self.average_seconds = 0.8 * self.average_seconds + 0.2 * max(0.0, seconds)

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[Ticket]:
        """Take a queue place or raise ``OverloadedError`` (429) at once."""
        if self.busy + self.queued >= self.workers + self.queue:
            waves = (self.busy + self.queued) / self.workers
            raise OverloadedError(
                f"The server is busy ({self.busy} removals running, {self.queued} queued); retry later",
                retry_after=self.average_seconds * max(1.0, waves),
            )
        self.queued += 1
        try:
            yield Ticket(self)
        finally:
            self.queued -= 1
