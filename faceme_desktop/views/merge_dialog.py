"""'Merge A into B': both people side by side with their faces, and what the merge keeps, said plainly."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from faceme_core.library.queries import PersonRow
from faceme_desktop.icons import icon


def merge_outcome(source: PersonRow, target: PersonRow) -> str:
    """The sentence the dialog shows: which name and cover survive (the target's, unless it has none)."""
    name = target.name or source.name or f"person {target.id}"
    total = source.face_count + target.face_count
    faces = {1: "The face", 2: "Both faces"}.get(source.face_count, f"All {source.face_count} faces")
    return (
        f"{faces} of <b>{source.display_name}</b> move to "
        f"<b>{target.display_name}</b>, which then has {total} faces and is called <b>{name}</b>. "
        f"{target.display_name}'s cover is kept. You can undo this (Ctrl+Z)."
    )


def _card(person: PersonRow, caption: str) -> QWidget:
    card = QWidget()
    layout = QVBoxLayout(card)
    image = QLabel()
    image.setFixedSize(128, 128)
    image.setAlignment(Qt.AlignmentFlag.AlignCenter)
    if person.cover_thumbnail is not None:
        pixmap = QPixmap(str(person.cover_thumbnail))
        if not pixmap.isNull():
            image.setPixmap(pixmap.scaled(128, 128, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
    layout.addWidget(QLabel(caption), 0, Qt.AlignmentFlag.AlignHCenter)
    layout.addWidget(image, 0, Qt.AlignmentFlag.AlignHCenter)
    layout.addWidget(QLabel(f"<b>{person.display_name}</b>"), 0, Qt.AlignmentFlag.AlignHCenter)
    layout.addWidget(QLabel(f"{person.face_count} faces"), 0, Qt.AlignmentFlag.AlignHCenter)
    return card


class MergeDialog(QDialog):
    """Accepting it means: merge ``source`` into ``target``. "Swap" turns the direction around."""

    def __init__(self, first: PersonRow, second: PersonRow, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mergeDialog")
        self.setWindowTitle("Merge people")
        # The named (or bigger) person is the natural survivor: their name and cover stay.
        pair = sorted([first, second], key=lambda p: (p.name is None, -p.face_count, p.id))
        self.target, self.source = pair[0], pair[1]
        self.body = QHBoxLayout()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setMinimumWidth(380)
        swap = QPushButton("Swap direction")
        swap.setObjectName("swapMerge")
        swap.setIcon(icon("merge"))
        swap.clicked.connect(self.swap)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.merge_button = buttons.addButton("Merge", QDialogButtonBox.ButtonRole.AcceptRole)
        self.merge_button.setObjectName("confirmMerge")
        buttons.addButton(swap, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.body)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self._fill()

    def swap(self) -> None:
        self.source, self.target = self.target, self.source
        self._fill()

    def _fill(self) -> None:
        while self.body.count():
            widget = self.body.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.body.addWidget(_card(self.source, "Merge this person"))
        arrow = QLabel("\u279c")
        arrow.setStyleSheet("font-size: 28px")
        self.body.addWidget(arrow, 0, Qt.AlignmentFlag.AlignVCenter)
        self.body.addWidget(_card(self.target, "into this person"))
        self.setWindowTitle(f"Merge {self.source.display_name} into {self.target.display_name}")
        self.text.setText(merge_outcome(self.source, self.target))
        self.merge_button.setText(f"Merge into {self.target.display_name}")
