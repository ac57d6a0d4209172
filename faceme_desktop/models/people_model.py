"""People as a paged list model (cards). Sorting, search and the small-groups rule are the core's
(``queries.people_page``); renaming in place and dropping faces on a person leave as signals
(``rename_requested`` / ``faces_dropped``) for the view to hand to the session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, Qt, Signal

from faceme_core.library.queries import PersonRow
from faceme_desktop.models.paged_model import PagedListModel
from faceme_desktop.models.roles import COUNT_ROLE, FACE_IDS_MIME


def decode_face_ids(mime: QMimeData) -> list[int]:
    if not mime.hasFormat(FACE_IDS_MIME):
        return []
    text = bytes(mime.data(FACE_IDS_MIME).data()).decode("ascii")
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


def encode_face_ids(face_ids: list[int]) -> QMimeData:
    mime = QMimeData()
    mime.setData(FACE_IDS_MIME, ",".join(str(i) for i in face_ids).encode("ascii"))
    return mime


class PeopleModel(PagedListModel):
    rename_requested = Signal(int, str)  # person id, new name
    faces_dropped = Signal(list, int)  # face ids, person id

    def thumbnail_path(self, row: PersonRow) -> Path | None:
        return row.cover_thumbnail

    def row_data(self, row: PersonRow, role: int) -> Any:
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
        row = self.row_at(index.row()) if index.isValid() else None
        if role != Qt.ItemDataRole.EditRole or row is None:
            return False
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
        person = self.row_at(parent.row()) if parent.isValid() else None
        if person is None or not face_ids:
            return False
        self.faces_dropped.emit(face_ids, person.id)
        return False  # nothing is inserted into this model
