"""The Restore tab (part 2 builds it): for now it lists the photos given to restore."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QListWidget, QVBoxLayout, QWidget


class RestoreView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("restoreView")
        self.photos: list[Path] = []
        self.note = QLabel(
            "<h3>Restore</h3>Photos to restore are listed here. Restoring them arrives with the next "
            "version of FaceMe Desktop; until then, use <tt>faceme restore</tt> on the command line."
        )
        self.note.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("restoreList")
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.list, 1)

    def add_photos(self, photos: list[Path]) -> None:
        for photo in photos:
            if photo not in self.photos:
                self.photos.append(photo)
                self.list.addItem(str(photo))
