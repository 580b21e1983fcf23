"""``pixcut doctor``: what works on this machine, and what to do about what does not.

The first thing to ask when a GIMP or Krita user says "nothing happens": the plug-ins run
pixcut as a separate program, so a missing model, a half-done install or absent credentials
show up here with the same fix-it messages the engine and the client would give. It never
contacts the network and never prints a secret.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pixcut import __version__
from pixcut.backends.pixian import DEFAULT_ENDPOINT
from pixcut.config import config_path, load_config
from pixcut.credentials import ENV_ID, ENV_SECRET, find_credentials
from pixcut.errors import PixcutError
from pixcut.hosts import gimp, krita
from pixcut.hosts.common import LOCATION_FILE, read_location
from pixcut.plugins import get_backends

OK, PROBLEM, INFO = "ok", "problem", "info"


@dataclass
class Check:
    name: str
    status: str  # OK, PROBLEM or INFO (a fact, neither good nor bad)
    detail: str


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="check the offline engine, credentials and host plug-ins",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", help="check this model instead of the default (name or .onnx path)")
    p.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    checks = [
        Check("pixcut", INFO, f"{__version__} (Python {sys.version.split()[0]}, {sys.executable})"),
        check_backends(),
        check_engine(args.model),
        *check_cloud(),
        check_gimp(),
        check_krita(),
    ]
    if args.json:
        print(json.dumps({"checks": [asdict(c) for c in checks], "ok": not _problems(checks)}))
    else:
        for check in checks:
            print(f"{check.status:<8} {check.name:<12} {check.detail}")
    return 1 if _problems(checks) else 0


def _problems(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == PROBLEM]


def _guard(name: str, probe: Callable[[], Check]) -> Check:
    """A failing probe becomes a PROBLEM line with its message, never a traceback."""
    try:
        return probe()
    except PixcutError as exc:
        return Check(name, PROBLEM, exc.message)
    except Exception as exc:  # a doctor that crashes is no help
        return Check(name, PROBLEM, f"{type(exc).__name__}: {exc}")


def check_backends() -> Check:
    return _guard("backends", lambda: Check("backends", INFO, ", ".join(sorted(get_backends()))))


def check_engine(model: str | None) -> Check:
    """Resolve and verify the model, load it, and cut out a small generated image."""

    def probe() -> Check:
        from PIL import Image, ImageDraw

        from pixcut.backends.local import engine_module

        module = engine_module()
        resolved = module.resolve_model(model)
        engine = module.get_engine(model)
        image = Image.new("RGB", (160, 120), (235, 235, 230))
        ImageDraw.Draw(image).ellipse((50, 25, 110, 95), fill=(180, 40, 30))
        started = time.perf_counter()
        alpha = engine.predict_alpha(image)
        elapsed = time.perf_counter() - started
        if alpha.size != image.size:
            return Check("engine", PROBLEM, f"the model answered with a {alpha.size} mask for a {image.size} image")
        checked_sources = ("wheel", "download") + (("model-dir",) if resolved.spec.sha256 else ())
        verified = resolved.source in checked_sources
        return Check(
            "engine",
            OK,
            f"{engine.model_name} ({resolved.path}, from {resolved.source}"
            f"{', sha256 verified' if verified else ''}) on {engine.provider}; a test cut took {elapsed:.2f} s",
        )

    return _guard("engine", probe)


def check_cloud() -> list[Check]:
    """The default backend, and whether credentials exist and where they come from."""
    config = load_config()
    default = config.get("backend") or "local"
    endpoint = config.get("endpoint")
    where = f" at {endpoint}" if endpoint else ""
    checks = [Check("default", INFO, f"backend {default}{where} (config: {config_path()})")]
    credentials = find_credentials(endpoint or DEFAULT_ENDPOINT)  # what the cloud backend would ask
    if credentials is None:
        status = PROBLEM if default == "pixian" else INFO
        detail = "no Pixian credentials (only needed for the cloud: pixcut config set-credentials)"
    else:
        source = "environment" if os.environ.get(ENV_ID) and os.environ.get(ENV_SECRET) else "config or a plug-in"
        status, detail = OK, f"Pixian credentials for API id {credentials.api_id!r} (from the {source})"
    checks.append(Check("credentials", status, detail))
    return checks


def _installed(name: str, folder: Path) -> Check:
    """A host plug-in folder: installed or not, and whether the pixcut it points at still exists."""
    if not folder.exists():
        return Check(name, INFO, f"not installed in {folder.parent} (pixcut plugins install {name})")
    executable = read_location(folder)
    if executable is None:
        return Check(name, PROBLEM, f"{folder} has no readable {LOCATION_FILE}: run pixcut plugins install {name}")
    program = shlex.split(executable)[0] if executable.strip() else ""  # may be "PYTHON -m pixcut"
    if not program or not Path(program).exists():
        fix = f"run pixcut plugins install {name}"
        return Check(name, PROBLEM, f"{folder} points at {executable}, which is gone: {fix}")
    return Check(name, OK, f"installed in {folder}, using {executable}")


def check_gimp() -> Check:
    return _guard("gimp", lambda: _installed("gimp", gimp.default_dest() / gimp.PLUGIN_NAME))


def check_krita() -> Check:
    def probe() -> Check:
        check = _installed("krita", krita.default_dest() / krita.PLUGIN_NAME)
        if check.status != OK:
            return check
        kritarc = krita.default_kritarc()
        if not krita.is_enabled(kritarc):
            return Check("krita", PROBLEM, f"installed but not enabled in {kritarc}: run pixcut plugins install krita")
        return check

    return _guard("krita", probe)
