"""A list model of frozen rows whose decoration is a lazily loaded thumbnail."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Generic, Sequence, TypeVar

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QGuiApplication

from faceme_desktop.models.roles import ID_ROLE, ROW_ROLE
from faceme_desktop.thumbnails import ThumbnailLoader

Row = TypeVar("Row")


class ThumbnailListModel(QAbstractListModel, Generic[Row]):
    """Subclasses say which file is a row's thumbnail (``thumbnail_path``) and what else it shows."""

    def __init__(self, loader: ThumbnailLoader, thumbnail_size: int, parent=None):
        super().__init__(parent)
        self._rows: list[Row] = []
        self._row_of_id: dict[int, int] = {}
        self._loader = loader
        self.thumbnail_size = thumbnail_size
        self._waiting: dict[str, set[int]] = {}  # thumbnail key -> row numbers showing it
        loader.ready.connect(self._on_thumbnail_ready)

    # --- to override -----------------------------------------------------------------------------
    def thumbnail_path(self, row: Row) -> Path | None:
        raise NotImplementedError

    def row_data(self, row: Row, role: int) -> Any:
        return None

    # --- rows ------------------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        return list(self._rows)

    def row_at(self, index: int) -> Row:
        return self._rows[index]

    def index_of_id(self, row_id: int) -> QModelIndex:
        number = self._row_of_id.get(row_id)
        return self.index(number) if number is not None else QModelIndex()

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Replace the rows; unchanged rows of an unchanged list are only repainted (no reset)."""
        rows = list(rows)
        if [r.id for r in rows] == [r.id for r in self._rows]:  # type: ignore[attr-defined]
            changed = [i for i, (old, new) in enumerate(zip(self._rows, rows)) if old != new]
            self._rows = rows
            if changed:
                self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)))
            return
        self.beginResetModel()
        self._rows = rows
        self._row_of_id = {row.id: i for i, row in enumerate(rows)}  # type: ignore[attr-defined]
        self._waiting.clear()
        self.endResetModel()

    # --- Qt ----------------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or index.column() != 0:
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(index.row(), row)
        if role == ID_ROLE:
            return row.id  # type: ignore[attr-defined]
        if role == ROW_ROLE:
            return row
        return self.row_data(row, role)

    def _thumbnail(self, number: int, row: Row):
        path = self.thumbnail_path(row)
        if path is None:
            return None
        dpr = QGuiApplication.instance().devicePixelRatio() if QGuiApplication.instance() else 1.0
        pixmap = self._loader.pixmap(path, self.thumbnail_size, dpr)
        if pixmap is None:
            key = self._loader.key(path, max(1, int(round(self.thumbnail_size * dpr))))
            self._waiting.setdefault(key, set()).add(number)
            return None
        pixmap.setDevicePixelRatio(dpr)
        return pixmap

    def _on_thumbnail_ready(self, key: str) -> None:
        for number in self._waiting.pop(key, ()):
            if number < len(self._rows):
                index = self.index(number)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
