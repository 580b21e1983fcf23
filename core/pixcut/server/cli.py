"""``pixcut serve``: the subcommand's parser and runner, owned by the server package.

``pixcut.cli.main`` registers it like any other subcommand and ``python -m pixcut.server``
uses the same parser, so ``server/`` never imports from ``cli/``. FastAPI and uvicorn are
imported inside ``run`` so ``pixcut --help`` (and every other subcommand) works without the
``server`` extra. Credentials come from the flags or from PIXCUT_SERVE_API_ID /
PIXCUT_SERVE_API_SECRET (preferred: flags are visible to other users in the process list);
they are never printed or logged.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from pixcut.config import add_model_arguments
from pixcut.errors import PixcutError
from pixcut.options import RUNTIMES

INSTALL_HINT = "pip install 'pixcut[server]'"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` subcommand; ``func`` is :func:`run`."""
    from pixcut.server.config import (
        DEFAULT_HOST,
        DEFAULT_KEEP_ALIVE,
        DEFAULT_MAX_BODY_MB,
        DEFAULT_MAX_CONNECTIONS,
        DEFAULT_PORT,
        DEFAULT_QUEUE,
        DEFAULT_REQUEST_TIMEOUT,
        DEFAULT_SHUTDOWN_TIMEOUT,
        DEFAULT_WORKERS,
        ENV_API_ID,
        ENV_API_SECRET,
    )

    p = subparsers.add_parser(
        "serve",
        help="run a Pixian API v2 compatible HTTP server on the offline engine",
        description=(
            "Serve POST /api/v2/remove-background (the Pixian.AI API v2) and GET /healthz on the "
            "offline engine. Interactive API docs at /docs. Needs the server extra: " + INSTALL_HINT
        ),
    )
    net = p.add_argument_group("network")
    net.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    net.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    net.add_argument(
        "--api-id",
        default=os.environ.get(ENV_API_ID),
        metavar="ID",
        help=f"require HTTP Basic auth with this API Id (default: ${ENV_API_ID}; none = no auth)",
    )
    net.add_argument(
        "--api-secret",
        default=os.environ.get(ENV_API_SECRET),
        metavar="SECRET",
        help=f"the API Secret for --api-id (default: ${ENV_API_SECRET}, preferred over the flag)",
    )
    lim = p.add_argument_group("limits")
    lim.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"removals running at once, each in a thread (default {DEFAULT_WORKERS})",
    )
    lim.add_argument(
        "--queue",
        type=int,
        default=DEFAULT_QUEUE,
        metavar="N",
        help=f"requests allowed to wait for a worker; beyond: 429 + Retry-After (default {DEFAULT_QUEUE})",
    )
    lim.add_argument(
        "--max-body-mb",
        type=float,
        default=DEFAULT_MAX_BODY_MB,
        metavar="MB",
        help=f"largest request body, larger is 413 (default {DEFAULT_MAX_BODY_MB:g})",
    )
    lim.add_argument(
        "--max-connections",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help=f"open connections at most; beyond: 503 at once (default {DEFAULT_MAX_CONNECTIONS})",
    )
    lim.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="S",
        help=f"seconds to receive a request's headers and body; then 408 (default {DEFAULT_REQUEST_TIMEOUT:g})",
    )
    lim.add_argument(
        "--keep-alive",
        type=int,
        default=DEFAULT_KEEP_ALIVE,
        metavar="S",
        help=f"seconds an idle keep-alive connection stays open (default {DEFAULT_KEEP_ALIVE})",
    )
    lim.add_argument(
        "--shutdown-timeout",
        type=float,
        default=DEFAULT_SHUTDOWN_TIMEOUT,
        metavar="S",
        help=f"on SIGTERM/Ctrl-C, wait at most S seconds for in-flight requests (default {DEFAULT_SHUTDOWN_TIMEOUT:g})",
    )
    lim.add_argument(
        "--allow-url-fetch",
        action="store_true",
        help="accept image.url (http/https to public addresses only; off by default)",
    )
    eng = p.add_argument_group("engine")
    add_model_arguments(eng)
    eng.add_argument("--threads", type=int, help="inference threads per request (default: all cores)")
    eng.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=None,
        help="inference runtime (default: $PIXCUT_RUNTIME, else auto: ncnn for U^2-Net models on a CPU, "
        "as in the CLI; figures in docs/server.md)",
    )
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="server log level (default info)")
    p.add_argument("--open", action="store_true", help="open the web page (/) in your browser once the server is up")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start uvicorn with the app; returns when it has shut down gracefully (Ctrl+C / SIGTERM)."""
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
        import uvicorn
    except ImportError as exc:
        print(
            f"pixcut serve: missing dependency {exc.name!r}; install the server extra: {INSTALL_HINT}", file=sys.stderr
        )
        return 2
    from pixcut.server.app import create_app
    from pixcut.server.config import ServeConfig

    try:
        config = ServeConfig(
            host=args.host,
            port=args.port,
            api_id=args.api_id or None,
            api_secret=args.api_secret or None,
            workers=args.workers,
            queue=args.queue,
            max_body_bytes=int(args.max_body_mb * 1024 * 1024),
            allow_url_fetch=args.allow_url_fetch,
            model=args.model,
            model_family=args.model_family,
            threads=args.threads,
            runtime=args.runtime,
            log_level=args.log_level,
            max_connections=args.max_connections,
            request_timeout=args.request_timeout,
            keep_alive=args.keep_alive,
            shutdown_timeout=args.shutdown_timeout,
        )
    except PixcutError as exc:
        print(f"pixcut serve: error: {exc.message}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    from pixcut.server.connections import uvicorn_config
    from pixcut.server.logs import install_repeat_filter

    server = uvicorn.Server(uvicorn_config(create_app(config), config))
    install_repeat_filter()  # after uvicorn has set up its log handlers
    if args.open:
        from pixcut.server.web import open_when_started

        open_when_started(server, config.host, config.port)
    try:
        server.run()
    except PixcutError as exc:  # e.g. the model cannot be loaded at start-up
        print(f"pixcut serve: error: {exc.message}", file=sys.stderr)
        return 1
    return 0 if server.started else 1
