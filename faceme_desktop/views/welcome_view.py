"""First run: say what the app does and offer to add an album folder (button or drop)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from faceme_desktop.icons import icon


class WelcomeView(QWidget):
    folder_chosen = Signal(Path)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("welcomeView")
        title = QLabel("<h2>Welcome to FaceMe</h2>")
        text = QLabel(
            "FaceMe finds the people in your photo albums, then restores old and damaged photos "
            "while keeping every face the same person.<br><br>"
            "Start by adding a folder of photos. FaceMe only reads it: your photos are never changed."
        )
        text.setWordWrap(True)
        text.setFixedWidth(520)
        self.add_button = QPushButton("Add album folder...")
        self.add_button.setObjectName("addAlbumFolder")
        self.add_button.setMinimumHeight(40)
        self.add_button.setToolTip("Choose a folder of photos to scan for faces (Ctrl+O)")
        self.add_button.clicked.connect(self.choose_folder)
        hint = QLabel("or drag a folder onto this window")
        hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        for widget in (title, text, self.add_button, hint):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        self.add_button.setIcon(icon("add-folder"))

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add album folder")
        if folder:
            self.folder_chosen.emit(Path(folder))
