"""The People tab: person cards with search, sort, the small-groups toggle, and a person's page."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
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

from faceme_core.library.people import merge_people, move_faces, rename_person, set_hidden
from faceme_desktop import core_queries
from faceme_desktop.core_queries import PersonSummary
from faceme_desktop.delegates import ThumbnailDelegate
from faceme_desktop.icons import icon
from faceme_desktop.models.people_model import PeopleFilterModel, PeopleModel
from faceme_desktop.models.roles import ROW_ROLE
from faceme_desktop.session import LibrarySession
from faceme_desktop.thumbnails import ThumbnailLoader
from faceme_desktop.views.grid import make_grid
from faceme_desktop.views.merge_dialog import MergeDialog
from faceme_desktop.views.person_page import PersonPage

COVER_SIZE = 120
SORT_CHOICES = (("Most faces", "count"), ("Name", "name"), ("Recently changed", "recent"))


def action(parent: QWidget, text: str, shortcut: str | QKeySequence | None, tip: str, slot, name: str) -> QAction:
    """An action whose tooltip names its shortcut."""
    act = QAction(text, parent)
    act.setObjectName(name)
    if shortcut:
        act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        tip += f" ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
    act.setToolTip(tip)
    act.triggered.connect(slot)
    parent.addAction(act)
    return act


class PeopleView(QWidget):
    open_photo = Signal(int)
    loaded = Signal()

    def __init__(self, session: LibrarySession, loader: ThumbnailLoader, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.model = PeopleModel(loader, COVER_SIZE, self)
        self.model.rename_requested.connect(self._on_rename)
        self.model.faces_dropped.connect(self._on_faces_dropped)
        self.proxy = PeopleFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.sort(0)
        self.search = QLineEdit()
        self.search.setObjectName("peopleSearch")
        self.search.setPlaceholderText("Search people (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        self.sort = QComboBox()
        self.sort.setObjectName("peopleSort")
        for text, key in SORT_CHOICES:
            self.sort.addItem(text, key)
        self.sort.currentIndexChanged.connect(lambda _i: self.proxy.set_sort_key(self.sort.currentData()))
        self.show_small = QCheckBox("Show small groups")
        self.show_small.setObjectName("showSmallGroups")
        self.show_small.setToolTip("Unnamed groups of fewer than 3 faces are often strangers: hidden unless you ask")
        self.show_small.toggled.connect(self._on_show_small)
        self.small_note = QLabel()
        self.small_note.setEnabled(False)
        self.grid = make_grid(ThumbnailDelegate(COVER_SIZE, badge="count"), self)
        self.grid.setObjectName("peopleGrid")
        self.grid.setModel(self.proxy)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # F2 is the Rename action (one editor)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.grid.setAcceptDrops(True)
        self.grid.setDropIndicatorShown(True)
        self.grid.activated.connect(lambda index: self.open_person(index.data(ROW_ROLE).id))
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
        self.page = PersonPage(session, loader, self.proxy)
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
        self.reload()

    def refresh_icons(self) -> None:
        for act in self.actions_by_name.values():
            act.setIcon(icon(act.data()))
        self.page.refresh_icons()

    def reload(self) -> None:
        self.session.query(core_queries.people_summaries, True, on_result=self._on_people)

    def _on_people(self, people: list[PersonSummary]) -> None:
        self.model.set_rows([p for p in people if not p.hidden])
        hidden = self.proxy.hidden_small_groups()
        self.small_note.setText(f"({hidden} hidden)" if hidden else "")
        self.loaded.emit()

    def _on_show_small(self, show: bool) -> None:
        self.proxy.set_show_small(show)
        self.small_note.setText("" if show else f"({self.proxy.hidden_small_groups()} hidden)")

    def selected_people(self) -> list[PersonSummary]:
        return [index.data(ROW_ROLE) for index in self.grid.selectionModel().selectedIndexes()]

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

    def _merge(self, source: PersonSummary, target: PersonSummary) -> None:
        self.session.edit(f"Merge {source.display_name} into {target.display_name}", merge_people, target.id, [source.id])

    def hide_selected(self) -> None:
        for person in self.selected_people():
            self.session.edit(f"Hide {person.display_name}", set_hidden, person.id, True)

    def _on_faces_dropped(self, face_ids: list[int], person_id: int) -> None:
        self.session.edit(f"Move {len(face_ids)} face(s)", move_faces, face_ids, person_id)

    def open_person(self, person_id: int) -> None:
        self.stack.setCurrentWidget(self.page)
        self.page.show_person(person_id)

    def show_list(self) -> None:
        self.stack.setCurrentIndex(0)
        self.grid.setFocus()
