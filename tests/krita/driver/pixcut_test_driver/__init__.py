"""Test-only Krita extension: runs one job file against pixcut_krita in a real Krita, then quits.

Inert unless the environment variable PIXCUT_KRITA_JOB names a job (JSON). It opens the image,
triggers an action, closes any message box (recording its text), records the layer stack and
pixels before/after into a JSON report, and always quits through ``file_quit``.
"""

import json
import os
import sys
import time
import traceback

from krita import Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QDockWidget, QMessageBox

JOB_PATH = os.environ.get("PIXCUT_KRITA_JOB", "")


class Driver:
    """One job: every step reports into ``self.report``; anything unexpected ends the run."""

    def __init__(self, job: dict) -> None:
        self.job = job
        self.report = {"message_boxes": [], "events": []}
        self.doc = None
        self.source = None
        self.done = False
        self.t0 = time.monotonic()
        self.poller = QTimer()
        self.poller.timeout.connect(self.close_message_boxes)
        self.watchdog = QTimer()
        self.watchdog.setSingleShot(True)
        self.watchdog.timeout.connect(lambda: self.finish("watchdog: no result in time"))

    # ---------------------------------------------------------------- steps

    def start(self) -> None:
        try:
            self.watchdog.start(int(self.job.get("timeout", 60) * 1000))
            self.poller.start(100)
            self.open_image()
            self.report["plugin_loaded"] = Krita.instance().action(self.job["action"]) is not None
            if not self.report["plugin_loaded"]:
                return self.finish("the pixcut action is not registered")
            if self.job.get("warmup"):
                return self.finish(None)
            if self.job.get("show_docker"):
                self.show_docker()
            from pixcut_krita import extension

            extension.status.finished.connect(self.on_finished)
            self.report["layers_before"] = layer_stack(self.doc)
            self.t_trigger = time.monotonic()
            Krita.instance().action(self.job["action"]).trigger()
        except Exception:  # any failure must end in a report, not a hung Krita
            self.finish("driver error: " + traceback.format_exc())

    def open_image(self) -> None:
        app = Krita.instance()
        app.setBatchmode(True)
        self.doc = app.openDocument(self.job["image"])
        self.doc.setBatchmode(True)
        app.activeWindow().addView(self.doc)
        self.source = self.doc.topLevelNodes()[0]
        if self.job.get("move"):
            self.source.move(*self.job["move"])
        self.doc.setActiveNode(self.source)
        self.doc.waitForDone()
        self.report["source"] = describe(self.source)
        self.source_pixels = save_pixels(self.source, self.job["out_dir"], "source")
        self.report["source"]["png"] = save_png(self.source, self.job["out_dir"], "source")

    def show_docker(self) -> None:
        window = Krita.instance().activeWindow().qwindow()
        window.showMaximized()  # Xvfb has no window manager: fill the screen for the screenshot
        for dock in window.findChildren(QDockWidget):
            if dock.objectName() == "pixcut_docker":
                dock.show()
                dock.raise_()
                self.report["docker_shown"] = True

    def close_message_boxes(self) -> None:
        """A message box would block the run (and a headless test) forever: record and close it."""
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible():
                self.report["message_boxes"].append(widget.text())
                widget.done(QMessageBox.Ok)

    def on_finished(self, outcome: str, message: str) -> None:
        # the whole action as the user waits for it: export, pixcut, insertion (or the error box)
        self.report["action_seconds"] = round(time.monotonic() - self.t_trigger, 3)
        self.report["events"].append([outcome, message])
        QTimer.singleShot(200, lambda: self.after(outcome, message))

    def after(self, outcome: str, message: str) -> None:
        try:
            self.doc.waitForDone()
            self.report["status"], self.report["message"] = outcome, message
            self.report["seconds"] = round(time.monotonic() - self.t0, 2)
            self.report["layers_after"] = layer_stack(self.doc)
            self.report["source_unchanged"] = self.source_pixels == raw_pixels(self.source)
            self.record_cutout()
            self.record_selection()
            if self.job.get("hide_source"):
                self.source.setVisible(False)  # show the cutout alone on the checkerboard
                self.doc.refreshProjection()
            if self.job.get("screenshot"):
                return QTimer.singleShot(1500, self.screenshot_then_finish)
            if self.job.get("undo"):
                self.report["krita_version"] = Krita.instance().version()
                self.report["one_step_masks"] = hasattr(self.doc, "createTransparencyMask")  # Krita 5.2+
                self.report["stacks_after_undo"] = []
                for _ in range(int(self.job["undo"])):
                    Krita.instance().action("edit_undo").trigger()
                    self.doc.waitForDone()
                    self.report["stacks_after_undo"].append(layer_stack(self.doc))
                self.report["layers_after_undo"] = self.report["stacks_after_undo"][0]
            self.finish(None)
        except Exception:  # any failure must end in a report, not a hung Krita
            self.finish("driver error: " + traceback.format_exc())

    def record_cutout(self) -> None:
        for node in self.doc.topLevelNodes():
            if node.name().endswith("(cutout)"):
                info = describe(node)
                info["bin"] = save_raw(node, self.job["out_dir"], "cutout")
                masks = [child for child in node.childNodes() if child.type() == "transparencymask"]
                if masks:
                    info["mask"] = describe(masks[0])
                    info["mask"]["bin"] = save_raw(masks[0], self.job["out_dir"], "mask")
                self.report["cutout"] = info

    def record_selection(self) -> None:
        selection = self.doc.selection()
        if selection is None or selection.width() <= 0:
            return
        box = [selection.x(), selection.y(), selection.width(), selection.height()]
        path = os.path.join(self.job["out_dir"], "selection.bin")
        with open(path, "wb") as handle:
            handle.write(bytes(selection.pixelData(*box)))
        self.report["selection"] = {"bounds": box, "bin": path}

    def screenshot_then_finish(self) -> None:
        window = Krita.instance().activeWindow().qwindow()
        QApplication.primaryScreen().grabWindow(window.winId()).save(self.job["screenshot"], "PNG")
        self.report["screenshot"] = self.job["screenshot"]
        self.finish(None)

    def finish(self, problem) -> None:
        if self.done:
            return
        self.done = True
        self.poller.stop()
        self.watchdog.stop()
        if problem:
            self.report["problem"] = problem
        with open(self.job["report"], "w") as handle:
            json.dump(self.report, handle, indent=1)
        for doc in Krita.instance().documents():
            doc.setModified(False)
        QTimer.singleShot(100, lambda: Krita.instance().action("file_quit").trigger())


# -------------------------------------------------------------------- recording helpers


def bounds(node) -> list:
    rect = node.bounds()
    return [rect.x(), rect.y(), rect.width(), rect.height()]


def describe(node) -> dict:
    return {"name": node.name(), "type": node.type(), "bounds": bounds(node)}


def layer_stack(doc) -> list:
    """Top-level nodes bottom to top, with their children (masks)."""
    return [
        dict(describe(node), children=[describe(child) for child in node.childNodes()]) for node in doc.topLevelNodes()
    ]


def raw_pixels(node) -> bytes:
    x, y, w, h = bounds(node)
    return bytes(node.pixelData(x, y, w, h)) if w and h else b""


def save_raw(node, out_dir: str, stem: str) -> str:
    path = os.path.join(out_dir, stem + ".bin")
    with open(path, "wb") as handle:
        handle.write(raw_pixels(node))
    return path


def save_pixels(node, out_dir: str, stem: str) -> bytes:
    save_raw(node, out_dir, stem)
    return raw_pixels(node)


def save_png(node, out_dir: str, stem: str) -> str:
    """The source exactly as the plug-in exports it (same codec), to run pixcut on it directly."""
    from pixcut_krita.pixels import bgra_to_rgba, encode_png

    _x, _y, w, h = bounds(node)
    path = os.path.join(out_dir, stem + ".png")
    with open(path, "wb") as handle:
        handle.write(encode_png(bgra_to_rgba(raw_pixels(node)), w, h))
    return path


def _excepthook(kind, value, tb) -> None:
    """Krita's traceback dialog is not modal and would hang the run: print instead."""
    traceback.print_exception(kind, value, tb)


if JOB_PATH:
    with open(JOB_PATH) as _handle:
        _driver = Driver(json.load(_handle))
    sys.excepthook = _excepthook
    Krita.instance().notifier().windowCreated.connect(lambda: QTimer.singleShot(300, _driver.start))
