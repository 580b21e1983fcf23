"""``pixcut plugins [list] [--json] [--all]``: the installed pluggy plug-ins and the hooks they implement.

Like ``llm plugins``: third-party packages found through the ``pixcut`` entry-point
group (``--all`` adds pixcut's own default plug-ins). ``pixcut plugins install|uninstall
gimp|krita`` still works as an alias of ``pixcut hosts install|uninstall``, the
unambiguous name for the GIMP/Krita add-ons.
"""

from __future__ import annotations

import argparse
import json

from pixcut.cli import hosts_cmd
from pixcut.plugins import get_plugins


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "plugins",
        help="list installed pixcut plug-ins (install/uninstall: aliases of 'pixcut hosts')",
        description="List installed pixcut plug-ins (pluggy, entry-point group 'pixcut') and their hooks.",
    )
    p.set_defaults(func=run_list, json=False, all=False)
    sub = p.add_subparsers(dest="plugins_command", metavar="ACTION")
    listing = sub.add_parser("list", help="list installed pluggy plug-ins and their hooks (the default action)")
    listing.add_argument("--json", action="store_true", help="one JSON array on stdout")
    listing.add_argument("--all", action="store_true", help="include pixcut's own default plug-ins")
    listing.set_defaults(func=run_list)
    hosts_cmd.add_actions(sub, note=" (alias of 'pixcut hosts')")


def run_list(args: argparse.Namespace) -> int:
    plugins = get_plugins(include_defaults=args.all)
    if args.json:
        print(json.dumps([info.to_json() for info in plugins], indent=2))
        return 0
    if not plugins:
        print("no plug-ins installed (pixcut plugins list --all shows the built-in ones)")
    for info in plugins:
        origin = "built-in" if info.default else f"{info.package or 'registered'} {info.version or ''}".strip()
        print(f"{info.name} ({origin}): {', '.join(info.hooks)}")
    return 0
