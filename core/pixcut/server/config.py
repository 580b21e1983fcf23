"""The settings of one ``pixcut serve`` instance.

Kept free of web-framework imports so the CLI can build and validate it before
importing FastAPI, and so tests can build servers with different limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pixcut.errors import OptionsError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_QUEUE = 8
#: Two removals at once, on ncnn as on ONNX Runtime. With u2netp on 2 cores against ``rembg s``,
#: 1 MP uploads at 1 / 4 / 16 clients: ncnn with 2 workers 1.14x / 1.32x / 1.49x the req/s, p99
#: 0.94x / 0.69x / 0.51x, peak 1149 MiB; ncnn with 1 worker 1.05-1.16x / 1.06-1.14x / 1.18-1.28x in
#: 720 MiB; ONNX Runtime with 2 workers 0.93x / 0.92x / 0.97x in 784 MiB.
DEFAULT_WORKERS = 2
DEFAULT_MAX_BODY_MB = 50.0
# Connection-level limits (uvicorn settings, see pixcut.server.connections).
DEFAULT_MAX_CONNECTIONS = 100  # open connections + tasks; beyond: uvicorn's 503 without reading the request
DEFAULT_REQUEST_TIMEOUT = 60.0  # seconds to receive one request's headers and body; then 408 and close
DEFAULT_KEEP_ALIVE = 5  # seconds an idle keep-alive connection is kept open
DEFAULT_SHUTDOWN_TIMEOUT = 30.0  # seconds SIGTERM/Ctrl-C waits for in-flight requests before closing them
ENV_API_ID = "PIXCUT_SERVE_API_ID"
ENV_API_SECRET = "PIXCUT_SERVE_API_SECRET"


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``create_app`` needs.

    ``api_secret`` is excluded from ``repr`` so a logged or printed config never
    shows it. ``backend`` lets an embedding program (or a test) supply its own
    backend object; by default the offline ``local`` backend is built from
    ``model`` and ``threads``.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    api_id: str | None = None
    api_secret: str | None = field(default=None, repr=False)
    workers: int = DEFAULT_WORKERS
    queue: int = DEFAULT_QUEUE
    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * 1024 * 1024)
    allow_url_fetch: bool = False
    url_max_redirects: int = 3
    url_timeout: float = 15.0
    model: str | None = None
    model_family: str | None = None
    threads: int | None = None
    runtime: str | None = None  # as in the CLI and the API: PIXCUT_RUNTIME, else auto (ncnn for U^2-Net on a CPU)
    log_level: str = "info"
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    keep_alive: int = DEFAULT_KEEP_ALIVE
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    backend: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.api_id is None) != (self.api_secret is None) or self.api_id == "" or self.api_secret == "":
            raise OptionsError("serve: give both --api-id and --api-secret (or neither: no authentication)")
        if self.api_id is not None and ":" in self.api_id:
            raise OptionsError("serve: --api-id must not contain ':' (HTTP Basic uses it as the separator)")
        if self.workers < 1:
            raise OptionsError(f"serve: --workers must be at least 1, got {self.workers}")
        if self.queue < 0:
            raise OptionsError(f"serve: --queue must be 0 or more, got {self.queue}")
        if self.max_body_bytes < 1024:
            raise OptionsError(f"serve: --max-body-mb is too small ({self.max_body_bytes} bytes)")
        if not 0 <= self.port <= 65535:
            raise OptionsError(f"serve: --port must be 0..65535, got {self.port}")
        if self.max_connections < self.workers + self.queue + 1:
            raise OptionsError(
                f"serve: --max-connections must exceed --workers + --queue ({self.workers + self.queue}), "
                f"got {self.max_connections}"
            )
        for name, value in (
            ("--request-timeout", self.request_timeout),
            ("--keep-alive", self.keep_alive),
            ("--shutdown-timeout", self.shutdown_timeout),
        ):
            if not 0 < value <= 3600:
                raise OptionsError(f"serve: {name} must be more than 0 and at most 3600 seconds, got {value:g}")

    @property
    def auth_required(self) -> bool:
        return self.api_id is not None
