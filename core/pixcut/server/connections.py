"""Connection-level limits for ``pixcut serve``: the uvicorn settings, and the one piece uvicorn lacks.

uvicorn's own settings do most of it (chosen over hand-written code):

- ``limit_concurrency``: at most ``max_connections`` open connections/tasks; beyond that uvicorn
  answers 503 at once, so slow clients cannot exhaust file descriptors;
- ``timeout_keep_alive``: an idle keep-alive connection is closed after ``keep_alive`` seconds;
- ``timeout_graceful_shutdown``: SIGTERM/Ctrl-C waits at most ``shutdown_timeout`` seconds for
  in-flight requests, so one trickling client cannot keep a stopped server alive;
- ``h11_max_incomplete_event_size``: request headers are capped at 16 KiB.

uvicorn has no deadline for *receiving* a request (a client sending one byte per second holds
its connection forever), so :func:`deadline_protocol` adds one: from the moment a connection
opens (or its previous response completes) the request's headers and body must arrive within
``request_timeout`` seconds, else the client gets a 408 error JSON and the connection is closed.
The deadline stops once the request is fully received: waiting for a worker and the removal
itself are not limited by it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from pixcut.server.config import ServeConfig
from pixcut.server.errors import RequestTimeoutError, error_body

MAX_HEADER_BYTES = 16 * 1024
logger = logging.getLogger("pixcut.server")


def deadline_protocol(request_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a request-receive deadline of ``request_timeout`` seconds."""

    class RequestDeadlineProtocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)  # a TCP connection, as uvicorn's h11 protocol expects
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
                self._disarm()  # the request is in (or the connection is ending): no deadline for the work

        def on_response_complete(self) -> None:
            self._arm()  # the next request on this connection gets its own deadline
            super().on_response_complete()  # may start (and disarm for) a pipelined request

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(request_timeout, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            started = self.cycle is not None and self.cycle.response_started
            if not started:
                error = RequestTimeoutError(f"The request was not received within {request_timeout:g} s")
                body = json.dumps(error_body(408, int(error.code or 0), error.message)).encode()
                head = (
                    "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
                )
                self.transport.write(head.encode("ascii") + body)
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
            logger.info("closed the connection of %s: no complete request within %g s", client, request_timeout)
            self.transport.close()

    return RequestDeadlineProtocol


def uvicorn_config(app: Any, config: ServeConfig, **overrides: Any) -> uvicorn.Config:
    """The uvicorn settings of ``pixcut serve`` (also what the tests run), from ``config``."""
    settings: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "log_level": config.log_level,
        "http": deadline_protocol(config.request_timeout),
        "limit_concurrency": config.max_connections,
        "timeout_keep_alive": config.keep_alive,
        "timeout_graceful_shutdown": config.shutdown_timeout,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "server_header": False,
    }
    settings.update(overrides)
    return uvicorn.Config(app, **settings)
