"""People as a list model (cards), with search, sort and the small-groups filter in a proxy.

Renaming in place and dropping faces on a person do not change the library here: the model emits
``rename_requested`` / ``faces_dropped`` and the view asks the session, which runs the core's edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal

from faceme_desktop.core_queries import PersonSummary
from faceme_desktop.models.roles import COUNT_ROLE, FACE_IDS_MIME, SORT_ROLE
from faceme_desktop.models.thumbnail_list_model import ThumbnailListModel

SMALL_GROUP = 3  # unnamed groups with fewer faces are strangers until the user asks to see them
CROWDED = 24  # ... once there are enough people for strangers to flood the list (a small album shows all)
SORT_KEYS = ("count", "name", "recent")


def decode_face_ids(mime: QMimeData) -> list[int]:
    if not mime.hasFormat(FACE_IDS_MIME):
        return []
    text = bytes(mime.data(FACE_IDS_MIME).data()).decode("ascii")
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


def encode_face_ids(face_ids: list[int]) -> QMimeData:
    mime = QMimeData()
    mime.setData(FACE_IDS_MIME, ",".join(str(i) for i in face_ids).encode("ascii"))
    return mime


class PeopleModel(ThumbnailListModel[PersonSummary]):
    rename_requested = Signal(int, str)  # person id, new name
    faces_dropped = Signal(list, int)  # face ids, person id

    def thumbnail_path(self, row: PersonSummary) -> Path | None:
        return row.cover_thumbnail

    def row_data(self, row: PersonSummary, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return row.display_name
        if role == Qt.ItemDataRole.ToolTipRole:
            faces = f"{row.face_count} face" + ("" if row.face_count == 1 else "s")
            refs = f", {row.reference_count} reference(s)" if row.reference_count else ", no references"
            return f"{row.display_name}: {faces}{refs}"
        if role == COUNT_ROLE:
            return row.face_count
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base
        return base | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDropEnabled

    def setData(self, index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        row = self.row_at(index.row())
        name = str(value).strip()
        if not name or name == row.display_name:
            return False
        self.rename_requested.emit(row.id, name)
        return False  # the library changes, then the reload shows it

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [FACE_IDS_MIME]

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def canDropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802
        return parent.isValid() and data.hasFormat(FACE_IDS_MIME)

    def dropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802
        face_ids = decode_face_ids(data)
        if not parent.isValid() or not face_ids:
            return False
        self.faces_dropped.emit(face_ids, self.row_at(parent.row()).id)
        return False  # nothing is inserted into this model


class PeopleFilterModel(QSortFilterProxyModel):
    """Search by name, sort by count/name/recent, and hide small unnamed groups unless asked."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._search = ""
        self._show_small = False
        self._sort_key = "count"
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def _refilter(self, change) -> None:
        if not hasattr(self, "endFilterChange"):  # Qt < 6.9
            change()
            self.invalidateFilter()
            return
        self.beginFilterChange()  # Qt 6.9+: invalidateFilter() is deprecated
        change()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_search(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_search", text.strip().lower()))

    def set_show_small(self, show: bool) -> None:
        self._refilter(lambda: setattr(self, "_show_small", show))

    def set_sort_key(self, key: str) -> None:
        if key not in SORT_KEYS:
            raise ValueError(f"sort key {key!r}: expected one of {SORT_KEYS}")
        self._sort_key = key
        self.invalidate()
        self.sort(0, Qt.SortOrder.AscendingOrder)

    def _hiding(self) -> bool:
        source = self.sourceModel()
        return not self._show_small and source is not None and source.rowCount() > CROWDED

    def hidden_small_groups(self) -> int:
        if not self._hiding():
            return 0
        return sum(1 for row in self.sourceModel().rows() if not self._big_enough(row))

    @staticmethod
    def _big_enough(row: PersonSummary) -> bool:
        return row.name is not None or row.face_count >= SMALL_GROUP

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:  # noqa: N802
        row: PersonSummary = self.sourceModel().row_at(source_row)
        if self._hiding() and not self._big_enough(row):
            return False
        return not self._search or self._search in row.display_name.lower()

    def lessThan(self, left, right) -> bool:  # noqa: N802
        a: PersonSummary = self.sourceModel().row_at(left.row())
        b: PersonSummary = self.sourceModel().row_at(right.row())
        if self._sort_key == "name":  # named people first, by name; then unnamed by size
            return (a.name is None, (a.name or "").lower(), -a.face_count, a.id) < (
                b.name is None, (b.name or "").lower(), -b.face_count, b.id)
        if self._sort_key == "recent":
            return (-a.last_assigned_at, a.id) < (-b.last_assigned_at, b.id)
        return (-a.face_count, a.name is None, a.id) < (-b.face_count, b.name is None, b.id)
