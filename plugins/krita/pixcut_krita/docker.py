"""The pixcut docker: the options, stored as they change, and a Remove Background button."""

from __future__ import annotations

from krita import DockWidget
from PyQt5.QtWidgets import QPushButton, QVBoxLayout, QWidget

from . import store
from .form import OptionsForm, list_models

DOCKER_ID = "pixcut_docker"


class PixcutDocker(DockWidget):
    """Edits the same settings the repeat action uses, so the docker and the shortcut agree."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("pixcut: Remove Background")
        body = QWidget(self)
        self.form = OptionsForm(body)
        self.form.set_settings(store.load())
        self.form.edited.connect(self._save)
        list_models(self.form)
        button = QPushButton("Remove Background", body)
        button.setObjectName("pixcut_run")
        button.clicked.connect(self._run)
        layout = QVBoxLayout(body)
        layout.addWidget(self.form)
        layout.addWidget(button)
        layout.addStretch(1)
        self.setWidget(body)
        store.bus.changed.connect(self._reload)

    def _save(self) -> None:
        store.save(self.form.settings())

    def _reload(self) -> None:
        self.form.set_settings(store.load())

    def _run(self) -> None:
        from .extension import remove_background

        self._save()
        remove_background(with_dialog=False)

    def canvasChanged(self, canvas) -> None:  # noqa: N802 (Krita's API name)
        """Required by Krita; the options do not depend on the canvas."""
