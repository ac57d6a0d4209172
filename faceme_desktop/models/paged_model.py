"""A list model over the core's paged queries: ``total`` rows known at once, pages read on demand.

The view asks only for visible rows, so opening a grid of 10,000 photos reads one page. A row
whose page is not here yet shows as a placeholder and its page is requested (``page_needed``); the
owner runs the query on a worker and hands the ``Page`` back to ``apply_page``. After a library
change, ``refresh()`` marks every page stale: rows keep showing (no flicker) while the visible pages
are read again; a changed total resets the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication

from faceme_core.library.queries import Page
from faceme_desktop.models.roles import ID_ROLE, ROW_ROLE
from faceme_desktop.thumbnails import ThumbnailLoader

PAGE_SIZE = 200


class PagedListModel(QAbstractListModel):
    page_needed = Signal(int, int)  # generation, offset: read that page (limit: page_size)
    page_applied = Signal(int)  # offset of a page now shown

    disk_cache = False  # keep decoded thumbnails on disk (photos: decoding them is the expensive part)

    def __init__(self, loader: ThumbnailLoader, thumbnail_size: int, parent=None, page_size: int = PAGE_SIZE):
        super().__init__(parent)
        self.page_size = page_size
        self.thumbnail_size = thumbnail_size
        self.total = 0
        self.generation = 0
        self._pages: dict[int, tuple] = {}
        self._stale: set[int] = set()
        self._requested: set[int] = set()
        self._loader = loader
        self._waiting: dict[str, set[int]] = {}
        loader.ready.connect(self._on_thumbnail_ready)

    # --- to override -----------------------------------------------------------------------------
    def row_id(self, row) -> int:
        return row.id

    def thumbnail_path(self, row) -> Path | None:
        raise NotImplementedError

    def row_data(self, row, role: int) -> Any:
        return None

    # --- pages -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Forget everything and read the first page (the filter or sort changed)."""
        self.generation += 1
        self._requested = {0}
        self.page_needed.emit(self.generation, 0)

    def refresh(self) -> None:
        """The library changed: keep showing what is here, read pages again as they are shown."""
        self.generation += 1
        self._stale = set(self._pages)
        self._requested = {0}
        self.page_needed.emit(self.generation, 0)  # also tells whether the total changed

    def apply_page(self, generation: int, page: Page) -> None:
        if generation != self.generation:
            return  # an answer to an older question
        number = page.offset // self.page_size
        if page.total != self.total or (number == 0 and not self._pages):
            self.beginResetModel()
            self.total = page.total
            self._pages = {number: tuple(page.items)}
            self._stale.clear()
            self._requested = {number}
            self._waiting.clear()
            self.endResetModel()
            self.page_applied.emit(page.offset)
            return
        old = self._pages.get(number)
        self._pages[number] = tuple(page.items)
        self._stale.discard(number)
        if old != self._pages[number] and page.items:
            first = page.offset
            self.dataChanged.emit(self.index(first), self.index(min(self.total, first + len(page.items)) - 1))
        self.page_applied.emit(page.offset)

    def row_at(self, number: int):
        """The row if its page is here (possibly stale), else None."""
        page = self._pages.get(number // self.page_size)
        offset = number % self.page_size
        return page[offset] if page is not None and offset < len(page) else None

    def loaded_rows(self) -> list:
        return [row for number in sorted(self._pages) for row in self._pages[number]]

    def index_of_id(self, row_id: int) -> QModelIndex:
        for number, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if self.row_id(row) == row_id:
                    return self.index(number * self.page_size + offset)
        return QModelIndex()

    def _ensure_page(self, number: int) -> None:
        page = number // self.page_size
        if (page not in self._pages or page in self._stale) and page not in self._requested:
            self._requested.add(page)
            self.page_needed.emit(self.generation, page * self.page_size)

    # --- Qt ----------------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else self.total

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.total or index.column() != 0:
            return None
        self._ensure_page(index.row())
        row = self.row_at(index.row())
        if row is None:
            return "..." if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(index.row(), row)
        if role == ID_ROLE:
            return self.row_id(row)
        if role == ROW_ROLE:
            return row
        return self.row_data(row, role)

    def _thumbnail(self, number: int, row):
        path = self.thumbnail_path(row)
        if path is None:
            return None
        app = QGuiApplication.instance()
        dpr = app.devicePixelRatio() if app is not None else 1.0
        pixmap = self._loader.pixmap(path, self.thumbnail_size, dpr, self.disk_cache)
        if pixmap is None:
            key = self._loader.key(path, max(1, int(round(self.thumbnail_size * dpr))))
            self._waiting.setdefault(key, set()).add(number)
            return None
        pixmap.setDevicePixelRatio(dpr)
        return pixmap

    def _on_thumbnail_ready(self, key: str) -> None:
        for number in self._waiting.pop(key, ()):
            if number < self.total:
                index = self.index(number)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
