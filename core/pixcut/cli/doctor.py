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
from functools import partial
from pathlib import Path

from pixcut import __version__
from pixcut.backends.pixian import DEFAULT_ENDPOINT
from pixcut.config import config_path, load_config, model_choice
from pixcut.credentials import ENV_ID, ENV_SECRET, find_credentials
from pixcut.errors import PixcutError
from pixcut.hosts import gimp, hostkit, krita
from pixcut.hosts.common import LOCATION_FILE, flatpak_home, read_location, stale_files
from pixcut.plugins import get_backends

OK, PROBLEM, INFO = "ok", "problem", "info"


@dataclass
class Check:
    name: str
    status: str  # OK, PROBLEM or INFO (a fact, neither good nor bad)
    detail: str


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        check_cache(),
        *check_cloud(),
        check_gimp(),
        check_krita(),
        *check_flatpaks(),
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
        chosen, family = model_choice(model)  # the flag, else the configured default (pixcut config set-model)
        resolved = module.resolve_model(chosen, family=family)
        engine = module.get_engine(chosen, family=family)
        image = Image.new("RGB", (160, 120), (235, 235, 230))
        ImageDraw.Draw(image).ellipse((50, 25, 110, 95), fill=(180, 40, 30))
        started = time.perf_counter()
        alpha = engine.predict_alpha(image)
        elapsed = time.perf_counter() - started
        if alpha.size != image.size:
            return Check("engine", PROBLEM, f"the model answered with a {alpha.size} mask for a {image.size} image")
        checksum = resolved.spec.checksum()
        verified = resolved.source != "path" and checksum is not None
        where = "--model" if model else ("the config (pixcut config set-model)" if chosen else "the default")
        commercial = "commercial use allowed" if resolved.spec.commercial_use else "commercial use NOT allowed/unclear"
        return Check(
            "engine",
            OK,
            f"{engine.model_name} [{engine.spec.family}] from {where} ({resolved.path}, from {resolved.source}"
            f"{f', {checksum[0]} verified' if verified and checksum else ''}; licence {resolved.spec.licence}, "
            f"{commercial}) on {engine.provider}; a test cut took {elapsed:.2f} s",
        )

    return _guard("engine", probe)


def check_cache() -> Check:
    """Where the engine keeps translated models, and how much they take (after check_engine, so a
    first run's entry is counted)."""

    def probe() -> Check:
        try:
            from pixcut.engine import ncnn_cache
        except ImportError:
            return Check("cache", INFO, "not used (the offline engine is not installed)")
        entries, size = ncnn_cache.usage()
        return Check(
            "cache",
            INFO,
            f"{ncnn_cache.cache_dir()}: {entries} ncnn translation(s), {size / 1e6:.1f} MB "
            "(PIXCUT_CACHE_DIR moves it; safe to delete)",
        )

    return _guard("cache", probe)


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


def _installed(name: str, folder: Path, source: Path) -> Check:
    """A host plug-in folder: installed or not, whether its pixcut still exists, whether the copy is stale.

    Stale means the copy differs from what this pixcut ships (it was left behind by
    ``pip install -U pixcut``); the fix is the one command that refreshes it.
    """
    refresh = hostkit.refresh_command(name)
    if not folder.exists():
        return Check(name, INFO, f"not installed in {folder.parent} ({refresh})")
    location = read_location(folder)
    if location is None:
        return Check(name, PROBLEM, f"{folder} has no readable {LOCATION_FILE}: run {refresh}")
    words = shlex.split(location.executable)
    if not words or not Path(words[0]).exists():  # may be "PYTHON -m pixcut"
        return Check(name, PROBLEM, f"{folder} points at {location.executable}, which is gone: run {refresh}")
    if not folder.is_symlink():
        stale = stale_files(source, folder)
        if stale or location.version != __version__:
            origin = f"pixcut {location.version}" if location.version else "another pixcut"
            changed = f" ({', '.join(stale[:3])}{', ...' if len(stale) > 3 else ''} differ)" if stale else ""
            return Check(
                name, PROBLEM, f"{folder} is a stale copy from {origin}{changed}; this is {__version__}: run {refresh}"
            )
    return Check(name, OK, f"installed in {folder}, using {location.executable}")


def check_gimp() -> Check:
    return _guard("gimp", lambda: _installed("gimp", gimp.default_dest() / gimp.PLUGIN_NAME, gimp.plugin_source()))


def check_krita() -> Check:
    def probe() -> Check:
        check = _installed("krita", krita.default_dest() / krita.PLUGIN_NAME, krita.plugin_sources()[0])
        if check.status != OK:
            return check
        kritarc = krita.default_kritarc()
        if not krita.is_enabled(kritarc):
            return Check(
                "krita", PROBLEM, f"installed but not enabled in {kritarc}: run {hostkit.refresh_command('krita')}"
            )
        return check

    return _guard("krita", probe)


def flatpak_overrides(app_id: str) -> list[Path]:
    """The override files Flatpak merges for an app (user first, then system-wide)."""
    user = Path(os.environ.get("XDG_DATA_HOME", "").strip() or Path.home() / ".local" / "share")
    return [user / "flatpak" / "overrides" / app_id, Path("/var/lib/flatpak/overrides") / app_id]


def check_flatpak(host: str, app_id: str, plugin_folder: Path) -> Check:
    """A Flatpak GIMP/Krita (``~/.var/app/ID`` exists): may it run pixcut on the host, and is the plug-in there?

    A sandboxed host reaches the user's pixcut only through ``flatpak-spawn --host``, which needs
    the app to talk to org.freedesktop.Flatpak: the one override command grants it.
    """
    name = f"{host}-flatpak"
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in flatpak_overrides(app_id) if p.is_file()]
    if not any(hostkit.bus_policy_allows_spawn(text) for text in texts):
        return Check(
            name, PROBLEM, f"{app_id} may not run pixcut outside its sandbox: {hostkit.override_command(app_id)}"
        )
    if not (plugin_folder / hostkit.LOCATION_FILE).is_file():
        return Check(name, PROBLEM, f"{app_id} may run pixcut, but the plug-in is not in {plugin_folder.parent}")
    return Check(name, OK, f"{app_id} runs pixcut through flatpak-spawn --host; plug-in in {plugin_folder}")


def check_flatpaks() -> list[Check]:
    """One line per Flatpak GIMP/Krita found in the user's ``~/.var/app`` (none when there is none)."""
    hosts = [
        ("gimp", gimp.FLATPAK_ID, gimp.flatpak_dest() / gimp.PLUGIN_NAME),
        ("krita", krita.FLATPAK_ID, krita.flatpak_dest() / krita.PLUGIN_NAME),
    ]
    return [
        _guard(f"{host}-flatpak", partial(check_flatpak, host, app, folder))
        for host, app, folder in hosts
        if flatpak_home(app).is_dir()
    ]
