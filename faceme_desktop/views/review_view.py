"""Review: one question at a time, answered from the keyboard (Return = yes, Delete = no, arrows skip).

Questions come from the library (groups that may be one person, unknown faces with a likely person,
one person twice in a photo); each answer is one core decision, undoable with Ctrl+Z.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from faceme_core.library.people import merge_people, move_face, reject_face, reject_faces
from faceme_core.library.review import mark_distinct
from faceme_desktop import core_queries
from faceme_desktop.core_queries import ReviewItem
from faceme_desktop.icons import icon
from faceme_desktop.session import LibrarySession
from faceme_desktop.thumbnails import ThumbnailLoader

FACE = 180
KINDS = ("same_person", "unassigned_face", "twice_in_photo")  # the order questions come in


class ReviewView(QWidget):
    open_person = Signal(int)
    loaded = Signal()

    def __init__(self, session: LibrarySession, loader: ThumbnailLoader, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("reviewView")
        self.session = session
        self.items: list[ReviewItem] = []
        self._queues: dict[str, list[ReviewItem]] = {}
        self.position = 0
        self.skipped: set[tuple] = set()
        self.counter = QLabel()
        self.counter.setEnabled(False)
        self.question = QLabel()
        self.question.setObjectName("reviewQuestion")
        self.question.setWordWrap(True)
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.question.setStyleSheet("font-size: 16px")
        self.left, self.left_caption = QLabel(), QLabel()
        self.right, self.right_caption = QLabel(), QLabel()
        faces = QHBoxLayout()
        faces.addStretch(1)
        for image, caption in ((self.left, self.left_caption), (self.right, self.right_caption)):
            image.setFixedSize(FACE, FACE)
            image.setAlignment(Qt.AlignmentFlag.AlignCenter)
            column = QVBoxLayout()
            column.addWidget(image)
            column.addWidget(caption, 0, Qt.AlignmentFlag.AlignHCenter)
            faces.addLayout(column)
            faces.addSpacing(24)
        faces.addStretch(1)
        self.yes = QPushButton("Yes")
        self.yes.setObjectName("reviewYes")
        self.yes.setToolTip("Yes (Return)")
        self.no = QPushButton("No")
        self.no.setObjectName("reviewNo")
        self.no.setToolTip("No (Delete)")
        self.skip = QPushButton("Skip")
        self.skip.setToolTip("Ask later (Right arrow; Left arrow goes back)")
        self.yes.clicked.connect(self.answer_yes)
        self.no.clicked.connect(self.answer_no)
        self.skip.clicked.connect(lambda: self.step(1))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.yes, self.no, self.skip):
            button.setMinimumWidth(110)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.keys_hint = QLabel("Return = yes   \u00b7   Delete = no   \u00b7   \u2190 \u2192 = skip")
        self.keys_hint.setEnabled(False)
        self.empty = QLabel("Nothing to review: every suggestion has been decided.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.counter, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.question)
        layout.addLayout(faces)
        layout.addLayout(buttons)
        layout.addWidget(self.keys_hint, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.empty)
        layout.addStretch(2)
        keys = (("Return", self.answer_yes), ("Enter", self.answer_yes), ("Delete", self.answer_no),
                ("Right", lambda: self.step(1)), ("Left", lambda: self.step(-1)))
        for key, slot in keys:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        session.changed.connect(self._on_library_changed)
        self._stale = True  # read when first shown: the queues scan every face
        self.refresh_icons()

    def refresh_icons(self) -> None:
        self.yes.setIcon(icon("yes"))
        self.no.setIcon(icon("no"))
        self.skip.setIcon(icon("skip"))

    def reload(self) -> None:
        self._stale = False
        for kind in KINDS:
            self.session.query(
                core_queries.review_items, kind, on_result=lambda items, k=kind: self._on_queue(k, items), slow=True
            )

    def _on_library_changed(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _on_queue(self, kind: str, items: list[ReviewItem]) -> None:
        self._queues[kind] = items
        self._on_items([item for k in KINDS for item in self._queues.get(k, [])])

    def _on_items(self, items: list[ReviewItem]) -> None:
        current = self.current
        self.items = [item for item in items if item.key not in self.skipped] + [i for i in items if i.key in self.skipped]
        keys = [item.key for item in self.items]
        self.position = keys.index(current.key) if current is not None and current.key in keys else 0
        self._show()
        self.loaded.emit()

    @property
    def current(self) -> ReviewItem | None:
        return self.items[self.position] if 0 <= self.position < len(self.items) else None

    def _show(self) -> None:
        item = self.current
        has = item is not None
        for widget in (self.question, self.left, self.right, self.left_caption, self.right_caption, self.yes, self.no, self.skip, self.counter, self.keys_hint):
            widget.setVisible(has)
        self.empty.setVisible(not has)
        if not has:
            return
        self.counter.setText(f"{self.position + 1} of {len(self.items)}")
        self.question.setText(item.question)
        for label, path in ((self.left, item.left_image), (self.right, item.right_image)):
            pixmap = QPixmap(str(path)) if path is not None else QPixmap()
            label.setPixmap(pixmap.scaled(FACE, FACE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation) if not pixmap.isNull() else QPixmap())
        self.left_caption.setText(item.left_caption)
        self.right_caption.setText(item.right_caption)

    def step(self, delta: int) -> None:
        if self.items:
            if delta > 0 and self.current is not None:
                self.skipped.add(self.current.key)
            self.position = (self.position + delta) % len(self.items)
            self._show()

    def answer_yes(self) -> None:
        item = self.current
        if item is None:
            return
        if item.kind == "same_person":
            self.session.edit("Merge", merge_people, item.person_a, [item.person_b])
        elif item.kind == "unassigned_face":
            self.session.edit("Confirm face", move_face, item.face_a, item.person_a)
        else:  # the left one is them: the right one is not
            self.session.edit("Not this person", reject_faces, [item.face_b], item.person_a)
        self._advance(item)

    def answer_no(self) -> None:
        item = self.current
        if item is None:
            return
        if item.kind == "same_person":  # remembered: the pair is not proposed again
            self.session.edit("Different people", mark_distinct, item.person_a, item.person_b)
        elif item.kind == "unassigned_face":
            self.session.edit("Not this person", reject_face, item.face_a, item.person_a)
        else:
            self.session.edit("Not this person", reject_faces, [item.face_a], item.person_a)
        self._advance(item)

    def _advance(self, answered: ReviewItem) -> None:
        """Show the next question at once; the reload after the edit drops the answered one."""
        self.items = [i for i in self.items if i.key != answered.key]
        for kind, queue in self._queues.items():
            self._queues[kind] = [i for i in queue if i.key != answered.key]
        self.position = min(self.position, max(0, len(self.items) - 1))
        self._show()
