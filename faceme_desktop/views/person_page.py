"""A person's page: references, then their faces least similar first (wrong ones on top), with keys for
"not this person" (Del) and "move to..." (M), and a people list to drag faces onto."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from faceme_core.library import queries
from faceme_core.library.people import move_faces, reject_faces, set_cover
from faceme_core.library.queries import PersonFaceRow, PersonRow
from faceme_desktop import core_queries
from faceme_desktop.delegates import CompactDelegate, ThumbnailDelegate
from faceme_desktop.icons import icon
from faceme_desktop.models.faces_model import PersonFacesModel
from faceme_desktop.models.people_model import PeopleModel
from faceme_desktop.pager import Pager
from faceme_desktop.session import LibrarySession
from faceme_desktop.thumbnails import ThumbnailLoader
from faceme_desktop.views.grid import make_grid
from faceme_desktop.views.move_dialog import MoveDialog
from faceme_desktop.views.references_strip import ReferencesStrip

FACE_SIZE = 110


class PersonPage(QWidget):
    back = Signal()
    open_photo = Signal(int)
    loaded = Signal()

    def __init__(self, session: LibrarySession, loader: ThumbnailLoader, parent=None):
        super().__init__(parent)
        self.session = session
        self.person_id: int | None = None
        self.person: PersonRow | None = None
        self._stale = False
        self.back_button = QToolButton()
        self.back_button.setToolTip("Back to all people (Esc)")
        self.back_button.clicked.connect(self.back)
        self.title = QLabel()
        self.buttons: dict[str, QToolButton] = {}
        header = QHBoxLayout()
        header.addWidget(self.back_button)
        header.addWidget(self.title, 1)
        for name, text, tip, slot in (
            ("reject", "Not this person", "The selected faces are someone else (Del)", self.reject_selected),
            ("move", "Move to...", "Put the selected faces on another person (M)", self.move_selected),
            ("cover", "Set as cover", "Show the selected face on this person's card", self.cover_selected),
        ):
            button = QToolButton()
            button.setObjectName(f"{name}Button")
            button.setText(text)
            button.setToolTip(tip)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.clicked.connect(slot)
            header.addWidget(button)
            self.buttons[name] = button
        self.references = ReferencesStrip(session)
        self.model = PersonFacesModel(loader, FACE_SIZE, self)
        self.pager = Pager(session, self.model, lambda: partial(queries.person_faces_page, person=self.person_id))
        self.model.page_applied.connect(lambda _offset: self.loaded.emit())
        self.grid = make_grid(ThumbnailDelegate(FACE_SIZE, caption=False, badge="similarity"), self, multi_select=True)
        self.grid.setObjectName("faceGrid")
        self.grid.setModel(self.model)
        self.grid.setDragEnabled(True)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.grid.activated.connect(self._on_activated)
        self.grid.installEventFilter(self)
        # The people to drag faces onto: the default people list, by name.
        self.people = PeopleModel(loader, 36, self)
        self.people.faces_dropped.connect(self._on_faces_dropped)
        self.people_pager = Pager(session, self.people, lambda: partial(queries.people_page, sort="name", everyone=True))
        self.targets = QListView()
        self.targets.setObjectName("dropTargets")
        self.targets.setModel(self.people)
        self.targets.setItemDelegate(CompactDelegate(36, self.targets))
        self.targets.setUniformItemSizes(True)
        self.targets.setSpacing(1)
        self.targets.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.targets.setAcceptDrops(True)
        self.targets.setDropIndicatorShown(True)
        self.targets.setToolTip("Drag faces onto a person to move them there")
        targets_box = QWidget()
        targets_layout = QVBoxLayout(targets_box)
        targets_layout.setContentsMargins(0, 0, 0, 0)
        targets_layout.addWidget(QLabel("Drag faces onto:"))
        targets_layout.addWidget(self.targets)
        hint = QLabel("Least similar faces first: wrong ones gather at the top. Double-click opens the photo.")
        hint.setEnabled(False)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.references)
        left_layout.addWidget(hint)
        left_layout.addWidget(self.grid, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(targets_box)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([800, 200])
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(splitter, 1)
        session.changed.connect(self._on_library_changed)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        self.back_button.setIcon(icon("back"))
        for name, glyph in (("reject", "reject"), ("move", "move"), ("cover", "cover")):
            self.buttons[name].setIcon(icon(glyph))

    def show_person(self, person_id: int) -> None:
        fresh = person_id != self.person_id
        self.person_id = person_id
        if fresh:
            self.model.start()
            self.people.start()
        self._reload_person()
        self.grid.setFocus()

    def reload(self) -> None:
        if self.person_id is None:
            return
        self.model.refresh()
        self.people.refresh()
        self._reload_person()

    def _reload_person(self) -> None:
        person_id = self.person_id
        self.session.query(core_queries.person_row, person_id, on_result=lambda p: self._on_person(person_id, p))
        self.session.query(
            core_queries.person_references, person_id, on_result=lambda r: self._on_refs(person_id, r), slow=True
        )

    def _on_activated(self, index) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.open_photo.emit(row.photo_id)

    def _on_faces_dropped(self, face_ids: list[int], person_id: int) -> None:
        self.session.edit(f"Move {len(face_ids)} face(s)", move_faces, face_ids, person_id)

    def _on_person(self, person_id: int, person: PersonRow | None) -> None:
        if person_id != self.person_id:
            return
        if person is None:  # merged away or emptied: nothing left to show
            self.back.emit()
            return
        self.person = person
        self.title.setText(f"<h3>{person.display_name} &nbsp;<small>{person.face_count} faces</small></h3>")

    def _on_refs(self, person_id: int, refs) -> None:
        if person_id == self.person_id:
            self.references.show_references(refs)

    def _on_library_changed(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True  # read again when shown: an edit elsewhere may have renamed or moved faces

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()

    def selected_faces(self) -> list[PersonFaceRow]:
        rows = [self.model.row_at(index.row()) for index in self.grid.selectionModel().selectedIndexes()]
        return [row for row in rows if row is not None]

    def reject_selected(self) -> None:
        faces = self.selected_faces()
        if faces and self.person_id is not None:
            self.session.edit(f"Not this person ({len(faces)} face(s))", reject_faces, [f.face_id for f in faces], self.person_id)

    def move_selected(self) -> MoveDialog | None:
        faces = self.selected_faces()
        if not faces:
            return None
        dialog = MoveDialog(len(faces), self)
        dialog.chosen.connect(lambda person_id, name: self._move([f.face_id for f in faces], person_id, name))
        self.session.query(core_queries.all_people, on_result=lambda people: dialog.set_people(
            [p for p in people if p.id != self.person_id]))
        dialog.open()
        return dialog

    def _move(self, face_ids: list[int], person_id: int | None, name: str) -> None:
        self.session.edit(f"Move {len(face_ids)} face(s)", move_faces, face_ids, person_id, new_name=name or None)

    def cover_selected(self) -> None:
        faces = self.selected_faces()
        if len(faces) == 1 and self.person_id is not None:
            self.session.edit("Set cover", set_cover, self.person_id, faces[0].face_id)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.grid and event.type() == event.Type.KeyPress:
            key = event.key()
            if key == Qt.Key.Key_Delete:
                self.reject_selected()
                return True
            if key == Qt.Key.Key_M:
                self.move_selected()
                return True
            if key == Qt.Key.Key_Escape:
                self.back.emit()
                return True
        return super().eventFilter(watched, event)
