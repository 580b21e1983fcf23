"""The host kit: everything the GIMP and Krita plug-ins share, in one standard-library-only file.

The plug-ins run inside GIMP's or Krita's own Python (3.11 to 3.13, no Pillow, no requests), so
they never import pixcut: they run the ``pixcut`` executable and read ``pixcut remove --json``.
Everything host-neutral about that lives here, once: finding pixcut (own setting, PATH, the
installer's ``pixcut-location.json``), the settings schema and defaults, building the ``remove``
arguments, reading the events (with the protocol check), error text, placement maths, layer
naming, the cloud-consent rule, the model menu and the Flatpak sandbox. The GIMP and Krita code
keeps only host glue: dialogs, settings storage, pixels in and out, undo.

The installers copy this file beside each plug-in as ``pixcut_hostkit.py`` and record the pixcut
version that did it, so a plug-in left behind by ``pip install -U pixcut`` is detected (here and by
``pixcut doctor``) and the one command that refreshes it is named. ``pixcut doctor`` and the
installers import this same file as ``pixcut.hosts.hostkit``: one parser of the location file.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields

# The version of the ``pixcut remove --json`` machine interface this kit speaks. ``pixcut`` puts its
# own in the ``start`` event (cli/remove.py imports this constant); a plug-in refuses to guess when
# the two disagree and says what to run instead.
PROTOCOL = 1

LOCATION_FILE = "pixcut-location.json"
KIT_FILE = "pixcut_hostkit.py"  # the name of this file's copy beside each installed plug-in
EXECUTABLE_ENV = "PIXCUT_EXECUTABLE"
CONSENT_ENV = "PIXCUT_CLOUD_CONSENT"
DEFAULT_TIMEOUT = 600

BACKENDS = ("local", "pixian", "endpoint")
OUTPUT_MODES = ("layer", "mask", "selection")
VERTICAL_ALIGNMENTS = ("top", "middle", "bottom")
LAYER_ONLY = ("layer",)  # the finishing options shape a cutout; a mask is always the layer's alpha

FLATPAK_INFO = "/.flatpak-info"
FLATPAK_BUS_NAME = "org.freedesktop.Flatpak"
FLATPAK_APPS = {"gimp": "org.gimp.GIMP", "krita": "org.kde.krita"}


class HostError(Exception):
    """A message for the user, shown as is (the core's own words whenever the core said something)."""


# --- settings schema ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One setting as both dialogs show it: name, kind, default, label, help, and the modes it applies to."""

    name: str
    kind: str  # "choice", "text" or "bool"
    default: str | bool
    label: str
    help: str
    choices: tuple[str, ...] = ()
    modes: tuple[str, ...] = OUTPUT_MODES


OPTIONS: tuple[Option, ...] = (
    Option("backend", "choice", "local", "Backend", "Where the background is removed", BACKENDS),
    Option("endpoint", "text", "", "Endpoint URL", "URL of a Pixian-compatible server (backend 'endpoint')"),
    Option("model", "text", "", "Model", "Offline model; empty uses pixcut's default"),
    Option("test", "bool", False, "Test mode", "Pixian test mode: free, watermarked"),
    Option("output_mode", "choice", "layer", "Output", "What to make of the result", OUTPUT_MODES),
    Option(
        "background_color",
        "text",
        "",
        "Background colour",
        "'#RRGGBB' fills the background; empty keeps it transparent (new layer only)",
        modes=LAYER_ONLY,
    ),
    Option(
        "crop_to_foreground",
        "bool",
        False,
        "Crop to foreground",
        "Crop to the foreground (new layer only)",
        (),
        LAYER_ONLY,
    ),
    Option(
        "margin", "text", "", "Margin", "CSS-style margin, e.g. '10px' or '5% 10%' (new layer only)", (), LAYER_ONLY
    ),
    Option("target_size", "text", "", "Target size", "Result size 'WIDTH HEIGHT' (new layer only)", (), LAYER_ONLY),
    Option(
        "vertical_alignment",
        "choice",
        "middle",
        "Vertical alignment",
        "Where the foreground sits with a target size (new layer only)",
        VERTICAL_ALIGNMENTS,
        LAYER_ONLY,
    ),
)
OPTION_NAMES = tuple(option.name for option in OPTIONS)
MODE_LABELS = {
    "layer": "New layer (all options apply)",
    "mask": "Layer mask on a copy (the layer's own alpha: layer-only options are ignored)",
    "selection": "Selection (the layer's own alpha: layer-only options are ignored)",
}
BACKEND_LABELS = {
    "local": "Offline engine (this computer)",
    "pixian": "Pixian.AI cloud (uploads the layer)",
    "endpoint": "Custom endpoint (Pixian-compatible server)",
}


def _truthy(value: object) -> bool:
    """Hosts store booleans as strings ("true"/"false") or real bools; accept both."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """The options of one run; a host stores them its own way and reads them back with ``from_mapping``."""

    backend: str = "local"
    endpoint: str = ""
    model: str = ""
    test: bool = False
    output_mode: str = "layer"
    background_color: str = ""
    crop_to_foreground: bool = False
    margin: str = ""
    target_size: str = ""
    vertical_alignment: str = "middle"

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Settings:
        """Read stored values leniently: a missing or unknown choice falls back to its default.

        Settings get edited by hand and by scripts, and a bad stored value must not make the
        plug-in unusable. Text values are passed on as typed: the core judges them (one rule).
        """
        text: dict[str, str] = {}
        flags: dict[str, bool] = {}
        for option in OPTIONS:
            raw = values.get(option.name, option.default)
            if raw is None:
                raw = option.default
            if option.kind == "bool":
                flags[option.name] = _truthy(raw)
            elif option.kind == "choice":
                word = str(raw).strip().lower()
                text[option.name] = word if word in option.choices else str(option.default)
            else:
                text[option.name] = str(raw).strip()
        return cls(
            backend=text["backend"],
            endpoint=text["endpoint"],
            model=text["model"],
            test=flags["test"],
            output_mode=text["output_mode"],
            background_color=text["background_color"],
            crop_to_foreground=flags["crop_to_foreground"],
            margin=text["margin"],
            target_size=text["target_size"],
            vertical_alignment=text["vertical_alignment"],
        )

    def to_strings(self) -> dict[str, str]:
        """The values as string-only settings stores keep them (Krita's kritarc)."""
        out: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    @property
    def uploads_to_cloud(self) -> bool:
        """True when the layer leaves the machine for Pixian's own servers: that needs the user's consent."""
        return self.backend == "pixian"

    def ignored_options(self) -> list[str]:
        """Labels of the options set here that this output mode does not use (the dialogs say so)."""
        return [
            option.label
            for option in OPTIONS
            if self.output_mode not in option.modes and getattr(self, option.name) != option.default
        ]


def applies(option_name: str, output_mode: str) -> bool:
    """Whether an option changes the result in this output mode (dialogs grey out the others)."""
    return output_mode in next(option.modes for option in OPTIONS if option.name == option_name)


def remove_arguments(settings: Settings, input_path: str, output_path: str) -> list[str]:
    """The ``pixcut remove`` arguments (after the executable) for these settings.

    Always PNG, so the host gets lossless pixels and the real alpha. In mask and selection modes
    the core is asked for its mask (``--output-type mask``: an 8-bit matte of the layer's size)
    and no finishing option is passed: a background colour would make the alpha opaque and a
    target size would move it, while the mask must line up with the layer.
    """
    args = ["remove", input_path, "-o", output_path, "--json", "--format", "png"]
    if settings.backend == "endpoint":
        endpoint = settings.endpoint.strip()
        if not endpoint:
            raise HostError("The 'endpoint' backend needs an endpoint URL (e.g. pixcut serve's).")
        args += ["--backend", "pixian", "--endpoint", endpoint]
    elif settings.backend in BACKENDS:
        args += ["--backend", settings.backend]
    else:
        raise HostError(f"Unknown backend {settings.backend!r}; use one of {', '.join(BACKENDS)}.")
    if settings.model.strip():
        args += ["--model", settings.model.strip()]
    if settings.test:
        args.append("--test")
    if settings.output_mode != "layer":
        return args + ["--output-type", "mask"]
    if settings.background_color.strip():
        args += ["--background-color", settings.background_color.strip()]
    if settings.crop_to_foreground:
        args.append("--crop-to-foreground")
    if settings.margin.strip():
        args += ["--margin", settings.margin.strip()]
    if settings.target_size.strip():
        args += ["--target-size", settings.target_size.strip()]
    if settings.vertical_alignment != "middle":
        args += ["--vertical-alignment", settings.vertical_alignment]
    return args


def timeout_seconds(value: object, default: int = DEFAULT_TIMEOUT) -> int:
    """A stored timeout in whole seconds (a bad or non-positive value gives the default)."""
    try:
        seconds = int(float(str(value).strip()))
    except ValueError:
        return default
    return seconds if seconds > 0 else default


# --- the installer's record and finding pixcut ------------------------------------------------


@dataclass(frozen=True)
class Location:
    """What ``pixcut-location.json`` records: the executable, and the pixcut that installed the plug-in."""

    executable: str
    version: str | None = None  # None for a linked (developer) install: it follows the sources
    protocol: int | None = None


def read_location(folder: str) -> Location | None:
    """The installer's record in ``folder`` (None when missing or unreadable). The one parser of it."""
    try:
        with open(os.path.join(folder, LOCATION_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("executable"), str) or not data["executable"].strip():
        return None
    version = data.get("version")
    protocol = data.get("protocol")
    return Location(
        executable=data["executable"].strip(),
        version=version if isinstance(version, str) else None,
        protocol=protocol if isinstance(protocol, int) else None,
    )


def location_text(executable: str, version: str | None, protocol: int = PROTOCOL) -> str:
    """The JSON the installers write (``version`` None for a linked install)."""
    return json.dumps({"executable": executable, "version": version, "protocol": protocol}, indent=2) + "\n"


def refresh_command(host: str, pixcut: Iterable[str] = ("pixcut",)) -> str:
    """The one command that (re)installs the host's plug-in from the pixcut that will run it."""
    words = list(pixcut)
    if words[:2] == ["flatpak-spawn", "--host"]:  # the user runs it outside the sandbox
        words = words[2:]
    return shlex.join([*words, "hosts", "install", host])


def _runnable(argv: list[str]) -> bool:
    return bool(argv) and os.path.isfile(argv[0]) and os.access(argv[0], os.X_OK)


def _split(value: str) -> list[str]:
    """A recorded command: '/path/pixcut', a path with spaces, or '/path/python -m pixcut'."""
    return [value] if os.path.isfile(value) else shlex.split(value)


def find_pixcut(
    host: str,
    plugin_dir: str,
    setting: str = "",
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    sandbox: Sandbox | None = None,
) -> list[str]:
    """The command that runs pixcut, as argv words.

    Order: the host's own setting, ``PIXCUT_EXECUTABLE``, PATH, then the installer's record (last,
    because PATH says what the user runs now while the record says where pixcut was at install
    time). A setting naming a missing file is an error, never a silent fallback. Inside a Flatpak
    sandbox the host's files are invisible, so the record is trusted as is and run on the host.
    """
    env = os.environ if environ is None else environ
    chosen = [
        (setting.strip(), "the plug-in's 'executable' setting"),
        (env.get(EXECUTABLE_ENV, "").strip(), EXECUTABLE_ENV),
    ]
    location = read_location(plugin_dir)
    if sandbox is not None:
        for value, _origin in chosen:
            if value:
                return sandbox.wrap(shlex.split(value))
        if location is not None:
            return sandbox.wrap(shlex.split(location.executable))
        raise HostError(f"pixcut was not found: run '{refresh_command(host)}' on the host (outside {sandbox.app_id}).")
    for value, origin in chosen:
        if value:
            argv = _split(value)
            if not _runnable(argv):
                raise HostError(f"pixcut was not found at {value!r} (from {origin}).")
            return argv
    on_path = which("pixcut")
    if on_path:
        return [on_path]
    if location is not None:
        argv = _split(location.executable)
        if _runnable(argv):
            return argv
        raise HostError(
            f"pixcut is no longer at {location.executable!r} (recorded at install time): reinstall pixcut and run "
            f"'{refresh_command(host)}'."
        )
    raise HostError(
        f"pixcut was not found: install it (pip install pixcut) and run '{refresh_command(host)}', put it on "
        f"PATH, or set {EXECUTABLE_ENV} to its path."
    )


# --- Flatpak ----------------------------------------------------------------------------------


def bus_policy_allows_spawn(text: str) -> bool:
    """Whether a Flatpak metadata/override text lets the app talk to org.freedesktop.Flatpak.

    Used on ``/.flatpak-info`` inside the sandbox (which already merges the user's overrides) and
    on the override files ``pixcut doctor`` reads on the host: the same keyfile format.
    """
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return False
    if not parser.has_section("Session Bus Policy"):
        return False
    return parser.get("Session Bus Policy", FLATPAK_BUS_NAME, fallback="none").strip() in ("talk", "own")


def override_command(app_id: str) -> str:
    """The one command that lets a Flatpak app run programs on the host (run it outside the sandbox)."""
    return f"flatpak override --user --talk-name={FLATPAK_BUS_NAME} {app_id}"


@dataclass(frozen=True)
class Sandbox:
    """A Flatpak sandbox this plug-in runs in."""

    app_id: str
    can_spawn: bool

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run on the host through ``flatpak-spawn --host``, or the override command as an error."""
        if not self.can_spawn:
            raise HostError(
                f"This {self.app_id} is a Flatpak and may not run pixcut on the host. Allow it once, in a terminal "
                f"outside the sandbox: {override_command(self.app_id)} (then restart it)."
            )
        return ["flatpak-spawn", "--host", *argv]


def detect_sandbox(
    environ: Mapping[str, str] | None = None, read: Callable[[str], str] | None = None
) -> Sandbox | None:
    """The Flatpak sandbox we run in (``/.flatpak-info`` or ``FLATPAK_ID``), or None outside one."""
    env = os.environ if environ is None else environ

    def read_file(path: str) -> str:
        with open(path, encoding="utf-8") as handle:
            return handle.read()

    try:
        info = (read or read_file)(FLATPAK_INFO)
    except OSError:
        info = ""
    app_id = env.get("FLATPAK_ID", "").strip()
    if not info and not app_id:
        return None
    if not app_id:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(info)
            app_id = parser.get("Application", "name", fallback="")
        except configparser.Error:
            app_id = ""
    return Sandbox(app_id=app_id or "this application", can_spawn=bus_policy_allows_spawn(info))


def shared_work_dir(sandbox: Sandbox | None, environ: Mapping[str, str] | None = None) -> str | None:
    """Where hand-over files must go so pixcut on the host sees them (None: the system temp folder).

    A Flatpak's /tmp is private; its ``XDG_CACHE_HOME`` (``~/.var/app/ID/cache``) has the same
    path inside and outside the sandbox.
    """
    env = os.environ if environ is None else environ
    if sandbox is None:
        return None
    cache = env.get("XDG_CACHE_HOME", "").strip()
    if not cache:
        return None
    folder = os.path.join(cache, "pixcut")
    os.makedirs(folder, exist_ok=True)
    return folder


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cutout:
    """What ``pixcut remove --json`` reported for the one input."""

    output: str
    result_size: tuple[int, int]
    input_foreground: tuple[int, int, int, int] | None
    result_foreground: tuple[int, int, int, int] | None


@dataclass
class Outcome:
    """Everything one run reported, filled in as the events arrive."""

    start: dict[str, object] | None = None
    result: dict[str, object] | None = None
    error: str | None = None
    stage: str = ""
    fraction: float | None = None


def parse_event(line: str) -> dict[str, object] | None:
    """One stdout line as an event, or None for anything else (a warning a library printed)."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "event" in value else None


def error_message(error: object) -> str:
    """'<type>: <message>' of an ``error`` event's ``error`` object: the core's own words, unchanged."""
    if not isinstance(error, dict):
        return str(error or "pixcut failed")
    message = str(error.get("message") or "pixcut failed")
    kind = error.get("type")
    return f"{kind}: {message}" if kind else message


class EventReader:
    """Reads a run's stdout as it arrives (chunks may split lines) into an :class:`Outcome`.

    The ``start`` event is checked against :data:`PROTOCOL` at once: a pixcut that speaks another
    interface version gets an error naming what to run, before any result is trusted.
    """

    def __init__(self, host: str, pixcut: Iterable[str] = ("pixcut",)) -> None:
        self.host = host
        self.pixcut = list(pixcut)
        self.outcome = Outcome()
        self._buffer = ""

    def feed(self, chunk: str) -> list[dict[str, object]]:
        """Add text read from the process; return the complete events in it."""
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split("\n")
        events = [event for event in map(parse_event, lines) if event is not None]
        for event in events:
            self._apply(event)
        return events

    def finish(self) -> list[dict[str, object]]:
        """Parse a last line that had no newline."""
        rest, self._buffer = self._buffer, ""
        return self.feed(rest + "\n") if rest.strip() else []

    def _apply(self, event: dict[str, object]) -> None:
        kind = event.get("event")
        if kind == "start":
            self.outcome.start = event
            if self.outcome.error is None:
                self.outcome.error = protocol_problem(event, self.host, self.pixcut)
        elif kind == "result":
            self.outcome.result = event
        elif kind == "error" and self.outcome.error is None:
            self.outcome.error = error_message(event.get("error"))
        elif kind == "progress":
            self.outcome.stage = str(event.get("stage") or "processing")
            total, done, failed = event.get("total"), event.get("done", 0), event.get("failed", 0)
            if isinstance(total, int) and total > 0 and isinstance(done, int) and isinstance(failed, int):
                self.outcome.fraction = min(1.0, (done + failed) / total)
        elif kind == "summary":
            self.outcome.fraction = 1.0


def protocol_problem(start: Mapping[str, object], host: str, pixcut: Iterable[str] = ("pixcut",)) -> str | None:
    """None when pixcut speaks this kit's protocol, else what is wrong and the one thing to run."""
    theirs = start.get("protocol")
    if theirs == PROTOCOL:
        return None
    if isinstance(theirs, int) and theirs > PROTOCOL:
        return (
            f"This {host} plug-in is older than pixcut (interface {PROTOCOL}, pixcut speaks {theirs}). "
            f"Refresh the plug-in: {refresh_command(host, pixcut)}"
        )
    spoken = "an interface without a version" if theirs is None else f"interface {theirs}"
    return (
        f"pixcut is older than this {host} plug-in (pixcut speaks {spoken}, the plug-in needs {PROTOCOL}). "
        "Upgrade pixcut (pip install -U pixcut) and refresh the plug-in: "
        f"{refresh_command(host, pixcut)}"
    )


def stale_notice(
    location: Location | None, start: Mapping[str, object] | None, host: str, pixcut: Iterable[str] = ("pixcut",)
) -> str | None:
    """A notice when the installed plug-in came from another pixcut version than the one now running.

    The run itself works (same protocol); the copy just misses what the newer pixcut brought, so the
    plug-in says the one command that refreshes it. Linked installs follow the sources: never stale.
    """
    if location is None or location.version is None or start is None:
        return None
    running = start.get("version")
    if not isinstance(running, str) or running == location.version:
        return None
    return (
        f"The {host} plug-in was installed by pixcut {location.version}, but pixcut {running} is running. "
        f"Refresh it with: {refresh_command(host, pixcut)}"
    )


def failure_message(
    outcome: Outcome, exit_code: int, stderr: str, host: str, pixcut: Iterable[str] = ("pixcut",)
) -> str | None:
    """None when the run succeeded, else the message to show: the core's, or what the process left."""
    if outcome.error:
        return outcome.error
    if exit_code == 0 and outcome.result is not None:
        return None
    tail = "\n".join(stderr.strip().splitlines()[-5:])
    if outcome.start is None and exit_code == 2 and "unrecognized arguments" in stderr:
        return (
            f"pixcut does not understand this {host} plug-in's request ({tail.splitlines()[-1] if tail else ''}). "
            f"Upgrade pixcut (pip install -U pixcut) and refresh the plug-in: {refresh_command(host, pixcut)}"
        )
    if outcome.result is None:
        return f"pixcut gave no readable result (exit code {exit_code})." + (f"\n{tail}" if tail else "")
    return f"pixcut failed (exit code {exit_code})." + (f"\n{tail}" if tail else "")


def cutout(outcome: Outcome) -> Cutout:
    """The result event as a :class:`Cutout` (a malformed event is an error, not a crash)."""
    result = outcome.result or {}
    try:
        size = result["result_size"]
        if not isinstance(size, (list, tuple)) or len(size) != 2:
            raise ValueError(f"not a size: {size!r}")
        return Cutout(
            output=str(result["output"]),
            result_size=(int(size[0]), int(size[1])),
            input_foreground=_box(result.get("input_foreground")),
            result_foreground=_box(result.get("result_foreground")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise HostError(f"pixcut's result event is malformed ({exc!r})") from exc


def _box(value: object) -> tuple[int, int, int, int] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise ValueError(f"not a box: {value!r}")
    top, left, width, height = (int(v) for v in value)
    return top, left, width, height


# --- placement and naming ---------------------------------------------------------------------


def placement(layer_x: int, layer_y: int, result: Cutout) -> tuple[int, int]:
    """Canvas position of the result's top-left corner (docs/ARCHITECTURE.md's placement rule).

    The foreground's top-left corner stays where it was in the source, so a cropped, margined or
    target-sized result lines up with it; without a foreground on either side (or without any
    geometry change, where both boxes agree) the result goes at the layer's own offsets.
    """
    if result.input_foreground is None or result.result_foreground is None:
        return layer_x, layer_y
    in_top, in_left = result.input_foreground[:2]
    res_top, res_left = result.result_foreground[:2]
    return layer_x + in_left - res_left, layer_y + in_top - res_top


def cutout_name(layer_name: str) -> str:
    """The new layer's name (scripts rely on it)."""
    return f"{layer_name} (cutout)"


# --- consent for the cloud ---------------------------------------------------------------------

CONSENT_QUESTION = "Upload this layer to the Pixian.AI cloud?"
CONSENT_DETAIL = (
    "The Pixian backend sends the layer's pixels to pixian.ai to remove the background, using the "
    "credentials from pixcut's configuration. This is asked once; choose the offline engine to keep "
    "images on this computer."
)


def consent_needed(settings: Settings, stored: bool, environ: Mapping[str, str] | None = None) -> bool:
    """True when this run would upload without the user's yes (stored, or ``PIXCUT_CLOUD_CONSENT``)."""
    env = os.environ if environ is None else environ
    if not settings.uploads_to_cloud or stored:
        return False
    return env.get(CONSENT_ENV, "").strip().lower() not in ("1", "yes", "true")


def consent_refused_unattended(host_action: str) -> str:
    """The message when nobody is there to ask (a script, a batch run)."""
    return (
        f"Uploading to the Pixian cloud needs consent: run {host_action} once interactively, or set "
        f"{CONSENT_ENV}=yes for unattended use."
    )


# --- the model menu ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelMenu:
    """The dialogs' model menu: (name, label) of installed models, and pull commands for the others."""

    installed: list[tuple[str, str]] = field(default_factory=list)
    pullable: list[tuple[str, str]] = field(default_factory=list)  # (name, command)
    problem: str | None = None


def models_arguments() -> list[str]:
    """The ``pixcut`` arguments that list the model catalogue as JSON."""
    return ["models", "list", "--json"]


def model_menu(text: str, exit_code: int = 0, pixcut: Iterable[str] = ("pixcut",)) -> ModelMenu:
    """Parse ``pixcut models list --json``; the first entry ('') is pixcut's default model.

    A pixcut without the catalogue (or any failure) still gives a menu with the default only and
    a ``problem`` the dialog can show: the model choice is never what stops a removal.
    """
    default = ("", "pixcut's default model")
    try:
        items = json.loads(text) if exit_code == 0 else None
    except ValueError:
        items = None
    if not isinstance(items, list):
        return ModelMenu([default], [], "pixcut did not list its models (pip install -U pixcut)")
    installed, pullable = [default], []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        notes = [str(item.get("family") or "")]
        if item.get("commercial_use") is False:
            notes.append("non-commercial")
        label = f"{name} ({', '.join(n for n in notes if n)})" if any(notes) else name
        if item.get("default"):
            installed[0] = ("", f"pixcut's default model ({name})")
        if item.get("installed"):
            installed.append((name, label))
        else:
            pullable.append((name, shlex.join([*pixcut, "models", "pull", name])))
    return ModelMenu(installed, pullable)


def pull_hint(menu: ModelMenu, limit: int = 4) -> str:
    """One line for the dialog: how to get the models that are not installed."""
    if menu.problem:
        return menu.problem
    if not menu.pullable:
        return "Every known model is installed."
    names = ", ".join(name for name, _ in menu.pullable[:limit]) + (", ..." if len(menu.pullable) > limit else "")
    return f"More models ({names}): pixcut models pull NAME, then reopen this dialog."
