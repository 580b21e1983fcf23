"""The options form shared by the docker and the Remove Background dialog."""

from __future__ import annotations

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtGui import QColor
from PyQt5.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QToolButton,
    QWidget,
)

from .logic import Settings

BACKEND_LABELS = (("local", "Offline engine"), ("pixian", "Pixian cloud"), ("endpoint", "Custom endpoint"))
ALIGN_LABELS = (("top", "Top"), ("middle", "Middle"), ("bottom", "Bottom"))
MODE_LABELS = (("layer", "New layer"), ("mask", "Transparency mask on a copy"))


def _combo(items, name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for value, label in items:
        combo.addItem(label, value)
    return combo


def _line(name: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    return edit


class OptionsForm(QWidget):
    """Edits a :class:`Settings`; ``edited`` fires on every user change."""

    edited = pyqtSignal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.backend = _combo(BACKEND_LABELS, "backend")
        self.endpoint = _line("endpoint", "https://host/api/v2/remove-background")
        self.test = QCheckBox("Test mode (free, watermarked)")
        self.test.setObjectName("test")
        self.background_color = _line("background_color", "transparent, or #RRGGBB")
        self.crop = QCheckBox("Crop to foreground")
        self.crop.setObjectName("crop_to_foreground")
        self.margin = _line("margin", "e.g. 10px or 5%")
        self.target_size = _line("target_size", "e.g. 800 600")
        self.alignment = _combo(ALIGN_LABELS, "vertical_alignment")
        self.output_mode = _combo(MODE_LABELS, "output_mode")
        self._build()
        self._connect()

    def _build(self) -> None:
        picker = QToolButton()
        picker.setText("...")
        picker.setToolTip("Pick a background colour")
        picker.clicked.connect(self._pick_color)
        color_row = QHBoxLayout()
        color_row.setContentsMargins(0, 0, 0, 0)
        color_row.addWidget(self.background_color)
        color_row.addWidget(picker)
        layout = QFormLayout(self)
        layout.addRow("Backend", self.backend)
        layout.addRow("Endpoint", self.endpoint)
        layout.addRow("", self.test)
        layout.addRow("Background", color_row)
        layout.addRow("", self.crop)
        layout.addRow("Margin", self.margin)
        layout.addRow("Target size", self.target_size)
        layout.addRow("Vertical align", self.alignment)
        layout.addRow("Output", self.output_mode)

    def _connect(self) -> None:
        for combo in (self.backend, self.alignment, self.output_mode):
            combo.currentIndexChanged.connect(self._changed)
        for box in (self.test, self.crop):
            box.toggled.connect(self._changed)
        for edit in (self.endpoint, self.background_color, self.margin, self.target_size):
            edit.editingFinished.connect(self._changed)

    def _changed(self, *_args) -> None:
        self.endpoint.setEnabled(self.backend.currentData() == "endpoint")
        self.edited.emit()

    def _pick_color(self) -> None:
        initial = QColor(self.background_color.text() or "#ffffff")
        color = QColorDialog.getColor(initial, self, "Background colour")
        if color.isValid():
            self.background_color.setText(color.name())
            self._changed()

    def set_settings(self, settings: Settings) -> None:
        """Show ``settings`` without emitting ``edited`` (a reload is not an edit)."""
        self.blockSignals(True)
        for widget in self.findChildren(QWidget):
            widget.blockSignals(True)
        try:
            self.backend.setCurrentIndex(max(0, self.backend.findData(settings.backend)))
            self.endpoint.setText(settings.endpoint)
            self.endpoint.setEnabled(settings.backend == "endpoint")
            self.test.setChecked(settings.test)
            self.background_color.setText(settings.background_color)
            self.crop.setChecked(settings.crop_to_foreground)
            self.margin.setText(settings.margin)
            self.target_size.setText(settings.target_size)
            self.alignment.setCurrentIndex(max(0, self.alignment.findData(settings.vertical_alignment)))
            self.output_mode.setCurrentIndex(max(0, self.output_mode.findData(settings.output_mode)))
        finally:
            for widget in self.findChildren(QWidget):
                widget.blockSignals(False)
            self.blockSignals(False)

    def settings(self, base: Settings) -> Settings:
        """The form's values on top of ``base`` (which carries what the form does not show)."""
        return Settings(
            backend=self.backend.currentData(),
            endpoint=self.endpoint.text().strip(),
            test=self.test.isChecked(),
            background_color=self.background_color.text().strip(),
            crop_to_foreground=self.crop.isChecked(),
            margin=self.margin.text().strip(),
            target_size=self.target_size.text().strip(),
            vertical_alignment=self.alignment.currentData(),
            output_mode=self.output_mode.currentData(),
            timeout=base.timeout,
            executable=base.executable,
        )
