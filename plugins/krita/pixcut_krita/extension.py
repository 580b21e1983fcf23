"""The Remove Background actions and the run that ties layer export, pixcut and insertion together."""

from __future__ import annotations

import os
import shutil
import tempfile

from krita import Extension, Krita
from PyQt5.QtCore import QObject, pyqtSignal
from PyQt5.QtWidgets import QApplication, QDialog, QDialogButtonBox, QMessageBox, QVBoxLayout

from . import layers, store
from . import pixcut_hostkit as kit
from .form import OptionsForm, list_models
from .job import HOST, find_pixcut
from .pixels import encode_png

ACTION_ID = "pixcut_remove_background"
REPEAT_ACTION_ID = "pixcut_remove_background_repeat"
PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))
TITLE = "Remove Background"


class _Status(QObject):
    """``finished(status, message)`` after every run: "ok", "error" or "cancelled" (for scripts, tests)."""

    finished = pyqtSignal(str, str)


status = _Status()
_running: dict = {}
_noticed: list = []


def main_window():
    window = Krita.instance().activeWindow()
    return window.qwindow() if window is not None else QApplication.activeWindow()


def show_error(message: str) -> None:
    QMessageBox.critical(main_window(), f"pixcut: {TITLE}", message)


def ask_consent(settings: kit.Settings) -> bool:
    """Ask once before the first upload to the Pixian cloud (the kit's rule); remember a yes."""
    if not kit.consent_needed(settings, store.has_consent()):
        return True
    answer = QMessageBox.question(
        main_window(),
        "pixcut: upload to Pixian",
        f"{kit.CONSENT_QUESTION}\n\n{kit.CONSENT_DETAIL}",
        QMessageBox.Yes | QMessageBox.No,
        QMessageBox.No,
    )
    if answer != QMessageBox.Yes:
        return False
    store.give_consent()
    return True


def ask_settings() -> bool:
    """The dialog of the Remove Background action: edit, store, and go (True) or cancel."""
    dialog = QDialog(main_window())
    dialog.setObjectName("pixcut_dialog")
    dialog.setWindowTitle(TITLE)
    form = OptionsForm(dialog)
    form.set_settings(store.load())
    list_models(form)
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, dialog)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(form)
    layout.addWidget(buttons)
    if dialog.exec_() != QDialog.Accepted:
        return False
    store.save(form.settings())
    return True


def remove_background(with_dialog: bool = False) -> None:
    """Entry point of both actions and the docker's button; every failure ends in a message box."""
    if _running:
        show_error("A background removal is already running.")
        return
    if with_dialog and not ask_settings():
        return
    try:
        _start(store.load())
    except kit.HostError as error:
        _report("error", str(error))


def _start(settings: kit.Settings) -> None:
    """Export the layer, build the command and launch pixcut; insertion happens in ``_on_done``."""
    doc, source = layers.active_source()
    command = find_pixcut()
    if not ask_consent(settings):
        raise kit.HostError("Cancelled: uploading to the Pixian cloud was not allowed.")
    exported = layers.export_layer(source)
    workdir = tempfile.mkdtemp(prefix="pixcut-krita-", dir=kit.shared_work_dir(kit.detect_sandbox()))
    input_path = os.path.join(workdir, "layer.png")
    output_path = os.path.join(workdir, "result.png")
    try:
        argv = command + kit.remove_arguments(settings, input_path, output_path)
        with open(input_path, "wb") as handle:
            handle.write(encode_png(exported.rgba, exported.width, exported.height))
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    from .job import RemovalJob

    job = RemovalJob(argv, store.timeout(), main_window(), f"Removing the background of {source.name()}...")
    _running.update(job=job, doc=doc, source=source, exported=exported, workdir=workdir, settings=settings)
    job.done.connect(_on_done)
    job.start()


def _on_done(outcome: str, payload) -> None:
    run = dict(_running)
    _running.clear()
    try:
        if outcome == "ok":
            _insert(run, payload)
            notice = kit.stale_notice(kit.read_location(PLUGIN_DIR), payload.start, HOST, run["job"].pixcut)
            if notice and not _noticed:
                _noticed.append(notice)  # once per Krita session
                QMessageBox.information(main_window(), f"pixcut: {TITLE}", notice)
            _report("ok", kit.cutout_name(run["source"].name()))
        elif outcome == "cancelled":
            _report("cancelled", "")
        else:
            _report("error", str(payload))
    except kit.HostError as error:
        _report("error", str(error))
    except Exception as error:  # never leave Krita's traceback dialog behind
        _report("error", f"Could not insert the result: {error}")
    finally:
        shutil.rmtree(run.get("workdir", ""), ignore_errors=True)
        job = run.get("job")
        if job is not None:
            job.deleteLater()


def _insert(run: dict, outcome: kit.Outcome) -> None:
    """Decode the result PNG and place it by the contract's placement rule, as the chosen output."""
    doc, source, exported, settings = run["doc"], run["source"], run["exported"], run["settings"]
    if not layers.is_attached(doc, source):
        raise kit.HostError("The source layer was removed while pixcut ran; nothing was inserted.")
    result = kit.cutout(outcome)
    x, y = kit.placement(exported.x, exported.y, result)
    if settings.output_mode == "layer":
        width, height, rgba = layers.read_result(result.output)
        layers.insert_layer(doc, source, rgba, x, y, width, height)
        return
    width, height, mask = layers.read_mask(result.output)
    if settings.output_mode == "mask":
        layers.insert_mask(doc, source, mask, x, y, width, height)
    else:
        layers.select_mask(doc, mask, x, y, width, height)


def _report(outcome: str, message: str) -> None:
    if outcome == "error":
        show_error(message)
    status.finished.emit(outcome, message)


class PixcutExtension(Extension):
    """Registers the two actions (Tools > Scripts; shortcuts assignable in Krita's settings)."""

    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:  # noqa: N802 (Krita's API name)
        action = window.createAction(ACTION_ID, "Remove Background...", "tools/scripts")
        action.setToolTip("Cut out the active layer's subject into a new layer (pixcut)")
        action.triggered.connect(lambda: remove_background(with_dialog=True))
        repeat = window.createAction(REPEAT_ACTION_ID, "Remove Background (last settings)", "tools/scripts")
        repeat.setToolTip("Remove the background with the stored settings, no dialog")
        repeat.triggered.connect(lambda: remove_background(with_dialog=False))
