"""Run ``pixcut`` in a QProcess with a progress dialog, a Cancel and a timeout.

The core runs as a separate process so Krita's GUI thread never blocks on the model or the
network, and so a Cancel can kill it outright. The host kit reads the events; results come back
through ``done``.
"""

from __future__ import annotations

from PyQt5.QtCore import QObject, QProcess, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import QProgressDialog

from . import pixcut_hostkit as kit

HOST = "krita"
_STDERR_LIMIT = 20000


class RemovalJob(QObject):
    """One ``pixcut remove --json`` run.

    ``done(status, payload)``: ("ok", Outcome) | ("error", message) | ("cancelled", "").
    """

    done = pyqtSignal(str, object)

    def __init__(self, argv: list[str], timeout_s: int, parent_widget=None, label: str = "") -> None:
        super().__init__(parent_widget)
        self._argv = argv
        self._timeout_s = timeout_s
        self._reader = kit.EventReader(HOST, argv[: argv.index("remove")] if "remove" in argv else argv[:1])
        self._stderr = ""
        self._finished = False
        self._why_killed = ""
        self._process = QProcess(self)
        self._process.readyReadStandardOutput.connect(self._read_stdout)
        self._process.readyReadStandardError.connect(self._read_stderr)
        self._process.finished.connect(self._on_finished)
        self._process.errorOccurred.connect(self._on_error)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timeout)
        self._progress = self._make_progress(parent_widget, label)

    @property
    def pixcut(self) -> list[str]:
        return self._reader.pixcut

    def _make_progress(self, parent_widget, label: str) -> QProgressDialog:
        """A busy indicator (the core reports stages, not percentages) whose Cancel kills the run."""
        dialog = QProgressDialog(label or "Removing background...", "Cancel", 0, 0, parent_widget)
        dialog.setObjectName("pixcut_progress")
        dialog.setWindowTitle("pixcut")
        dialog.setWindowModality(Qt.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel)
        return dialog

    def start(self) -> None:
        """Start the process; failures to start arrive through ``done`` like any other error."""
        self._timer.start(self._timeout_s * 1000)
        self._process.start(self._argv[0], self._argv[1:])

    def cancel(self) -> None:
        """Kill the core (the user pressed Cancel); the document is left as it was."""
        self._kill("cancelled")

    def _kill(self, why: str) -> None:
        if self._finished or self._process.state() == QProcess.NotRunning:
            return
        self._why_killed = why
        self._process.kill()

    def _on_timeout(self) -> None:
        self._kill("timeout")

    def _read_stdout(self) -> None:
        self._reader.feed(bytes(self._process.readAllStandardOutput()).decode("utf-8", "replace"))
        if self._reader.outcome.stage:
            self._progress.setLabelText(f"Removing background: {self._reader.outcome.stage}...")

    def _read_stderr(self) -> None:
        text = bytes(self._process.readAllStandardError()).decode("utf-8", "replace")
        self._stderr = (self._stderr + text)[-_STDERR_LIMIT:]

    def _on_error(self, error) -> None:
        """Only a failed start is final here; crashes and kills also emit ``finished``."""
        if error == QProcess.FailedToStart:
            self._finish("error", f"Could not start pixcut ({self._argv[0]}): {self._process.errorString()}")

    def _on_finished(self, exit_code: int, exit_status) -> None:
        self._read_stdout()
        self._read_stderr()
        self._reader.finish()
        if self._why_killed == "cancelled":
            self._finish("cancelled", "")
        elif self._why_killed == "timeout":
            self._finish("error", f"pixcut did not finish within {self._timeout_s} s and was stopped.")
        elif exit_status != QProcess.NormalExit:
            self._finish("error", "pixcut crashed.\n" + "\n".join(self._stderr.strip().splitlines()[-5:]))
        else:
            message = kit.failure_message(self._reader.outcome, exit_code, self._stderr, HOST, self.pixcut)
            if message:
                self._finish("error", message)
            else:
                self._finish("ok", self._reader.outcome)

    def _finish(self, status: str, payload) -> None:
        if self._finished:
            return
        self._finished = True
        self._timer.stop()
        self._progress.canceled.disconnect(self.cancel)
        self._progress.reset()
        self._progress.hide()
        self._progress.deleteLater()
        self.done.emit(status, payload)


def find_pixcut() -> list[str]:
    """The pixcut command (the user's 'executable' setting, PATH, the installer's record; Flatpak-aware)."""
    import os

    from . import store

    plugin_dir = os.path.dirname(os.path.abspath(__file__))
    return kit.find_pixcut(HOST, plugin_dir, store.executable(), sandbox=kit.detect_sandbox())
