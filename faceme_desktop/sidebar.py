"""The list of views on the left (Photos, People, Review, Restore)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from faceme_desktop.icons import icon

VIEWS = (("photos", "Photos"), ("people", "People"), ("review", "Review"), ("restore", "Restore"), ("jobs", "Jobs"))


class Sidebar(QListWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setIconSize(QSize(22, 22))
        # As wide as the longest name with its icon, not more: the views need the room.
        longest = max(self.fontMetrics().horizontalAdvance(text) for _key, text in VIEWS)
        self.setFixedWidth(longest + 22 + 44)
        self.setSpacing(2)
        for key, text in VIEWS:
            item = QListWidgetItem(text)
            item.setData(256, key)
            self.addItem(item)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        for row, (key, _text) in enumerate(VIEWS):
            self.item(row).setIcon(icon(key))

    def select(self, key: str) -> None:
        for row, (name, _text) in enumerate(VIEWS):
            if name == key:
                self.setCurrentRow(row)
