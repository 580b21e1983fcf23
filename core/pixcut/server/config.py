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
DEFAULT_WORKERS = 2
DEFAULT_QUEUE = 8
DEFAULT_MAX_BODY_MB = 50.0
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
    log_level: str = "info"
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

    @property
    def auth_required(self) -> bool:
        return self.api_id is not None
