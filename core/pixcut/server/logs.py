"""Rate-limited logging for ``pixcut serve``: a flood of identical lines costs one line, not 500 MB.

A misbehaving client (or 300 of them) can make uvicorn and the app log the same line thousands of
times a second. :class:`RepeatFilter` lets the first ``burst`` identical lines of a ``window``
through, drops the rest, and notes how many were dropped on the next line it lets through.
"Identical" ignores client port numbers, which differ on every connection.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

_PORT = re.compile(r":\d{2,5}\b")
SERVER_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "pixcut.server")


class RepeatFilter(logging.Filter):
    """Let at most ``burst`` identical records per ``window`` seconds through."""

    def __init__(
        self, window: float = 10.0, burst: int = 3, max_keys: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.clock = clock
        self.window = window
        self.burst = burst
        self.max_keys = max_keys
        self._seen: dict[tuple[str, int, str], tuple[float, int, int]] = {}  # key -> (start, passed, dropped)
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, _PORT.sub(":*", record.getMessage()))
        now = self.clock()
        with self._lock:
            start, passed, dropped = self._seen.get(key, (now, 0, 0))
            if now - start >= self.window:
                if dropped:
                    record.msg = f"{record.msg} ({dropped} identical lines suppressed in the last {self.window:g} s)"
                start, passed, dropped = now, 0, 0
            if passed >= self.burst:
                self._seen[key] = (start, passed, dropped + 1)
                return False
            if len(self._seen) >= self.max_keys and key not in self._seen:
                self._seen.clear()  # bounded memory: forget old keys rather than grow
            self._seen[key] = (start, passed + 1, dropped)
            return True


def install_repeat_filter(window: float = 10.0, burst: int = 3) -> RepeatFilter:
    """Attach one shared filter to every handler of the server's loggers (call after uvicorn set them up)."""
    shared = RepeatFilter(window, burst)
    for name in SERVER_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(existing, RepeatFilter) for existing in handler.filters):
                handler.addFilter(shared)
    return shared
