#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""pixcut for GIMP 3: Filters > Remove Background...

GIMP's Python cannot (and should not) import pixcut: this plug-in exports the selected layer
to a PNG, runs the ``pixcut remove --json`` executable (the stable machine interface) and puts
the cutout back into the image. Standard library + GObject introspection only. The decisions
(flags, events, placement, consent) live in ``pixcut_gimp_logic.py`` beside this file, which
unit tests import without GIMP.
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
from gi.repository import Gimp  # noqa: E402
from gi.repository import Gio, GLib, GObject  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pixcut_gimp_logic as logic  # noqa: E402

PLUGIN_DIR = Path(__file__).resolve().parent
DEBUG_DIR_ENV = "PIXCUT_GIMP_DEBUG_DIR"  # keep the exported input + command there (bug reports, tests)


# --- procedure definition ---------------------------------------------------------------------


def _choice(values: tuple[str, ...], labels: dict[str, str]) -> Gimp.Choice:
    """A Gimp.Choice whose nicks are the stable names scripts pass."""
    choice = Gimp.Choice.new()
    for index, nick in enumerate(values):
        choice.add(nick, index, labels.get(nick, nick), "")
    return choice


def add_arguments(procedure: Gimp.Procedure) -> None:
    """One argument per API option: the native dialog shows them, remembers them, scripts pass them."""
    rw = GObject.ParamFlags.READWRITE
    procedure.add_choice_argument(
        "backend",
        "_Backend",
        "Where the background is removed",
        _choice(
            logic.BACKENDS,
            {
                "local": "Offline engine (this computer)",
                "pixian": "Pixian.AI cloud",
                "endpoint": "Custom endpoint (Pixian-compatible server)",
            },
        ),
        "local",
        rw,
    )
    procedure.add_string_argument(
        "endpoint", "_Endpoint URL", "URL of a Pixian-compatible server (backend 'endpoint')", "", rw
    )
    procedure.add_boolean_argument("test", "_Test mode", "Pixian test mode: free, watermarked", False, rw)
    procedure.add_string_argument(
        "background-color", "Background _colour", "'#RRGGBB' to fill the background; empty keeps it transparent", "", rw
    )
    procedure.add_boolean_argument(
        "crop-to-foreground", "C_rop to foreground", "Crop the result to the foreground's bounding box", False, rw
    )
    procedure.add_string_argument(
        "margin", "_Margin", "CSS-style margin around the foreground, e.g. '10px' or '5% 10%'", "", rw
    )
    procedure.add_string_argument(
        "target-size", "Target _size", "Result size 'WIDTH HEIGHT' in pixels; empty keeps the size", "", rw
    )
    procedure.add_choice_argument(
        "vertical-alignment",
        "_Vertical alignment",
        "Where the foreground sits with a target size",
        _choice(logic.VERTICAL_ALIGNMENTS, {"top": "Top", "middle": "Middle", "bottom": "Bottom"}),
        "middle",
        rw,
    )
    procedure.add_choice_argument(
        "output-mode",
        "_Output",
        "What to make of the cutout",
        _choice(
            logic.OUTPUT_MODES,
            {
                "layer": "New layer",
                "mask": "Layer mask on a copy of the layer",
                "selection": "Selection from the cutout's alpha",
            },
        ),
        "layer",
        rw,
    )


def settings_from_config(config: Gimp.ProcedureConfig) -> logic.Settings:
    """The procedure's config as the logic module's Settings."""
    return logic.Settings(
        backend=config.get_property("backend"),
        endpoint=config.get_property("endpoint") or "",
        test=bool(config.get_property("test")),
        background_color=config.get_property("background-color") or "",
        crop_to_foreground=bool(config.get_property("crop-to-foreground")),
        margin=config.get_property("margin") or "",
        target_size=config.get_property("target-size") or "",
        vertical_alignment=config.get_property("vertical-alignment"),
        output_mode=config.get_property("output-mode"),
    )


# --- GIMP helpers -----------------------------------------------------------------------------


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
            raise logic.PixcutGimpError(f"GIMP could not export the layer to {path}")
    finally:
        temp.delete()


def run_pixcut(command: list[str], timeout: float) -> logic.Cutout:
    """Run pixcut, pulse GIMP's progress bar while it works, and return its result (or raise its error)."""
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
            raise logic.PixcutGimpError(f"could not run pixcut ({command[0]}): {exc}") from exc
        lines: queue.Queue = queue.Queue()
        reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        collected = _follow(process, lines, timeout)
        reader.join(timeout=5)
        stderr.seek(0)
        tail = stderr.read()[-2000:]
    return logic.interpret(logic.parse_events(collected), process.returncode, tail)


def _pump(stream, lines: queue.Queue) -> None:
    """Reader thread: hand pixcut's stdout lines over to the GIMP thread."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def _follow(process: subprocess.Popen, lines: queue.Queue, timeout: float) -> list[str]:
    """Collect the output lines, updating progress; kill pixcut when it exceeds ``timeout``."""
    deadline = time.monotonic() + timeout
    collected: list[str] = []
    while True:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise logic.PixcutGimpError(f"pixcut timed out after {timeout:.0f} s") from None
            Gimp.progress_pulse()
            continue
        if line is None:
            break
        collected.append(line)
        for event in logic.parse_events([line]):
            fraction = logic.progress_fraction(event)
            if fraction is not None:
                Gimp.progress_update(fraction)
    process.wait(timeout=max(1.0, deadline - time.monotonic()))
    return collected


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


def insert_above(image: Gimp.Image, new: Gimp.Layer, source: Gimp.Layer) -> None:
    """Insert ``new`` directly above ``source``, in the same group."""
    image.insert_layer(new, source.get_parent(), image.get_item_position(source))


def alpha_to_selection(image: Gimp.Image, cutout: Gimp.Layer) -> None:
    """Replace the selection with the cutout's alpha (the layer must be in the image)."""
    image.select_item(Gimp.ChannelOps.REPLACE, cutout)


def apply_output(
    image: Gimp.Image, source: Gimp.Layer, cutout: Gimp.Layer, offsets: tuple[int, int], settings: logic.Settings
) -> None:
    """Put the loaded cutout into the image as the chosen output mode (inside the caller's undo group)."""
    name = logic.cutout_name(source.get_name())
    insert_above(image, cutout, source)
    cutout.set_offsets(*offsets)
    if settings.output_mode == "layer":
        cutout.set_name(name)
        return
    if settings.output_mode == "selection":
        alpha_to_selection(image, cutout)
        image.remove_layer(cutout)
        return
    # mask: a copy of the source, masked by the cutout's alpha; the user's selection is restored.
    copy = source.copy()
    copy.set_name(name)
    insert_above(image, copy, source)
    if copy.get_mask() is not None:
        copy.remove_mask(Gimp.MaskApplyMode.APPLY)
    if not copy.has_alpha():
        copy.add_alpha()
    saved = Gimp.Selection.save(image)
    try:
        alpha_to_selection(image, cutout)
        copy.add_mask(copy.create_mask(Gimp.AddMaskType.SELECTION))
    finally:
        image.select_item(Gimp.ChannelOps.REPLACE, saved)
        image.remove_channel(saved)
        image.remove_layer(cutout)


# --- consent ----------------------------------------------------------------------------------


def consent_file() -> Path:
    """Stored in the user's GIMP profile, not in the image or the plug-in folder."""
    return Path(Gimp.directory()) / logic.CONSENT_FILE


def ask_consent() -> bool:
    """Ask once before the first upload to the Pixian cloud."""
    gi.require_version("GimpUi", "3.0")
    gi.require_version("Gtk", "3.0")
    from gi.repository import GimpUi, Gtk

    GimpUi.init("pixcut-gimp")
    dialog = Gtk.MessageDialog(
        message_type=Gtk.MessageType.QUESTION,
        buttons=Gtk.ButtonsType.YES_NO,
        text="Upload this layer to the Pixian.AI cloud?",
    )
    dialog.format_secondary_text(
        "The Pixian backend sends the layer's pixels to pixian.ai to remove the background, using the "
        "credentials from pixcut's configuration. This is asked once; choose the offline engine "
        "to keep images on this computer."
    )
    answer = dialog.run()
    dialog.destroy()
    return answer == Gtk.ResponseType.YES


def check_consent(settings: logic.Settings, run_mode: Gimp.RunMode) -> None:
    """Raise unless the user agreed to cloud uploads (asked once when a person is there to answer)."""
    if not settings.uploads_to_cloud or logic.has_consent(consent_file()):
        return
    if run_mode == Gimp.RunMode.NONINTERACTIVE:
        raise logic.PixcutGimpError(
            "Uploading to the Pixian cloud needs consent: run Filters > Remove Background once from "
            f"the menu, or set {logic.CONSENT_ENV}=yes for unattended use."
        )
    if not ask_consent():
        raise logic.PixcutGimpError("Upload to the Pixian cloud declined; nothing was changed.")
    logic.store_consent(consent_file())


# --- the procedures ---------------------------------------------------------------------------


def show_dialog(procedure: Gimp.Procedure, config: Gimp.ProcedureConfig) -> bool:
    """The native procedure dialog (it remembers the last values itself)."""
    gi.require_version("GimpUi", "3.0")
    from gi.repository import GimpUi

    GimpUi.init("pixcut-gimp")
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Remove Background")
    dialog.fill(None)
    accepted = dialog.run()
    dialog.destroy()
    return bool(accepted)


def remove_background(image: Gimp.Image, layer: Gimp.Layer, settings: logic.Settings) -> None:
    """Export, run pixcut, load the cutout, then change the image in one undo group (never the source)."""
    pixcut = logic.find_pixcut(PLUGIN_DIR)
    with tempfile.TemporaryDirectory(prefix="pixcut-gimp-") as work:
        source_png = str(Path(work) / "layer.png")
        result_png = str(Path(work) / "cutout.png")
        Gimp.progress_init("Removing the background...")
        export_layer(layer, source_png)
        command = logic.build_command(pixcut, source_png, result_png, settings)
        keep_debug_copy(source_png, command)
        cutout = run_pixcut(command, logic.timeout_seconds())
        offsets = logic.placement(tuple(layer.get_offsets()[1:]), cutout, settings)
        try:
            result_file = Gio.File.new_for_path(cutout.output)
            loaded = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image, result_file)
        except GLib.Error as exc:
            raise logic.PixcutGimpError(f"GIMP could not load pixcut's result: {exc.message}") from exc
        if loaded is None:
            raise logic.PixcutGimpError("GIMP could not load pixcut's result")
        image.undo_group_start()
        try:
            apply_output(image, layer, loaded, offsets, settings)
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
    except logic.PixcutGimpError as exc:
        return error_values(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, f"pixcut: {exc}")
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def run_repeat(procedure, run_mode, image, drawables, config, run_data):
    """Filters > Remove Background (last values): the main procedure with its last-used values, no dialog."""
    main = Gimp.get_pdb().lookup_procedure(logic.PROCEDURE)
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
    message = message or "Remove Background failed"
    return error_values(procedure, status, message)


class PixcutGimp(Gimp.PlugIn):
    """Registers the two procedures."""

    def do_query_procedures(self):
        return [logic.PROCEDURE, logic.PROCEDURE_REPEAT]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        if name == logic.PROCEDURE:
            procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run_remove, None)
            procedure.set_menu_label("Remove _Background...")
            procedure.set_documentation(
                "Remove the background of the selected layer with pixcut",
                "Runs 'pixcut remove' (offline engine, Pixian.AI cloud or a custom endpoint) on the selected "
                "layer and adds the cutout above it as a new layer, a masked copy, or a selection. "
                "The source layer is never modified.",
                name,
            )
            add_arguments(procedure)
        elif name == logic.PROCEDURE_REPEAT:
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
