"""The Photos tab: folders to filter by, the thumbnail grid, and a photo opened whole."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from faceme_core.library import queries
from faceme_core.library.queries import FolderRow, PhotoRow
from faceme_desktop.delegates import ThumbnailDelegate
from faceme_desktop.icons import icon
from faceme_desktop.menus import view_action as action
from faceme_desktop.models.photos_model import PhotosModel
from faceme_desktop.models.roles import ID_ROLE
from faceme_desktop.pager import Pager
from faceme_desktop.session import LibrarySession
from faceme_desktop.thumbnails import ThumbnailLoader
from faceme_desktop.views.grid import make_grid
from faceme_desktop.views.photo_page import PhotoPage

PHOTO_THUMBNAIL = 150
ALL_PHOTOS = None


def folder_label(path: Path, folders: list[FolderRow]) -> str:
    """The folder's path from just above the folders' common root ("Album/1960/roll-003"), so two
    folders of the same name in different places stay apart."""
    try:
        root = Path(os.path.commonpath([str(f.path) for f in folders])).parent
        return str(path.relative_to(root)) or str(path)
    except ValueError:  # different drives
        return str(path)


def rows_at(library, query, numbers: list[int], page_size: int) -> list[PhotoRow]:  # worker thread
    """The photos at these grid rows, read page by page (a selection can reach pages never shown)."""
    pages: dict[int, list[PhotoRow]] = {}
    rows = []
    for number in numbers:
        page = number // page_size
        if page not in pages:
            pages[page] = list(query(library, offset=page * page_size, limit=page_size).items)
        if number % page_size < len(pages[page]):
            rows.append(pages[page][number % page_size])
    return rows


class PhotosView(QWidget):
    open_person = Signal(int)
    loaded = Signal()  # the grid shows the library's current rows
    restore_photos = Signal(list)  # paths: open them in the Restore view
    job_from_photos = Signal(list)  # paths: a restore job of these photos
    status_message = Signal(str)

    def __init__(self, session: LibrarySession, loader: ThumbnailLoader, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.folder: Path | None = ALL_PHOTOS
        self.folders = QListWidget()
        self.folders.setObjectName("folderList")
        self.folders.currentItemChanged.connect(self._on_folder)
        self.model = PhotosModel(loader, PHOTO_THUMBNAIL, self)
        self.pager = Pager(session, self.model, self._page_query)
        self.model.page_applied.connect(lambda _offset: self.loaded.emit())
        self.grid = make_grid(ThumbnailDelegate(PHOTO_THUMBNAIL, badge="count"), self, multi_select=True)
        self.grid.setObjectName("photoGrid")
        self.grid.setModel(self.model)
        self.grid.activated.connect(self._on_activated)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.actions_by_name = {
            "restoreSelected": action(self.grid, "Restore selected", "Ctrl+Shift+R",
                                      "Open the selected photos in Restore", self.restore_selected, "restoreSelected"),
            "jobFromSelection": action(self.grid, "New job from selection", "Ctrl+Shift+J",
                                       "Restore the selected photos as a job (pause and resume any time)",
                                       self.job_from_selection, "jobFromSelection"),
        }
        self.grid.selectionModel().selectionChanged.connect(self._on_selection)
        self.page = PhotoPage(session)
        self.page.back.connect(self.show_grid)
        self.page.open_person.connect(self.open_person)
        self.page.restore_photo.connect(self.restore_photos)
        self.folders.setMinimumWidth(120)
        splitter = QSplitter()
        splitter.addWidget(self.folders)
        splitter.addWidget(self._grid_pane())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([170, 1000])
        self.stack = QStackedWidget()
        self.stack.addWidget(splitter)
        self.stack.addWidget(self.page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        session.changed.connect(self.reload)
        self.model.start()
        self.session.query(queries.folders, on_result=self._on_folders)

    def _grid_pane(self) -> QWidget:
        """The grid with a bar above it: what is selected and what can be done with it."""
        self.selection_label = QLabel()
        self.selection_label.setObjectName("photoSelection")
        self.selection_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        self.buttons: dict[str, QToolButton] = {}
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.selection_label, 1)
        for name, act in self.actions_by_name.items():
            button = QToolButton()
            button.setObjectName(name)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setDefaultAction(act)
            self.buttons[name] = button
            bar.addWidget(button)
        pane = QWidget()
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        self.refresh_icons()
        self._on_selection()
        return pane

    def refresh_icons(self) -> None:
        self.actions_by_name["restoreSelected"].setIcon(icon("restore"))
        self.actions_by_name["jobFromSelection"].setIcon(icon("jobs"))
        if hasattr(self, "page"):
            self.page.refresh_icons()

    # --- selection --------------------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        return sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())

    def _on_selection(self, *_args) -> None:
        count = len(self.grid.selectionModel().selectedIndexes())
        self.selection_label.setText(
            f"{count} photo{'' if count == 1 else 's'} selected" if count
            else "Select photos (Ctrl+click, Shift+click, Ctrl+A) to restore them; double-click opens one"
        )
        for act in self.actions_by_name.values():
            act.setEnabled(count > 0)

    def restore_selected(self) -> None:
        self._with_selected_paths(self.restore_photos.emit)

    def job_from_selection(self) -> None:
        self._with_selected_paths(self.job_from_photos.emit)

    def _with_selected_paths(self, use) -> None:
        numbers = self.selected_rows()
        if not numbers:
            return

        def chosen(rows: list[PhotoRow]) -> None:
            present = [row.path for row in rows if row.status != "missing"]
            if len(present) < len(rows):
                missing = len(rows) - len(present)
                self.status_message.emit(f"{missing} selected photo{'' if missing == 1 else 's'} left out: file missing")
            if present:
                use(present)

        self.session.query(rows_at, self._page_query(), numbers, self.model.page_size, on_result=chosen)

    def _page_query(self):
        # "All photos": everything, subfolders included; a folder of the list: that folder only.
        return partial(queries.photos_page, folder=self.folder, recursive=self.folder is None)

    def reload(self) -> None:
        """The library changed: visible pages are read again, the scroll position stays."""
        scroll = self.grid.verticalScrollBar().value()
        self.model.refresh()
        self.grid.verticalScrollBar().setValue(scroll)
        self.session.query(queries.folders, on_result=self._on_folders)

    def _on_folders(self, folders: list[FolderRow]) -> None:
        wanted = [("All photos", None, sum(f.photo_count for f in folders))]
        wanted += [(folder_label(f.path, folders), f.path, f.photo_count) for f in folders]
        current = [self._folder_of(self.folders.item(i)) for i in range(self.folders.count())]
        counts = [f"{name} ({count})" for name, _p, count in wanted]
        if current == [p for _n, p, _c in wanted] and counts == [self.folders.item(i).text() for i in range(self.folders.count())]:
            return
        self.folders.blockSignals(True)
        self.folders.clear()
        for (name, path, count), text in zip(wanted, counts):
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, str(path) if path else "")
            item.setToolTip(str(path) if path else "Every photo of the album")
            self.folders.addItem(item)
            if path == self.folder:
                self.folders.setCurrentItem(item)
        self.folders.blockSignals(False)

    def _on_folder(self, item: QListWidgetItem | None, _previous=None) -> None:
        self.folder = self._folder_of(item) if item is not None else None
        self.model.start()

    @staticmethod
    def _folder_of(item: QListWidgetItem) -> Path | None:
        value = item.data(Qt.ItemDataRole.UserRole)
        return Path(value) if value else None

    def _on_activated(self, index) -> None:
        self.open_photo(index.data(ID_ROLE))

    def open_photo(self, photo_id: int) -> None:
        self.stack.setCurrentWidget(self.page)
        self.page.show_photo(photo_id)
        self.page.setFocus()

    def show_grid(self) -> None:
        self.stack.setCurrentIndex(0)
        self.grid.setFocus()
