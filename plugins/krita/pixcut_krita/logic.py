"""The Krita plug-in's pure logic: settings, the pixcut command line, events, placement, pixels, PNG.

Everything here is standard library only and never imports Krita or PyQt5, so it runs in
Krita's embedded Python (which may lack Pillow and requests) and in plain pytest alike.
The Krita-facing modules stay thin and delegate every decision they can to this one.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import struct
import zlib
from dataclasses import dataclass, field

SETTINGS_GROUP = "pixcut"
LOCATION_FILE = "pixcut-location.json"

BACKENDS = ("local", "pixian", "endpoint")
OUTPUT_MODES = ("layer", "mask")
ALIGNMENTS = ("top", "middle", "bottom")

# Defaults as Krita stores them: its settings API keeps strings only.
DEFAULTS = {
    "backend": "local",
    "endpoint": "",
    "test": "false",
    "background_color": "",
    "crop_to_foreground": "false",
    "margin": "",
    "target_size": "",
    "vertical_alignment": "middle",
    "output_mode": "layer",
    "timeout": "300",
}
SETTING_KEYS = tuple(DEFAULTS)


class PixcutPluginError(Exception):
    """A problem the user must see in a message box; the document stays unchanged."""


# --------------------------------------------------------------------------- settings


def _truthy(value: object) -> bool:
    """Krita hands back settings as strings ("true"/"false"); accept bools and 0/1 too."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Settings:
    """The plug-in's options, typed; stored as strings in Krita's settings group ``pixcut``."""

    backend: str = "local"
    endpoint: str = ""
    test: bool = False
    background_color: str = ""
    crop_to_foreground: bool = False
    margin: str = ""
    target_size: str = ""
    vertical_alignment: str = "middle"
    output_mode: str = "layer"
    timeout: int = 300
    executable: str = field(default="", compare=False)

    @classmethod
    def from_strings(cls, values: dict) -> Settings:
        """Parse stored strings leniently: an unknown value falls back to its default, never raises.

        Settings files get edited by hand and by scripts; a bad value must not make the
        plug-in unusable, so validation that matters happens in :meth:`validate`.
        """
        get = {key: values.get(key, DEFAULTS[key]) for key in SETTING_KEYS}
        backend = str(get["backend"]).strip().lower()
        mode = str(get["output_mode"]).strip().lower()
        align = str(get["vertical_alignment"]).strip().lower()
        try:
            timeout = max(1, int(str(get["timeout"]).strip()))
        except ValueError:
            timeout = int(DEFAULTS["timeout"])
        return cls(
            backend=backend if backend in BACKENDS else "local",
            endpoint=str(get["endpoint"]).strip(),
            test=_truthy(get["test"]),
            background_color=str(get["background_color"]).strip(),
            crop_to_foreground=_truthy(get["crop_to_foreground"]),
            margin=str(get["margin"]).strip(),
            target_size=str(get["target_size"]).strip(),
            vertical_alignment=align if align in ALIGNMENTS else "middle",
            output_mode=mode if mode in OUTPUT_MODES else "layer",
            timeout=timeout,
            executable=str(values.get("executable", "") or "").strip(),
        )

    def to_strings(self) -> dict:
        """The values as Krita's settings API stores them (``executable`` is left to the user)."""
        out = {}
        for key in SETTING_KEYS:
            value = getattr(self, key)
            out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    def validate(self) -> None:
        """Refuse settings that cannot produce a valid command, with a message for the user."""
        if self.backend == "endpoint" and not re.match(r"^https?://\S+$", self.endpoint):
            raise PixcutPluginError("The custom endpoint backend needs an http:// or https:// URL (docker: Endpoint).")
        if self.background_color and not re.match(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$", self.background_color):
            raise PixcutPluginError(
                f"Background colour {self.background_color!r} is not a #RRGGBB (or #RRGGBBAA) colour."
            )
        if self.target_size and not re.match(r"^\d+\s*[ x,]\s*\d+$", self.target_size):
            raise PixcutPluginError(f"Target size {self.target_size!r} must be 'WIDTH HEIGHT', e.g. '800 600'.")

    @property
    def uploads_to_pixian(self) -> bool:
        """True when pixels leave the machine for the Pixian cloud (needs the user's consent once)."""
        return self.backend == "pixian"


# --------------------------------------------------------------------------- command line


def normalize_color(color: str) -> str:
    """``'ff8800'`` or ``'#FF8800'`` -> ``'#ff8800'``: the CLI wants the leading hash."""
    color = color.strip().lower()
    return color if color.startswith("#") else "#" + color


def normalize_target_size(size: str) -> str:
    """``'800x600'``, ``'800,600'`` or ``'800 600'`` -> ``'800 600'`` (the CLI's form)."""
    return " ".join(re.split(r"\s*[ x,]\s*", size.strip()))


def remove_arguments(settings: Settings, input_path: str, output_path: str) -> list[str]:
    """The ``pixcut remove --json`` arguments (after the executable) for these settings.

    The output format is always PNG: the plug-in decodes it with its own stdlib codec.
    In mask mode the finishing options (crop, margin, target size, background) are left out:
    the mask applies to an unchanged copy of the source, so only the alpha matters.
    """
    settings.validate()
    args = ["remove", input_path, "-o", output_path, "--json", "--format", "png"]
    if settings.backend == "local":
        args += ["--backend", "local"]
    elif settings.backend == "pixian":
        args += ["--backend", "pixian"]
    else:
        args += ["--backend", "pixian", "--endpoint", settings.endpoint]
    if settings.test:
        args.append("--test")
    if settings.output_mode == "mask":
        return args
    if settings.background_color:
        args += ["--background-color", normalize_color(settings.background_color)]
    if settings.crop_to_foreground:
        args.append("--crop-to-foreground")
    if settings.margin:
        args += ["--margin", settings.margin]
    if settings.target_size:
        args += ["--target-size", normalize_target_size(settings.target_size)]
    if settings.vertical_alignment != "middle":
        args += ["--vertical-alignment", settings.vertical_alignment]
    return args


def find_executable(setting: str, plugin_dir: str, path: str | None = None) -> list[str]:
    """The command that starts pixcut, as argv words: setting, then PATH, then the installer's record.

    The record may hold a plain path or ``"/usr/bin/python3 -m pixcut"``, hence a word list.
    """
    if setting:
        return shlex.split(setting)
    found = shutil.which("pixcut", path=path if path is not None else os.environ.get("PATH"))
    if found:
        return [found]
    location = os.path.join(plugin_dir, LOCATION_FILE)
    try:
        with open(location, encoding="utf-8") as handle:
            recorded = str(json.load(handle).get("executable", "")).strip()
    except (OSError, ValueError, AttributeError):
        recorded = ""
    if recorded:
        words = shlex.split(recorded)
        if words and (os.path.isfile(words[0]) or shutil.which(words[0])):
            return words
    raise PixcutPluginError(
        "pixcut was not found. Install it and run 'pixcut plugins install krita', or set the "
        "executable in Krita's settings group 'pixcut' (key 'executable')."
    )


# --------------------------------------------------------------------------- events


@dataclass
class Outcome:
    """What one ``pixcut remove --json`` run reported: the result event or an error message."""

    result: dict | None = None
    error: str | None = None
    progress: str = ""


class EventReader:
    """Collect the JSON events of a run from stdout chunks (lines may arrive split across reads)."""

    def __init__(self) -> None:
        self._buffer = ""
        self.outcome = Outcome()

    def feed(self, chunk: str) -> list[dict]:
        """Add text read from the process; return the complete events it finished."""
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split("\n")
        events = [event for event in map(parse_event, lines) if event is not None]
        for event in events:
            self._apply(event)
        return events

    def finish(self) -> list[dict]:
        """Parse a last line that had no newline."""
        rest, self._buffer = self._buffer, ""
        return self.feed(rest + "\n") if rest.strip() else []

    def _apply(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "result":
            self.outcome.result = event
        elif kind == "error":
            self.outcome.error = error_message(event)
        elif kind == "progress":
            self.outcome.progress = str(event.get("stage") or "processing")


def parse_event(line: str) -> dict | None:
    """One stdout line -> event dict, or None for anything that is not a JSON object."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def error_message(event: dict) -> str:
    """The core's own message of an ``error`` event, prefixed with its type for context."""
    error = event.get("error") or {}
    if not isinstance(error, dict):
        return str(error)
    message = str(error.get("message") or "pixcut failed")
    kind = error.get("type")
    return f"{kind}: {message}" if kind else message


def failure_message(outcome: Outcome, exit_code: int, stderr: str) -> str | None:
    """None when the run succeeded, else the message to show (the core's, or stderr's tail)."""
    if outcome.error:
        return outcome.error
    if exit_code == 0 and outcome.result is not None:
        return None
    tail = "\n".join(stderr.strip().splitlines()[-5:])
    if exit_code == 0:
        return "pixcut finished without a result." + (f"\n{tail}" if tail else "")
    return f"pixcut failed (exit code {exit_code})." + (f"\n{tail}" if tail else "")


# --------------------------------------------------------------------------- placement


def placement(layer_x: int, layer_y: int, input_fg, result_fg) -> tuple[int, int]:
    """Where the result's top-left corner goes on the canvas (ARCHITECTURE.md's placement rule).

    Boxes are ``[top, left, width, height]``. The foreground's top-left corner stays where it
    was in the source, so a cropped, margined or target-sized result lines up with it. Without
    a foreground on either side the result goes at the layer's own offsets.
    """
    if not input_fg or not result_fg:
        return layer_x, layer_y
    in_top, in_left = int(input_fg[0]), int(input_fg[1])
    res_top, res_left = int(result_fg[0]), int(result_fg[1])
    return layer_x + in_left - res_left, layer_y + in_top - res_top


def cutout_name(layer_name: str) -> str:
    """The new layer's name; scripts rely on it."""
    return f"{layer_name} (cutout)"


# --------------------------------------------------------------------------- pixels


def bgra_to_rgba(data: bytes) -> bytes:
    """Krita's RGBA/U8 pixel data is stored B,G,R,A; swap B and R (slices keep it at C speed)."""
    out = bytearray(data)
    out[0::4] = data[2::4]
    out[2::4] = data[0::4]
    return bytes(out)


rgba_to_bgra = bgra_to_rgba  # the swap is its own inverse


def alpha_channel(rgba_or_bgra: bytes) -> bytes:
    """The alpha bytes of 4-channel pixel data (same place in RGBA and BGRA)."""
    return bytes(rgba_or_bgra[3::4])


def check_layer_format(color_model: str, color_depth: str) -> None:
    """Only 8-bit RGBA layers are exported directly; others are refused with a way out."""
    if color_model != "RGBA" or color_depth != "U8":
        raise PixcutPluginError(
            f"The layer is {color_model}/{color_depth}; Remove Background works on 8-bit RGB/Alpha "
            "layers. Convert it first: Image > Convert Image Color Space... > RGB/Alpha, 8-bit integer."
        )


# --------------------------------------------------------------------------- PNG export
# (the result is read back by Qt: see layers.read_result)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png(rgba: bytes, width: int, height: int) -> bytes:
    """Encode straight-alpha RGBA8 pixels as a PNG for pixcut to read.

    Filter None on every row and zlib level 1: the file is a temporary hand-over, so speed on
    Krita's GUI thread matters more than its size.
    """
    if len(rgba) != width * height * 4:
        raise ValueError(f"expected {width * height * 4} bytes for {width}x{height} RGBA, got {len(rgba)}")
    stride = width * 4
    raw = b"".join(b"\x00" + rgba[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    body = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 1)) + _chunk(b"IEND", b"")
    return _PNG_SIGNATURE + body
