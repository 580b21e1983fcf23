"""``pixcut plugins install|uninstall gimp|krita``: put the host plug-ins where GIMP and Krita look."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

HOSTS = ("gimp", "krita")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("plugins", help="install the GIMP 3 / Krita 5 plug-ins")
    sub = p.add_subparsers(dest="plugins_command", metavar="ACTION", required=True)
    install = sub.add_parser("install", help="install a host plug-in and record where pixcut is")
    install.add_argument("host", choices=HOSTS)
    install.add_argument("--dest", type=Path, help="the host's plug-in folder (default: the user's)")
    install.add_argument("--link", action="store_true", help="symlink instead of copying (for development)")
    install.set_defaults(func=run_install)
    uninstall = sub.add_parser("uninstall", help="remove a host plug-in")
    uninstall.add_argument("host", choices=HOSTS)
    uninstall.add_argument("--dest", type=Path, help="the host's plug-in folder (default: the user's)")
    uninstall.set_defaults(func=run_uninstall)


def run_install(args: argparse.Namespace) -> int:
    host = importlib.import_module(f"pixcut.hosts.{args.host}")
    where = host.install(dest=args.dest, link=args.link)
    print(f"installed the {args.host} plug-in at {where}")
    return 0


def run_uninstall(args: argparse.Namespace) -> int:
    host = importlib.import_module(f"pixcut.hosts.{args.host}")
    removed = host.uninstall(dest=args.dest)
    if removed:
        for path in removed:
            print(f"removed {path}")
    else:
        print(f"the {args.host} plug-in was not installed")
    return 0
