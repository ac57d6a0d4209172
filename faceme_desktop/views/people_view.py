"""The People tab: person cards with search, sort, the small-groups toggle, and a person's page."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from faceme_core.library import queries
from faceme_core.library.people import merge_people, move_faces, rename_person, set_hidden
from faceme_core.library.queries import PersonRow
from faceme_desktop import core_queries
from faceme_desktop.delegates import ThumbnailDelegate
from faceme_desktop.icons import icon
from faceme_desktop.menus import view_action as action
from faceme_desktop.models.people_model import PeopleModel
from faceme_desktop.pager import Pager
from faceme_desktop.session import LibrarySession
from faceme_desktop.thumbnails import ThumbnailLoader
from faceme_desktop.views.grid import make_grid
from faceme_desktop.views.merge_dialog import MergeDialog
from faceme_desktop.views.person_page import PersonPage

COVER_SIZE = 120
# Small unnamed groups are left out (strangers) only once there are enough people for them to flood
# the list: a new, small album shows everyone it found.
CROWDED = 24
SORT_CHOICES = (("Most faces", "count"), ("Name", "name"), ("Recently changed", "recent"))


class PeopleView(QWidget):
    open_photo = Signal(int)
    loaded = Signal()

    def __init__(self, session: LibrarySession, loader: ThumbnailLoader, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.model = PeopleModel(loader, COVER_SIZE, self)
        self.model.rename_requested.connect(self._on_rename)
        self.model.faces_dropped.connect(self._on_faces_dropped)
        self.sort_key = "count"
        self.counts = core_queries.PeopleCounts(0, 0)
        self.pager = Pager(session, self.model, self._page_query)
        self.model.page_applied.connect(self._on_page)
        self._search_timer = QTimer(self)  # one query per pause in typing, not per key
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.restart)
        self.search = QLineEdit()
        self.search.setObjectName("peopleSearch")
        self.search.setPlaceholderText("Search people (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.sort = QComboBox()
        self.sort.setObjectName("peopleSort")
        for text, key in SORT_CHOICES:
            self.sort.addItem(text, key)
        self.sort.currentIndexChanged.connect(self._on_sort)
        self.show_small = QCheckBox("Show small groups")
        self.show_small.setObjectName("showSmallGroups")
        self.show_small.setToolTip("Unnamed groups of fewer than 3 faces are often strangers: hidden unless you ask")
        self.show_small.toggled.connect(lambda _on: self.restart())
        self.small_note = QLabel()
        self.small_note.setEnabled(False)
        self.grid = make_grid(ThumbnailDelegate(COVER_SIZE, badge="count"), self)
        self.grid.setObjectName("peopleGrid")
        self.grid.setModel(self.model)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # F2 is the Rename action (one editor)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.grid.setAcceptDrops(True)
        self.grid.setDropIndicatorShown(True)
        self.grid.activated.connect(self._on_activated)
        self.toolbar = QHBoxLayout()
        self.actions_by_name: dict[str, QAction] = {}
        for text, shortcut, tip, slot, name, glyph in (
            ("Rename", "F2", "Rename the selected person", self.rename_selected, "renamePerson", "rename"),
            ("Merge...", "Ctrl+M", "Merge two selected people into one", self.merge_selected, "mergePeople", "merge"),
            ("Hide", "Ctrl+H", "Hide the selected people (strangers); Undo brings them back", self.hide_selected, "hidePeople", "hide"),
        ):
            act = action(self.grid, text, shortcut, tip, slot, name)
            act.setData(glyph)
            self.actions_by_name[name] = act
            button = QToolButton()
            button.setDefaultAction(act)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            self.toolbar.addWidget(button)
        action(self, "Find", "Ctrl+F", "Search people", lambda: self.search.setFocus(), "findPeople")
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(QLabel("Sort:"))
        top.addWidget(self.sort)
        top.addWidget(self.show_small)
        top.addWidget(self.small_note)
        top.addLayout(self.toolbar)
        list_page = QWidget()
        list_layout = QVBoxLayout(list_page)
        list_layout.addLayout(top)
        list_layout.addWidget(self.grid, 1)
        self.page = PersonPage(session, loader)
        self.page.back.connect(self.show_list)
        self.page.open_photo.connect(self.open_photo)
        self.stack = QStackedWidget()
        self.stack.addWidget(list_page)
        self.stack.addWidget(self.page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        session.changed.connect(self.reload)
        self.refresh_icons()
        self.restart()

    def refresh_icons(self) -> None:
        for act in self.actions_by_name.values():
            act.setIcon(icon(act.data()))
        self.page.refresh_icons()

    @property
    def showing_everyone(self) -> bool:
        return self.show_small.isChecked() or self.counts.everyone <= CROWDED

    def _page_query(self):
        text = self.search.text().strip() or None
        return partial(queries.people_page, sort=self.sort_key, everyone=self.showing_everyone, search=text)

    def restart(self) -> None:
        """The sort, search or small-groups choice changed: count, then read from the first page."""
        self._count_then(self.model.start)

    def reload(self) -> None:
        self._count_then(self.model.refresh)

    def _count_then(self, next_step) -> None:
        search = self.search.text().strip() or None

        def counted(counts) -> None:
            everyone_before = self.showing_everyone
            self.counts = counts
            hidden = 0 if self.showing_everyone else counts.everyone - counts.default
            self.small_note.setText(f"({hidden} hidden)" if hidden else "")
            small_album = counts.everyone <= CROWDED
            self.show_small.setEnabled(not small_album)
            self.show_small.setToolTip(
                "A small album shows everyone it found" if small_album else
                "Unnamed groups of fewer than 3 faces are often strangers: hidden unless you ask")
            (self.model.start if self.showing_everyone != everyone_before else next_step)()

        self.session.query(core_queries.people_counts, search, on_result=counted)

    def _on_sort(self, _index: int) -> None:
        self.sort_key = self.sort.currentData()
        self.restart()

    def _on_page(self, _offset: int) -> None:
        self.loaded.emit()

    def selected_people(self) -> list[PersonRow]:
        rows = [self.model.row_at(index.row()) for index in self.grid.selectionModel().selectedIndexes()]
        return [row for row in rows if row is not None]

    def rename_selected(self) -> None:
        index = self.grid.currentIndex()
        if index.isValid():
            self.grid.edit(index)

    def _on_rename(self, person_id: int, name: str) -> None:
        self.session.edit(f"Rename to {name}", rename_person, person_id, name)

    def merge_selected(self) -> MergeDialog | None:
        people = self.selected_people()
        if len(people) != 2:
            self.window().statusBar().showMessage("Select exactly two people to merge (Ctrl+click)", 5000)
            return None
        dialog = MergeDialog(people[0], people[1], self)
        dialog.accepted.connect(lambda: self._merge(dialog.source, dialog.target))
        dialog.open()
        return dialog

    def _merge(self, source: PersonRow, target: PersonRow) -> None:
        self.session.edit(f"Merge {source.display_name} into {target.display_name}", merge_people, target.id, [source.id])

    def hide_selected(self) -> None:
        for person in self.selected_people():
            self.session.edit(f"Hide {person.display_name}", set_hidden, person.id, True)

    def _on_faces_dropped(self, face_ids: list[int], person_id: int) -> None:
        self.session.edit(f"Move {len(face_ids)} face(s)", move_faces, face_ids, person_id)

    def _on_activated(self, index) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.open_person(row.id)

    def open_person(self, person_id: int) -> None:
        self.stack.setCurrentWidget(self.page)
        self.page.show_person(person_id)

    def show_list(self) -> None:
        self.stack.setCurrentIndex(0)
        self.grid.setFocus()
