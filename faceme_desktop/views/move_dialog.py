"""'Move to...': pick a person by name (with completion) or type a new name."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from faceme_core.library.queries import PersonRow


class MoveDialog(QDialog):
    chosen = Signal(object, str)  # person id (None: a new person), the new person's name (or "")

    def __init__(self, count: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("moveDialog")
        self.setWindowTitle("Move faces")
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.combo.completer().setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.combo.lineEdit().setPlaceholderText("A person, or a new name")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_ok)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Move {count} face(s) to:"))
        layout.addWidget(self.combo)
        layout.addWidget(buttons)

    def set_people(self, people: list[PersonRow]) -> None:
        """The choices, by name (they arrive from a background query)."""
        typed = self.combo.currentText()
        self.combo.clear()
        for person in people:
            self.combo.addItem(f"{person.display_name} ({person.face_count})", person.id)
        self.combo.setCurrentIndex(-1)
        self.combo.setEditText(typed)

    def _on_ok(self) -> None:
        text = self.combo.currentText().strip()
        index = self.combo.findText(text)
        if index >= 0:
            self.chosen.emit(self.combo.itemData(index), "")
        elif text:
            self.chosen.emit(None, text)
        else:
            return
        self.accept()
