"""``pixcut config``: credentials and defaults in the user's config file (mode 0600).

The secret is read with getpass (or from standard input for scripts) and never
printed back.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from pixcut.config import MODEL_FAMILIES, config_path, load_config, update_config
from pixcut.errors import OptionsError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("config", help="credentials and defaults", description=__doc__)
    sub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)

    creds = sub.add_parser("set-credentials", help="store the Pixian API id and secret (never echoed)")
    creds.add_argument("--api-id", help="the API id (asked for when missing)")
    creds.add_argument("--secret-stdin", action="store_true", help="read the secret from standard input")
    creds.set_defaults(func=set_credentials)

    clear = sub.add_parser("clear-credentials", help="remove the stored credentials")
    clear.set_defaults(func=clear_credentials)

    backend = sub.add_parser("set-backend", help="the default backend: local (offline) or pixian")
    backend.add_argument("backend", choices=("local", "pixian"))
    backend.add_argument("--endpoint", help="default endpoint for the pixian backend")
    backend.set_defaults(func=set_backend)

    model = sub.add_parser("set-model", help="the default offline model (every command, serve, the API, doctor)")
    model.add_argument("model", metavar="NAME", help="a catalogue name (pixcut models list) or an .onnx path")
    model.add_argument("--model-family", choices=MODEL_FAMILIES, help="the family of an .onnx file")
    model.set_defaults(func=set_model)

    clear_model = sub.add_parser("clear-model", help="back to the built-in default model (u2netp)")
    clear_model.set_defaults(
        func=lambda args: print(f"default model: u2netp ({update_config(model=None, model_family=None)})") or 0
    )

    show = sub.add_parser("show", help="show the configuration (the secret is masked)")
    show.set_defaults(func=show_config)

    path = sub.add_parser("path", help="print the config file's path")
    path.set_defaults(func=lambda args: print(config_path()) or 0)


def set_credentials(args: argparse.Namespace) -> int:
    try:
        api_id = args.api_id or input("Pixian API id: ").strip()
        if args.secret_stdin:
            secret = sys.stdin.readline().strip()
        else:
            secret = getpass.getpass("Pixian API secret (not shown): ").strip()
    except EOFError:  # Ctrl-D or a closed standard input: nothing stored, one line, exit 2
        print(file=sys.stderr)
        raise OptionsError("no credentials given (end of input); nothing was stored") from None
    if not api_id or not secret:
        raise OptionsError("both the API id and the secret are needed")
    path = update_config(api_id=api_id, api_secret=secret)
    print(f"credentials saved to {path} (mode 0600)")
    return 0


def clear_credentials(args: argparse.Namespace) -> int:
    path = update_config(api_id=None, api_secret=None)
    print(f"credentials removed from {path}")
    return 0


def set_backend(args: argparse.Namespace) -> int:
    path = update_config(backend=args.backend, endpoint=args.endpoint)
    print(f"default backend: {args.backend} ({path})")
    return 0


def set_model(args: argparse.Namespace) -> int:
    """Check the choice the way the engine will (catalogue name, or a file with a declared family)."""
    from pixcut.backends.local import engine_module

    engine_module()  # a ModelError naming what to install on a base install
    from pixcut.engine.models import catalogue, installed_file, resolve_model

    known = catalogue()
    spec = known.get(args.model)
    if spec is not None:
        if args.model_family and args.model_family != spec.family:
            raise OptionsError(f"{spec.name} is a {spec.family} model; --model-family only applies to .onnx files")
        value, family = spec.name, None
        if installed_file(spec) is None:
            print(f"note: {spec.name} is not installed yet: pixcut models pull {spec.name}")
    else:
        resolved = resolve_model(args.model, family=args.model_family)  # refuses an undeclared file
        value, family = str(resolved.path), args.model_family
    path = update_config(model=value, model_family=family)
    print(f"default model: {value}{f' [{family}]' if family else ''} ({path})")
    return 0


def show_config(args: argparse.Namespace) -> int:
    config = load_config()
    print(f"# {config_path()}")
    for key in sorted(config):
        value = "***" if key == "api_secret" else config[key]
        print(f"{key} = {value}")
    return 0
