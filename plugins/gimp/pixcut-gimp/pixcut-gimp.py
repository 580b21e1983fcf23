#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""pixcut for GIMP 3: Filters > Remove Background...

GIMP's Python cannot (and should not) import pixcut: this plug-in exports the selected layer
to a PNG, runs the ``pixcut remove --json`` executable (the stable machine interface) and puts
the result back into the image. Standard library + GObject introspection only. Every decision
that is not about GIMP (settings, arguments, events, errors, placement, naming, consent, the
model menu, Flatpak) is the host kit's: ``pixcut_hostkit.py``, which ``pixcut hosts install gimp``
puts beside this file. This file keeps the GIMP glue: procedure and dialog, pixels in and out, undo.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402
from gi.repository import Gio, GLib, GObject  # noqa: E402

PLUGIN_DIR = str(Path(__file__).resolve().parent)
sys.path.insert(0, PLUGIN_DIR)
import pixcut_hostkit as kit  # noqa: E402

HOST = "gimp"
PROCEDURE = "plug-in-pixcut-remove-background"
PROCEDURE_REPEAT = "plug-in-pixcut-remove-background-repeat"
TIMEOUT_ENV = "PIXCUT_GIMP_TIMEOUT"
DEBUG_DIR_ENV = "PIXCUT_GIMP_DEBUG_DIR"  # keep the exported input + command there (bug reports, tests)
CONSENT_FILE = "pixcut-cloud-consent.json"
MASK_NAME = "pixcut mask"


# --- procedure definition ---------------------------------------------------------------------


def prop(name: str) -> str:
    """The GIMP argument name of a kit option (GIMP wants dashes)."""
    return name.replace("_", "-")


def _choice(option: kit.Option) -> Gimp.Choice:
    """A Gimp.Choice whose nicks are the stable names scripts pass."""
    labels = {"backend": kit.BACKEND_LABELS, "output_mode": kit.MODE_LABELS}.get(option.name, {})
    choice = Gimp.Choice.new()
    for index, nick in enumerate(option.choices):
        choice.add(nick, index, labels.get(nick, nick.capitalize()), "")
    return choice


def add_arguments(procedure: Gimp.Procedure) -> None:
    """One argument per kit option: the dialog shows them, GIMP remembers them, scripts pass them."""
    rw = GObject.ParamFlags.READWRITE
    for option in kit.OPTIONS:
        name = prop(option.name)
        if option.kind == "choice":
            procedure.add_choice_argument(name, option.label, option.help, _choice(option), option.default, rw)
        elif option.kind == "bool":
            procedure.add_boolean_argument(name, option.label, option.help, option.default, rw)
        else:
            procedure.add_string_argument(name, option.label, option.help, option.default, rw)


def settings_from_config(config: Gimp.ProcedureConfig) -> kit.Settings:
    """The procedure's config as the kit's Settings."""
    return kit.Settings.from_mapping({option.name: config.get_property(prop(option.name)) for option in kit.OPTIONS})


# --- running pixcut ---------------------------------------------------------------------------


def find_pixcut() -> list[str]:
    return kit.find_pixcut(HOST, PLUGIN_DIR, sandbox=kit.detect_sandbox())


def run_pixcut(command: list[str], timeout: float) -> kit.Cutout:
    """Run pixcut, move GIMP's progress bar while it works, and return its result (or raise its error)."""
    reader = kit.EventReader(HOST, command[: command.index("remove")])
    with tempfile.TemporaryFile(mode="w+") as stderr:
        try:
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            raise kit.HostError(f"could not run pixcut ({command[0]}): {exc}") from exc
        lines: queue.Queue = queue.Queue()
        pump = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        pump.start()
        _follow(process, lines, reader, timeout)
        pump.join(timeout=5)
        reader.finish()
        stderr.seek(0)
        tail = stderr.read()[-2000:]
    message = kit.failure_message(reader.outcome, process.returncode, tail, HOST, reader.pixcut)
    if message:
        raise kit.HostError(message)
    notice = kit.stale_notice(kit.read_location(PLUGIN_DIR), reader.outcome.start, HOST, reader.pixcut)
    if notice:
        Gimp.message(notice)
    return kit.cutout(reader.outcome)


def _pump(stream, lines: queue.Queue) -> None:
    """Reader thread: hand pixcut's stdout lines over to the GIMP thread."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def _follow(process: subprocess.Popen, lines: queue.Queue, reader: kit.EventReader, timeout: float) -> None:
    """Feed the output lines to the kit's reader, updating progress; kill pixcut past ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise kit.HostError(f"pixcut timed out after {timeout:.0f} s") from None
            Gimp.progress_pulse()
            continue
        if line is None:
            break
        reader.feed(line)
        if reader.outcome.fraction is not None:
            Gimp.progress_update(reader.outcome.fraction)
    process.wait(timeout=max(1.0, deadline - time.monotonic()))


def keep_debug_copy(input_path: str, command: list[str]) -> None:
    """With PIXCUT_GIMP_DEBUG_DIR set, keep exactly what pixcut saw (reproduce a result outside GIMP)."""
    folder = os.environ.get(DEBUG_DIR_ENV, "").strip()
    if not folder:
        return
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.time_ns()}"
    shutil.copyfile(input_path, target / f"input-{stamp}.png")
    (target / f"command-{stamp}.txt").write_text("\n".join(command) + "\n", encoding="utf-8")


# --- pixels in and out ------------------------------------------------------------------------


def export_layer(layer: Gimp.Layer, path: str) -> None:
    """Write the layer's own pixels (not the composite) as an 8-bit RGB(A) PNG, whatever its precision.

    A throw-away image of the layer's size holds a copy at (0, 0), fully opaque and visible, in
    normal mode; it is converted to 8-bit gamma RGB so pixcut always reads the same kind of PNG.
    """
    image = layer.get_image()
    temp = Gimp.Image.new_with_precision(
        layer.get_width(), layer.get_height(), image.get_base_type(), image.get_precision()
    )
    try:
        copy = Gimp.Layer.new_from_drawable(layer, temp)
        temp.insert_layer(copy, None, 0)
        copy.set_offsets(0, 0)
        copy.set_visible(True)
        copy.set_opacity(100.0)
        copy.set_mode(Gimp.LayerMode.NORMAL)
        if copy.get_mask() is not None:
            copy.remove_mask(Gimp.MaskApplyMode.APPLY)
        if temp.get_base_type() != Gimp.ImageBaseType.RGB:
            temp.convert_rgb()
        if temp.get_precision() != Gimp.Precision.U8_NON_LINEAR:
            temp.convert_precision(Gimp.Precision.U8_NON_LINEAR)
        if not Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, temp, Gio.File.new_for_path(path), None):
            raise kit.HostError(f"GIMP could not export the layer to {path}")
    finally:
        temp.delete()


def load_result(image: Gimp.Image, path: str) -> Gimp.Layer:
    """pixcut's PNG as a (not yet inserted) layer of ``image``."""
    try:
        loaded = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(path))
    except GLib.Error as exc:
        raise kit.HostError(f"GIMP could not load pixcut's result: {exc.message}") from exc
    if loaded is None:
        raise kit.HostError("GIMP could not load pixcut's result")
    return loaded


def mask_values(loaded: Gimp.Layer) -> bytes:
    """The 8-bit mask pixcut wrote, read back from the loaded layer (its grey is in every channel)."""
    width, height = loaded.get_width(), loaded.get_height()
    rect = Gegl.Rectangle.new(0, 0, width, height)
    data = bytes(loaded.get_buffer().get(rect, 1.0, "R'G'B' u8", Gegl.AbyssPolicy.NONE))
    return data[0::3]


def add_mask_from(layer: Gimp.Layer, values: bytes) -> Gimp.LayerMask:
    """Give ``layer`` a layer mask holding ``values`` (the layer's size), as an undoable change.

    Masks are linear data in GIMP ("Y u8" for 8-bit images), so the matte's bytes go in unchanged.
    """
    mask = layer.create_mask(Gimp.AddMaskType.BLACK)
    layer.add_mask(mask)
    width, height = mask.get_width(), mask.get_height()
    shadow = mask.get_shadow_buffer()
    shadow.set(Gegl.Rectangle.new(0, 0, width, height), "Y u8", values)
    shadow.flush()
    mask.merge_shadow(True)
    mask.update(0, 0, width, height)
    return mask


def insert_above(image: Gimp.Image, new: Gimp.Layer, source: Gimp.Layer) -> None:
    """Insert ``new`` directly above ``source``, in the same group."""
    image.insert_layer(new, source.get_parent(), image.get_item_position(source))


def apply_output(image: Gimp.Image, source: Gimp.Layer, loaded: Gimp.Layer, result: kit.Cutout, settings) -> None:
    """Put the loaded result into the image as the chosen output (inside the caller's undo group)."""
    x, y = kit.placement(*source.get_offsets()[1:], result)
    name = kit.cutout_name(source.get_name())
    if settings.output_mode == "layer":
        insert_above(image, loaded, source)
        loaded.set_offsets(x, y)
        loaded.set_name(name)
        return
    values = mask_values(loaded)
    loaded.delete()
    if settings.output_mode == "mask":
        copy = source.copy()
        copy.set_name(name)
        insert_above(image, copy, source)
        if copy.get_mask() is not None:
            copy.remove_mask(Gimp.MaskApplyMode.APPLY)
        if not copy.has_alpha():
            copy.add_alpha()
        add_mask_from(copy, values).set_name(MASK_NAME)
        return
    # selection: the matte on a temporary layer mask at the layer's place, selected, then dropped
    rgb = image.get_base_type() == Gimp.ImageBaseType.RGB
    kind = Gimp.ImageType.RGBA_IMAGE if rgb else Gimp.ImageType.GRAYA_IMAGE
    holder = Gimp.Layer.new(
        image, MASK_NAME, source.get_width(), source.get_height(), kind, 100.0, Gimp.LayerMode.NORMAL
    )
    insert_above(image, holder, source)
    holder.set_offsets(x, y)
    image.select_item(Gimp.ChannelOps.REPLACE, add_mask_from(holder, values))
    image.remove_layer(holder)


# --- consent ----------------------------------------------------------------------------------


def consent_file() -> Path:
    """Stored in the user's GIMP profile, not in the image or the plug-in folder."""
    return Path(Gimp.directory()) / CONSENT_FILE


def stored_consent() -> bool:
    try:
        return '"pixian_cloud": true' in consent_file().read_text(encoding="utf-8")
    except OSError:
        return False


def store_consent() -> None:
    """Remember the user's yes (atomically, so a crash never leaves a half-written file)."""
    target = consent_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text('{"pixian_cloud": true}\n', encoding="utf-8")
    os.replace(tmp, target)


def ask_consent() -> bool:
    """Ask once before the first upload to the Pixian cloud."""
    gi.require_version("GimpUi", "3.0")
    gi.require_version("Gtk", "3.0")
    from gi.repository import GimpUi, Gtk

    GimpUi.init("pixcut-gimp")
    dialog = Gtk.MessageDialog(
        message_type=Gtk.MessageType.QUESTION, buttons=Gtk.ButtonsType.YES_NO, text=kit.CONSENT_QUESTION
    )
    dialog.format_secondary_text(kit.CONSENT_DETAIL)
    answer = dialog.run()
    dialog.destroy()
    return answer == Gtk.ResponseType.YES


def check_consent(settings: kit.Settings, run_mode: Gimp.RunMode) -> None:
    """Raise unless the user agreed to cloud uploads (asked once when a person is there to answer)."""
    if not kit.consent_needed(settings, stored_consent()):
        return
    if run_mode == Gimp.RunMode.NONINTERACTIVE:
        raise kit.HostError(kit.consent_refused_unattended("Filters > Remove Background"))
    if not ask_consent():
        raise kit.HostError("Upload to the Pixian cloud declined; nothing was changed.")
    store_consent()


# --- the dialog -------------------------------------------------------------------------------


def model_menu() -> kit.ModelMenu:
    """The installed models (``pixcut models list --json``); a failure leaves the default only."""
    try:
        pixcut = find_pixcut()
        done = subprocess.run(
            [*pixcut, *kit.models_arguments()], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        )
    except (kit.HostError, OSError, subprocess.SubprocessError) as exc:
        return kit.ModelMenu([("", "pixcut's default model")], [], str(exc))
    return kit.model_menu(done.stdout, done.returncode, pixcut)


def show_dialog(procedure: Gimp.Procedure, config: Gimp.ProcedureConfig) -> bool:
    """The native procedure dialog: general options, a model menu, and a frame of the layer-only options.

    The layer-only options (the kit's schema says which) are greyed out unless the output is a new
    layer: a mask or selection is always the layer's own alpha at the layer's size.
    """
    gi.require_version("GimpUi", "3.0")
    gi.require_version("Gtk", "3.0")
    from gi.repository import GimpUi, Gtk

    GimpUi.init("pixcut-gimp")
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Remove Background")
    general = [prop(o.name) for o in kit.OPTIONS if o.modes != kit.LAYER_ONLY and o.name != "model"]
    layer_only = [prop(o.name) for o in kit.OPTIONS if o.modes == kit.LAYER_ONLY]
    dialog.fill_box("pixcut-layer-box", layer_only)
    dialog.get_label(
        "pixcut-layer-title", "New layer only (mask and selection use the layer's own alpha)", False, False
    )
    dialog.fill_frame("pixcut-layer-frame", "pixcut-layer-title", False, "pixcut-layer-box")
    only_layer = Gimp.ValueArray.new(1)
    only_layer.append(GObject.Value(GObject.TYPE_STRING, "layer"))
    for name in layer_only:
        dialog.set_sensitive_if_in(name, None, "output-mode", only_layer, True)
    dialog.fill(general + ["pixcut-layer-frame"])

    menu = model_menu()
    store = Gtk.ListStore(str, str)
    current = config.get_property("model") or ""
    for name, label in menu.installed + ([] if any(n == current for n, _ in menu.installed) else [(current, current)]):
        store.append([name, label])
    combo = GimpUi.prop_string_combo_box_new(config, "model", store, 0, 1)
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
    row.pack_start(Gtk.Label(label="Model"), False, False, 0)
    row.pack_start(combo, True, True, 0)
    hint = Gtk.Label(label=kit.pull_hint(menu))
    hint.set_xalign(0.0)
    hint.set_line_wrap(True)
    hint.set_selectable(True)
    area = dialog.get_content_area()
    area.pack_start(row, False, False, 6)
    area.pack_start(hint, False, False, 0)
    row.show_all()
    hint.show()

    accepted = dialog.run()
    dialog.destroy()
    return bool(accepted)


# --- the procedures ---------------------------------------------------------------------------


def remove_background(image: Gimp.Image, layer: Gimp.Layer, settings: kit.Settings) -> None:
    """Export, run pixcut, load the result, then change the image in ONE undo group (never the source)."""
    pixcut = find_pixcut()
    work_parent = kit.shared_work_dir(kit.detect_sandbox())
    with tempfile.TemporaryDirectory(prefix="pixcut-gimp-", dir=work_parent) as work:
        source_png = str(Path(work) / "layer.png")
        result_png = str(Path(work) / "result.png")
        Gimp.progress_init("Removing the background...")
        export_layer(layer, source_png)
        command = [*pixcut, *kit.remove_arguments(settings, source_png, result_png)]
        keep_debug_copy(source_png, command)
        result = run_pixcut(command, kit.timeout_seconds(os.environ.get(TIMEOUT_ENV, kit.DEFAULT_TIMEOUT)))
        loaded = load_result(image, result.output)
        image.undo_group_start()
        try:
            apply_output(image, layer, loaded, result, settings)
        finally:
            image.undo_group_end()
        Gimp.progress_update(1.0)
        Gimp.progress_end()
    Gimp.displays_flush()


def error_values(procedure: Gimp.Procedure, status: Gimp.PDBStatusType, message: str):
    """Return values carrying ``message``; GIMP shows it in its error console / message box."""
    return procedure.new_return_values(status, GLib.Error.new_literal(Gimp.PlugIn.error_quark(), message, 0))


def run_remove(procedure, run_mode, image, drawables, config, run_data):
    """Filters > Remove Background...: dialog (interactive), then the removal."""
    if len(drawables) != 1 or not isinstance(drawables[0], Gimp.Layer) or drawables[0].is_group():
        return error_values(
            procedure,
            Gimp.PDBStatusType.CALLING_ERROR,
            "Remove Background works on exactly one selected (non-group) layer.",
        )
    if run_mode == Gimp.RunMode.INTERACTIVE and not show_dialog(procedure, config):
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
    try:
        settings = settings_from_config(config)
        check_consent(settings, run_mode)
        remove_background(image, drawables[0], settings)
    except kit.HostError as exc:
        return error_values(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, f"pixcut: {exc}")
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def run_repeat(procedure, run_mode, image, drawables, config, run_data):
    """Filters > Remove Background (last values): the main procedure with its last-used values, no dialog."""
    main = Gimp.get_pdb().lookup_procedure(PROCEDURE)
    main_config = main.create_config()
    main_config.set_property("run-mode", Gimp.RunMode.WITH_LAST_VALS)
    main_config.set_property("image", image)
    main_config.set_core_object_array("drawables", list(drawables))
    result = main.run(main_config)
    status = result.index(0)
    if status == Gimp.PDBStatusType.SUCCESS:
        return procedure.new_return_values(status, GLib.Error())
    error = result.index(1) if result.length() > 1 else None
    message = error if isinstance(error, str) else getattr(error, "message", None)
    return error_values(procedure, status, message or "Remove Background failed")


class PixcutGimp(Gimp.PlugIn):
    """Registers the two procedures."""

    def do_query_procedures(self):
        return [PROCEDURE, PROCEDURE_REPEAT]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        if name == PROCEDURE:
            procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run_remove, None)
            procedure.set_menu_label("Remove _Background...")
            procedure.set_documentation(
                "Remove the background of the selected layer with pixcut",
                "Runs 'pixcut remove' (offline engine, Pixian.AI cloud or a custom endpoint) on the selected "
                "layer and adds the cutout above it as a new layer, a masked copy, or a selection. "
                "The source layer is never modified; background colour, crop, margin, target size and "
                "alignment apply to the new-layer output only.",
                name,
            )
            add_arguments(procedure)
        elif name == PROCEDURE_REPEAT:
            procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run_repeat, None)
            procedure.set_menu_label("Remove Background (_last values)")
            procedure.set_documentation(
                "Remove the background again with the last-used values",
                "Runs plug-in-pixcut-remove-background with its last-used values, without a dialog.",
                name,
            )
        else:
            return None
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.add_menu_path("<Image>/Filters")
        procedure.set_attribution("pixcut", "Apache-2.0", "2025")
        return procedure


if __name__ == "__main__":
    Gimp.main(PixcutGimp.__gtype__, sys.argv)
