"""Preferences: the settings the app keeps (the user never edits a file)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from faceme_desktop.settings import BACKENDS, DEVICES, AppSettings

BACKEND_WORDS = {"auto": "Automatic (insightface when installed)", "insightface": "insightface (best)", "dlib": "dlib (always available)"}
DEVICE_WORDS = {"auto": "Automatic", "cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)", "mps": "Apple GPU (MPS)"}


def _path_row(edit: QLineEdit, choose) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    button = QPushButton("Choose...")
    button.clicked.connect(choose)
    layout.addWidget(button)
    return row


class PreferencesDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.backend = QComboBox()
        for key in BACKENDS:
            self.backend.addItem(BACKEND_WORDS[key], key)
        self.backend.setCurrentIndex(BACKENDS.index(settings.face_backend))
        self.device = QComboBox()
        for key in DEVICES:
            self.device.addItem(DEVICE_WORDS[key], key)
        self.device.setCurrentIndex(DEVICES.index(settings.device))
        self.output = QLineEdit(str(settings.output_folder or ""))
        self.output.setPlaceholderText("Next to each album, in a 'FaceMe restored' folder")
        self.library = QLineEdit(str(settings.library_path or ""))
        form = QFormLayout(self)
        form.addRow("Face detection:", self.backend)
        form.addRow("Restore on:", self.device)
        form.addRow("Save restored photos in:", _path_row(self.output, self._choose_output))
        form.addRow("Library file:", _path_row(self.library, self._choose_library))
        note = QLabel("A new library file is opened at the next start.")
        note.setEnabled(False)
        form.addRow("", note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _choose_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save restored photos in")
        if folder:
            self.output.setText(folder)

    def _choose_library(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, "Library file", self.library.text(), "FaceMe library (*.sqlite)")
        if path:
            self.library.setText(path)

    def accept(self) -> None:
        self.settings.face_backend = self.backend.currentData()
        self.settings.device = self.device.currentData()
        self.settings.output_folder = Path(self.output.text()).expanduser() if self.output.text().strip() else None
        if self.library.text().strip():
            self.settings.library_path = Path(self.library.text()).expanduser()
        self.settings.sync()
        super().accept()
