"""The options form shared by the docker and the Remove Background dialog.

Built from the host kit's schema: the same options, labels, defaults and modes as in GIMP. The
options that only shape a new layer sit in their own group, greyed out in mask and selection
modes (a mask is always the layer's own alpha). The model menu lists the installed models from
``pixcut models list --json`` (read in the background) and says how to pull the others.
"""

from __future__ import annotations

from PyQt5.QtCore import QProcess, Qt, pyqtSignal
from PyQt5.QtGui import QColor
from PyQt5.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import pixcut_hostkit as kit

LABELS = {"backend": kit.BACKEND_LABELS, "output_mode": kit.MODE_LABELS}


class OptionsForm(QWidget):
    """Edits a :class:`kit.Settings`; ``edited`` fires on every user change."""

    edited = pyqtSignal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.widgets: dict[str, QWidget] = {}
        general = QFormLayout()
        layer_only = QFormLayout()
        self.model_hint = QLabel("")
        self.model_hint.setObjectName("model_hint")
        self.model_hint.setWordWrap(True)
        self.model_hint.setTextInteractionFlags(Qt.TextSelectableByMouse)  # the pull commands can be copied
        for option in kit.OPTIONS:
            widget = self._widget(option)
            self.widgets[option.name] = widget
            target = layer_only if option.modes == kit.LAYER_ONLY else general
            row = self._with_picker(widget) if option.name == "background_color" else widget
            target.addRow("" if option.kind == "bool" else option.label, row)
            if option.name == "model":
                general.addRow("", self.model_hint)
        self.layer_group = QGroupBox("New layer only (mask and selection use the layer's own alpha)")
        self.layer_group.setObjectName("layer_only")
        self.layer_group.setLayout(layer_only)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(general)
        layout.addWidget(self.layer_group)
        self._models = QProcess(self)
        self._models.finished.connect(self._models_listed)
        self._connect()

    # ---------------------------------------------------------------- building

    def _widget(self, option: kit.Option) -> QWidget:
        if option.kind == "bool":
            widget: QWidget = QCheckBox(option.label)
        elif option.kind == "choice":
            widget = QComboBox()
            for value in option.choices:
                widget.addItem(LABELS.get(option.name, {}).get(value, value.capitalize()), value)
        elif option.name == "model":
            widget = QComboBox()
            widget.setEditable(True)  # a model path or a name not listed still works
            widget.addItem("pixcut's default model", "")
        else:
            widget = QLineEdit()
        widget.setObjectName(option.name)
        widget.setToolTip(option.help)
        return widget

    def _with_picker(self, edit: QWidget) -> QWidget:
        picker = QToolButton()
        picker.setText("...")
        picker.setToolTip("Pick a background colour")
        picker.clicked.connect(self._pick_color)
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit)
        box.addWidget(picker)
        return row

    def _connect(self) -> None:
        for widget in self.widgets.values():
            if isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._changed)
                if widget.isEditable():
                    widget.lineEdit().editingFinished.connect(self._changed)
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(self._changed)
            else:
                widget.editingFinished.connect(self._changed)

    # ---------------------------------------------------------------- models

    def list_models(self, pixcut: list[str]) -> None:
        """Ask pixcut for its catalogue in the background; the menu fills when it answers."""
        if self._models.state() == QProcess.NotRunning and pixcut:
            self._models.start(pixcut[0], pixcut[1:] + kit.models_arguments())
            self._pixcut = pixcut

    def _models_listed(self, exit_code: int, _status) -> None:
        text = bytes(self._models.readAllStandardOutput()).decode("utf-8", "replace")
        self.show_models(kit.model_menu(text, exit_code, getattr(self, "_pixcut", ["pixcut"])))

    def show_models(self, menu: kit.ModelMenu) -> None:
        combo = self.widgets["model"]
        current = self._value("model")
        combo.blockSignals(True)
        combo.clear()
        for name, label in menu.installed:
            combo.addItem(label, name)
        self._set_combo(combo, current)
        combo.blockSignals(False)
        self.model_hint.setText(kit.pull_hint(menu))
        self.model_hint.setToolTip("\n".join(command for _name, command in menu.pullable))

    # ---------------------------------------------------------------- values

    def _changed(self, *_args) -> None:
        self._update_enabled()
        self.edited.emit()

    def _update_enabled(self) -> None:
        mode = self._value("output_mode")
        self.layer_group.setEnabled(mode == "layer")
        self.widgets["endpoint"].setEnabled(self._value("backend") == "endpoint")

    def _pick_color(self) -> None:
        edit = self.widgets["background_color"]
        color = QColorDialog.getColor(QColor(edit.text() or "#ffffff"), self, "Background colour")
        if color.isValid():
            edit.setText(color.name())
            self._changed()

    @staticmethod
    def _set_combo(combo: QComboBox, value: str) -> None:
        index = combo.findData(value)
        if index < 0 and combo.isEditable() and value:
            combo.addItem(value, value)
            index = combo.count() - 1
        combo.setCurrentIndex(max(0, index))

    def _value(self, name: str):
        widget = self.widgets[name]
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            if widget.isEditable() and widget.currentText() != widget.itemText(widget.currentIndex()):
                return widget.currentText().strip()
            return widget.currentData()
        return widget.text().strip()

    def set_settings(self, settings: kit.Settings) -> None:
        """Show ``settings`` without emitting ``edited`` (a reload is not an edit)."""
        for widget in [self, *self.findChildren(QWidget)]:
            widget.blockSignals(True)
        try:
            for name, widget in self.widgets.items():
                value = getattr(settings, name)
                if isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QComboBox):
                    self._set_combo(widget, value)
                else:
                    widget.setText(value)
            self._update_enabled()
        finally:
            for widget in [self, *self.findChildren(QWidget)]:
                widget.blockSignals(False)

    def settings(self) -> kit.Settings:
        """The form's values."""
        return kit.Settings.from_mapping({name: self._value(name) for name in self.widgets})


def list_models(form: OptionsForm) -> None:
    """Fill the form's model menu from the pixcut the plug-in would run (quietly skipped when none is found)."""
    from .job import find_pixcut

    try:
        form.list_models(find_pixcut())
    except kit.HostError as error:
        form.show_models(kit.ModelMenu([("", "pixcut's default model")], [], str(error)))
