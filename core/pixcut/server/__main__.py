"""``python -m pixcut.server``: the same as ``pixcut serve`` (same parser, same defaults)."""

from __future__ import annotations

import argparse
import sys

from pixcut.allocator import tune_allocator
from pixcut.server.cli import add_parser


def main(argv: list[str] | None = None) -> int:
    tune_allocator()  # as ``pixcut`` does: this process is the server's
    parser = argparse.ArgumentParser(prog="python -m pixcut.server")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
