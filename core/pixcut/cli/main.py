"""Entry point: builds the parser from the subcommand modules and maps errors to exit codes.

Exit codes: 0 success, 1 some inputs failed, 2 usage or option errors, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pixcut import __version__
from pixcut.allocator import tune_allocator
from pixcut.cli.reporting import error_text
from pixcut.errors import OptionsError, PixcutError, describe_exception

SUBCOMMANDS = (
    "pixcut.cli.remove",
    "pixcut.server.cli",
    "pixcut.cli.config_cmd",
    "pixcut.cli.models_cmd",
    "pixcut.cli.hosts_cmd",
    "pixcut.cli.plugins_cmd",
    "pixcut.cli.doctor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pixcut",
        description="Remove image backgrounds offline (default) or with the Pixian.AI API v2.",
    )
    parser.add_argument("--version", action="version", version=f"pixcut {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    tune_allocator()  # this process is pixcut's: keep freed image memory for the next image
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("pixcut: interrupted", file=sys.stderr)
        return 130
    except PixcutError as exc:
        print(f"pixcut: error: {error_text(exc.to_json())}", file=sys.stderr)
        return 2 if isinstance(exc, OptionsError) else 1
    except MemoryError as exc:  # one line, never an empty message or a traceback
        print(f"pixcut: error: {error_text(describe_exception(exc))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
