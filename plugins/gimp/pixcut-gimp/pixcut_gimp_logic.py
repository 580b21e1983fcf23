"""The GIMP plug-in's pure logic: no GIMP, no GObject, standard library only.

Kept apart from ``pixcut-gimp.py`` so it can be unit-tested by the project's own Python
(without GIMP) and imported by GIMP's Python (3.13 in Debian trixie) alike. Everything
that decides *what* to do lives here: which pixcut to run, the command line for the
options, reading the ``pixcut remove --json`` events, where the cutout goes on the canvas
and whether the user agreed to cloud uploads. ``pixcut-gimp.py`` only does the GIMP calls.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

PROCEDURE = "plug-in-pixcut-remove-background"
PROCEDURE_REPEAT = "plug-in-pixcut-remove-background-repeat"

BACKENDS = ("local", "pixian", "endpoint")
OUTPUT_MODES = ("layer", "mask", "selection")
VERTICAL_ALIGNMENTS = ("top", "middle", "bottom")

LOCATION_FILE = "pixcut-location.json"
CONSENT_FILE = "pixcut-cloud-consent.json"
EXECUTABLE_ENV = "PIXCUT_EXECUTABLE"
CONSENT_ENV = "PIXCUT_CLOUD_CONSENT"
TIMEOUT_ENV = "PIXCUT_GIMP_TIMEOUT"
DEFAULT_TIMEOUT = 600.0

_HEX_COLOR = re.compile(r"^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


class PixcutGimpError(Exception):
    """An error shown to the user as is (the core's own message when there is one)."""


@dataclass(frozen=True)
class Settings:
    """The procedure's arguments, one field per API option (names match the GIMP arguments)."""

    backend: str = "local"
    endpoint: str = ""
    test: bool = False
    background_color: str = ""
    crop_to_foreground: bool = False
    margin: str = ""
    target_size: str = ""
    vertical_alignment: str = "middle"
    output_mode: str = "layer"

    @property
    def changes_geometry(self) -> bool:
        """True when the result may not have the layer's size (crop, margin or target size)."""
        return self.crop_to_foreground or bool(self.margin.strip()) or bool(self.target_size.strip())

    @property
    def uploads_to_cloud(self) -> bool:
        """True when the image leaves the machine for Pixian's own servers (needs consent)."""
        return self.backend == "pixian"


@dataclass(frozen=True)
class Cutout:
    """What ``pixcut remove --json`` reported for the one input."""

    output: str
    result_size: tuple[int, int]
    input_foreground: tuple[int, int, int, int] | None
    result_foreground: tuple[int, int, int, int] | None


# --- finding pixcut ---------------------------------------------------------------------------


def find_pixcut(
    plugin_dir: Path,
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> list[str]:
    """The command that runs pixcut: the ``PIXCUT_EXECUTABLE`` setting, then PATH, then the installer's file.

    The location file comes last because PATH reflects what the user runs now, while the file
    records where pixcut was at install time. A setting that names a missing file is an error
    (the user asked for that one) rather than a silent fallback.
    """
    env = os.environ if environ is None else environ
    setting = env.get(EXECUTABLE_ENV, "").strip()
    if setting:
        return _command_or_error(setting, f"the {EXECUTABLE_ENV} setting")
    on_path = which("pixcut")
    if on_path:
        return [on_path]
    location = plugin_dir / LOCATION_FILE
    if location.is_file():
        try:
            recorded = str(json.loads(location.read_text(encoding="utf-8"))["executable"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PixcutGimpError(
                f"{location} is unreadable ({exc}); reinstall with: pixcut plugins install gimp"
            ) from exc
        return _command_or_error(recorded, str(location))
    raise PixcutGimpError(
        "pixcut was not found: install it (pip install pixcut) and run 'pixcut plugins install gimp', "
        f"put it on PATH, or set {EXECUTABLE_ENV} to its path."
    )


def _command_or_error(value: str, origin: str) -> list[str]:
    """Split a recorded command ('/path/pixcut' or '/path/python -m pixcut') and check it exists."""
    argv = [value] if Path(value).is_file() else shlex.split(value)
    if not argv or not Path(argv[0]).is_file() or not os.access(argv[0], os.X_OK):
        raise PixcutGimpError(f"pixcut was not found at {value!r} (from {origin}).")
    return argv


# --- arguments -> command line ----------------------------------------------------------------


def normalize_color(value: str) -> str:
    """'' stays '' (transparent); 'fff', '#ffffff' -> '#ffffff'. Other forms are left to the core to judge."""
    text = value.strip()
    if text and _HEX_COLOR.match(text):
        return "#" + text.lstrip("#").lower()
    return text


def cli_flags(settings: Settings) -> list[str]:
    """The ``pixcut remove`` flags for the settings (the core validates the values themselves)."""
    if settings.backend not in BACKENDS:
        raise PixcutGimpError(f"unknown backend {settings.backend!r}; use one of {', '.join(BACKENDS)}")
    flags: list[str] = []
    if settings.backend == "endpoint":
        endpoint = settings.endpoint.strip()
        if not endpoint:
            raise PixcutGimpError("the 'endpoint' backend needs an endpoint URL")
        flags += ["--backend", "pixian", "--endpoint", endpoint]
    else:
        flags += ["--backend", settings.backend]
    if settings.test:
        flags.append("--test")
    color = normalize_color(settings.background_color)
    if color:
        flags += ["--background-color", color]
    if settings.crop_to_foreground:
        flags.append("--crop-to-foreground")
    if settings.margin.strip():
        flags += ["--margin", settings.margin.strip()]
    if settings.target_size.strip():
        flags += ["--target-size", settings.target_size.strip()]
    if settings.vertical_alignment != "middle":
        if settings.vertical_alignment not in VERTICAL_ALIGNMENTS:
            raise PixcutGimpError(f"unknown vertical alignment {settings.vertical_alignment!r}")
        flags += ["--vertical-alignment", settings.vertical_alignment]
    return flags


def build_command(pixcut: list[str], input_path: str, output_path: str, settings: Settings) -> list[str]:
    """The full command: PNG output always, so GIMP gets lossless pixels and the real alpha."""
    flags = cli_flags(settings)
    return [*pixcut, "remove", input_path, "-o", output_path, "--json", "--format", "png", *flags]


# --- reading the events -----------------------------------------------------------------------


def parse_events(lines: Iterable[str]) -> list[dict]:
    """The JSON objects of the output; other lines (warnings a library printed) are ignored."""
    events = []
    for line in lines:
        text = line.strip()
        if not text.startswith("{"):
            continue
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict) and "event" in value:
            events.append(value)
    return events


def error_message(error: Mapping) -> str:
    """'<type>: <message>' from an ``error`` event's ``error`` object (the core's own words)."""
    kind = str(error.get("type") or "Error")
    message = str(error.get("message") or "unknown error")
    return f"{kind}: {message}"


def interpret(events: list[dict], returncode: int, stderr_tail: str = "") -> Cutout:
    """The cutout of a finished run, or a PixcutGimpError carrying the core's message."""
    for event in events:
        if event.get("event") == "error":
            raise PixcutGimpError(error_message(event.get("error") or {}))
    results = [e for e in events if e.get("event") == "result"]
    if not results:
        detail = f": {stderr_tail.strip()}" if stderr_tail.strip() else ""
        raise PixcutGimpError(f"pixcut gave no readable result (exit code {returncode}){detail}")
    if returncode != 0:
        raise PixcutGimpError(f"pixcut failed (exit code {returncode})")
    result = results[-1]
    try:
        return Cutout(
            output=str(result["output"]),
            result_size=_pair(result["result_size"]),
            input_foreground=_box(result.get("input_foreground")),
            result_foreground=_box(result.get("result_foreground")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PixcutGimpError(f"pixcut's result event is malformed ({exc!r})") from exc


def _pair(value) -> tuple[int, int]:
    width, height = value
    return int(width), int(height)


def _box(value) -> tuple[int, int, int, int] | None:
    if value is None:
        return None
    top, left, width, height = value
    return int(top), int(left), int(width), int(height)


def progress_fraction(event: Mapping) -> float | None:
    """A 0..1 fraction for ``progress``/``summary`` events (None when the event says nothing)."""
    total = event.get("total")
    if event.get("event") == "summary":
        return 1.0
    if event.get("event") == "progress" and isinstance(total, int) and total > 0:
        return min(1.0, (int(event.get("done", 0)) + int(event.get("failed", 0))) / total)
    return None


# --- placement --------------------------------------------------------------------------------


def placement(layer_offsets: tuple[int, int], cutout: Cutout, settings: Settings) -> tuple[int, int]:
    """Canvas offsets (x, y) of the cutout: the foreground's top-left stays where it was in the source.

    x = layer_x + input_fg.left - result_fg.left (same for y with top). Without crop, margin or
    target size the result has the layer's size and simply takes the layer's offsets.
    """
    x, y = layer_offsets
    if not settings.changes_geometry:
        return x, y
    if cutout.input_foreground is None or cutout.result_foreground is None:
        return x, y
    in_top, in_left = cutout.input_foreground[:2]
    res_top, res_left = cutout.result_foreground[:2]
    return x + in_left - res_left, y + in_top - res_top


def cutout_name(layer_name: str) -> str:
    """The new layer's name, which scripts rely on."""
    return f"{layer_name} (cutout)"


# --- consent for the Pixian cloud -------------------------------------------------------------


def has_consent(consent_file: Path, environ: Mapping[str, str] | None = None) -> bool:
    """True when the user agreed before (stored) or the environment says so (unattended setups)."""
    env = os.environ if environ is None else environ
    if env.get(CONSENT_ENV, "").strip().lower() in ("1", "yes", "true"):
        return True
    try:
        return json.loads(consent_file.read_text(encoding="utf-8")).get("pixian_cloud") is True
    except (OSError, ValueError, AttributeError):
        return False


def store_consent(consent_file: Path) -> None:
    """Remember the user's yes (atomically, so a crash never leaves a half-written file)."""
    consent_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = consent_file.with_name(consent_file.name + ".tmp")
    tmp.write_text(json.dumps({"pixian_cloud": True}) + "\n", encoding="utf-8")
    os.replace(tmp, consent_file)


def timeout_seconds(environ: Mapping[str, str] | None = None) -> float:
    """How long one pixcut run may take (``PIXCUT_GIMP_TIMEOUT`` seconds, default 600)."""
    env = os.environ if environ is None else environ
    try:
        value = float(env.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT
