"""``pixcut hosts install|uninstall gimp|krita``: put the host plug-ins where GIMP and Krita look.

"Host" plug-ins are the GIMP 3 and Krita 5 add-ons that run the ``pixcut`` executable;
they are not pluggy plug-ins (those are ``pixcut plugins``). The installers themselves
live in ``pixcut.hosts``; this module is only the command layer, shared by the old
spelling ``pixcut plugins install|uninstall`` (kept as an alias).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pixcut.hosts import gimp, krita

HOSTS = ("gimp", "krita")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "hosts",
        help="install or remove the GIMP 3 / Krita 5 plug-ins",
        description="Install or remove the GIMP 3 / Krita 5 plug-ins (they run this pixcut executable).",
    )
    add_actions(p.add_subparsers(dest="hosts_command", metavar="ACTION", required=True))


def add_actions(sub: argparse._SubParsersAction[argparse.ArgumentParser], note: str = "") -> None:
    """The ``install`` and ``uninstall`` actions (also mounted under ``pixcut plugins``, with a ``note``)."""
    install = sub.add_parser("install", help="install a host plug-in and record where pixcut is" + note)
    install.add_argument("host", choices=HOSTS)
    install.add_argument("--dest", type=Path, help="the host's plug-in folder (default: the user's)")
    install.add_argument("--link", action="store_true", help="symlink instead of copying (for development)")
    install.set_defaults(func=run_install)
    uninstall = sub.add_parser("uninstall", help="remove a host plug-in" + note)
    uninstall.add_argument("host", choices=HOSTS)
    uninstall.add_argument("--dest", type=Path, help="the host's plug-in folder (default: the user's)")
    uninstall.set_defaults(func=run_uninstall)


def run_install(args: argparse.Namespace) -> int:
    installer = gimp.install if args.host == "gimp" else krita.install
    where = installer(dest=args.dest, link=args.link)
    print(f"installed the {args.host} plug-in at {where}")
    return 0


def run_uninstall(args: argparse.Namespace) -> int:
    uninstaller = gimp.uninstall if args.host == "gimp" else krita.uninstall
    removed = uninstaller(dest=args.dest)
    if removed:
        for path in removed:
            print(f"removed {path}")
    else:
        print(f"the {args.host} plug-in was not installed")
    return 0
