"""One face of the photo being restored: its crop, its person (and who decided), its references, and
what to do with it (with references, blind, untouched). Image files dropped on it become references."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from faceme_core.imageio import SUPPORTED_SUFFIXES
from faceme_core.restore.photo_setup import FaceChoice
from faceme_core.restore.reference_choice import years_apart

CROP_SIZE = 96
REFERENCE_SIZE = 56
MODE_TEXT = {"references": "With references", "blind": "Blind", "untouched": "Leave untouched"}
MODE_TIPS = {
    "references": "Restore the face guided by its person's references: keeps who it is",
    "blind": "Restore without references: sharper, but identity is not guided",
    "untouched": "Keep this face exactly as it is in the original",
}


def assignment_text(face: FaceChoice) -> tuple[str, str]:
    """(badge text, tooltip) saying who decided the face's person."""
    if face.too_small:
        return "too small", face.too_small
    if face.person_id is None:
        return "no person", "Nobody is assigned to this face: choose a person to restore it with references"
    if face.assigned == "user":
        return "named by you", "You confirmed this person"
    similarity = "" if face.match_similarity is None else f" (similarity {face.match_similarity:.2f})"
    return "guessed", f"FaceMe guessed this person{similarity}: check before restoring with references"


def image_files(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES]


class FaceCard(QFrame):
    mode_changed = Signal(int, str)  # face index, mode
    person_changed = Signal(int, object)  # face index, person id or None
    references_dropped = Signal(int, list)  # face index, [Path]

    def __init__(self, face: FaceChoice, people: list[tuple[int, str]], year: int | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.face = face
        self.setObjectName(f"faceCard{face.index}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAcceptDrops(True)
        self.crop = QLabel()
        self.crop.setFixedSize(CROP_SIZE, CROP_SIZE)
        self.crop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel(f"<b>Face {face.index + 1}</b>")
        self.person = QComboBox()
        self.person.setObjectName("personCombo")
        self.person.setToolTip("Who this face is: their references guide the restoration")
        self.set_people(people)
        self.person.currentIndexChanged.connect(lambda _i: self.person_changed.emit(face.index, self.person.currentData()))
        badge_text, badge_tip = assignment_text(face)
        self.badge = QLabel(badge_text)
        self.badge.setObjectName("assignmentBadge")
        self.badge.setToolTip(badge_tip)
        self.badge.setStyleSheet(
            "QLabel { border-radius: 6px; padding: 1px 6px; color: white; background: %s; }"
            % {"named by you": "#2e7d32", "guessed": "#c77700"}.get(badge_text, "#757575")
        )
        self.modes = QButtonGroup(self)
        mode_row = QHBoxLayout()
        for mode in ("references", "blind", "untouched"):
            button = QRadioButton(MODE_TEXT[mode])
            button.setObjectName(f"mode_{mode}")
            button.setToolTip(MODE_TIPS[mode])
            button.setChecked(face.mode == mode)
            enabled = (not face.too_small or mode == "untouched") and (mode != "references" or bool(face.references))
            button.setEnabled(enabled)
            button.toggled.connect(lambda on, m=mode: on and self.mode_changed.emit(face.index, m))
            self.modes.addButton(button)
            mode_row.addWidget(button)
        mode_row.addStretch(1)
        self.references = QHBoxLayout()
        self.references.setSpacing(4)
        self.reference_labels: list[QLabel] = []
        for choice in face.references:
            label = QLabel()
            label.setFixedSize(REFERENCE_SIZE, REFERENCE_SIZE)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setFrameShape(QFrame.Shape.Box)
            apart = years_apart(choice.year, year)
            tip = choice.label + (f": {apart} year(s) from this photo" if apart is not None else "")
            label.setToolTip(tip + ("" if choice.person_id is not None else " (dropped on this face)"))
            self.references.addWidget(label)
            self.reference_labels.append(label)
        hint = QLabel("no references: drop photos of this person here" if not face.references else "drop more here")
        hint.setObjectName("dropHint")
        hint.setEnabled(False)
        self.references.addWidget(hint)
        self.references.addStretch(1)

        header = QHBoxLayout()
        header.addWidget(title)
        header.addWidget(self.person, 1)
        header.addWidget(self.badge)
        right = QVBoxLayout()
        right.addLayout(header)
        right.addLayout(mode_row)
        right.addLayout(self.references)
        layout = QGridLayout(self)
        layout.addWidget(self.crop, 0, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(right, 0, 1)
        layout.setColumnStretch(1, 1)

    def set_people(self, people: list[tuple[int, str]]) -> None:
        """The people to choose from (the face's own person always among them), without a change signal."""
        known = dict(people)
        if self.face.person_id is not None and self.face.person_id not in known:
            known[self.face.person_id] = self.face.who
        self.person.blockSignals(True)
        self.person.clear()
        self.person.addItem("Unknown person", None)
        for person_id, name in sorted(known.items(), key=lambda item: item[1].lower()):
            self.person.addItem(name, person_id)
        self.person.setCurrentIndex(max(0, self.person.findData(self.face.person_id)))
        self.person.blockSignals(False)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(460, CROP_SIZE + 24)

    def set_crop(self, image: QImage) -> None:
        self.crop.setPixmap(QPixmap.fromImage(image))

    def set_reference_image(self, position: int, image: QImage) -> None:
        if 0 <= position < len(self.reference_labels):
            self.reference_labels[position].setPixmap(QPixmap.fromImage(image))

    # --- drops: reference images for this face -------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = image_files([Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()])
        if paths:
            self.references_dropped.emit(self.face.index, paths)
        event.acceptProposedAction()  # never passed on: the window would open them as photos to restore
