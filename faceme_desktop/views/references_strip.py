"""A person's references in a strip: each with its quality, a warning when none is good, suggested
faces to accept (nothing is used unasked), and image files dropped in become references."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from shiboken6 import isValid

from faceme_core.library.references import add_face_reference, add_file_reference, remove_reference
from faceme_desktop.core_queries import PersonReferences
from faceme_desktop.icons import icon
from faceme_desktop.session import LibrarySession
from faceme_desktop.thumbnails import read_scaled

CARD = 72


def _set_image(label: QLabel, image) -> None:
    if not isValid(label):  # the strip was refreshed meanwhile
        return
    if image.isNull():
        label.setText("?")
        label.setStyleSheet("border: 1px dashed gray")
    else:
        label.setPixmap(QPixmap.fromImage(image))


def quality_words(quality: float | None) -> str:
    if quality is None:
        return "image file"
    return "good" if quality >= 0.6 else "fair" if quality >= 0.3 else "poor"


class ReferencesStrip(QWidget):
    def __init__(self, session: LibrarySession, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("referencesStrip")
        self.session = session
        self.person_id: int | None = None
        self.setAcceptDrops(True)
        self.warning = QLabel()
        self.warning.setObjectName("referencesWarning")
        self.warning.setWordWrap(True)
        self.flag = QLabel()
        self.flag.setObjectName("lookalikeFlag")
        self.flag.setWordWrap(True)
        self.flag.hide()
        self.cards = QHBoxLayout()
        self.cards.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.suggestions = QHBoxLayout()
        self.suggestions.setAlignment(Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>References</b> <span>(faces a restoration copies identity from; drop image files here)</span>")
        layout.addWidget(title)
        layout.addWidget(self.warning)
        layout.addWidget(self.flag)
        row = QHBoxLayout()
        row.addLayout(self.cards)
        row.addSpacing(24)
        row.addLayout(self.suggestions)
        row.addStretch(1)
        layout.addLayout(row)

    def show_references(self, refs: PersonReferences) -> None:
        self.person_id = refs.person_id
        for layout in (self.cards, self.suggestions):
            while layout.count():
                item = layout.takeAt(0)
                if item.widget() is not None:
                    item.widget().deleteLater()
        if not refs.references:
            self.warning.setText("⚠ No references yet: restorations of this person would be blind. Accept a suggestion or drop a portrait here.")
        elif refs.good == 0:
            self.warning.setText("⚠ No good reference: the ones here are blurry, small or missing. Add a clearer one.")
        else:
            self.warning.setText("")
        self.warning.setVisible(bool(self.warning.text()))
        for card in refs.references:
            self.cards.addWidget(self._card(card.image, f"{quality_words(card.quality)}{'' if card.readable else ', missing'}",
                                            "Remove", lambda _c=False, r=card.id: self._remove(r), "removeReference"))
        if refs.suggestions:
            self.suggestions.addWidget(QLabel("Suggested:"))
        for suggestion in refs.suggestions:
            self.suggestions.addWidget(self._card(suggestion.image, quality_words(suggestion.quality),
                                                  "Use", lambda _c=False, f=suggestion.face_id: self._accept(f), "acceptSuggestion"))

    def _card(self, image: Path | None, caption: str, button_text: str, slot, name: str) -> QWidget:
        card = QWidget()
        layout = QVBoxLayout(card)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self._image_label(image))
        label = QLabel(caption)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)
        button = QPushButton(button_text)
        button.setObjectName(name)
        if name == "removeReference":
            button.setIcon(icon("cancel"))
            button.setToolTip("Stop using this reference (Ctrl+Z brings it back)")
        else:
            button.setIcon(icon("yes"))
            button.setToolTip("Use this face as a reference")
        button.clicked.connect(slot)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        return card

    def _image_label(self, path: Path | None) -> QLabel:
        """A card's picture, decoded on a worker (a reference file may be a 24-megapixel photo)."""
        label = QLabel()
        label.setFixedSize(CARD, CARD)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if path is None:
            _set_image(label, QImage())
        else:
            self.session.query(lambda _library: read_scaled(path, CARD), on_result=lambda image: _set_image(label, image))
        return label

    def _accept(self, face_id: int) -> None:
        if self.person_id is not None:
            self.session.edit("Add reference", add_face_reference, self.person_id, face_id)

    def _remove(self, reference_id: int) -> None:
        self.session.edit("Remove reference", remove_reference, reference_id)

    def add_files(self, paths: list[Path]) -> None:
        for path in paths:
            if self.person_id is not None:
                self.session.edit(
                    f"Add reference {path.name}", add_file_reference, self.person_id, path,
                    on_result=lambda added, name=path.name: self._on_file_added(name, added),
                )

    def _on_file_added(self, name: str, added) -> None:
        """Added either way (the user chose it), but a face unlike this person's is said out loud."""
        check = added.check
        if check.looks_like_someone_else:
            self.flag.setText(
                f"⚠ {name} looks like someone else (similarity {check.similarity:.2f}, this person's faces "
                f"usually score above {check.threshold:.2f}). Remove it if it is not them."
            )
            self.flag.show()
        else:
            self.flag.hide()

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        self.add_files([p for p in paths if p.is_file()])
        event.acceptProposedAction()
