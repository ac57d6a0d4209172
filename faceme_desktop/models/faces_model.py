"""A person's faces (least similar first: the core's order) as a paged list model; selected faces
drag out as face ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from faceme_core.library.queries import PersonFaceRow
from faceme_desktop.models.paged_model import PagedListModel
from faceme_desktop.models.people_model import encode_face_ids
from faceme_desktop.models.roles import FACE_IDS_MIME, ID_ROLE, PATH_ROLE, SIMILARITY_ROLE


class PersonFacesModel(PagedListModel):
    def row_id(self, row: PersonFaceRow) -> int:
        return row.face_id

    def thumbnail_path(self, row: PersonFaceRow) -> Path | None:
        return row.thumbnail

    def row_data(self, row: PersonFaceRow, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            similarity = f"similarity {row.similarity:.2f}" if row.similarity is not None else "no fingerprint"
            who = "confirmed by you" if row.assigned_by == "user" else "grouped automatically"
            return f"{row.photo_path.name}\n{similarity}, {who}"
        if role == SIMILARITY_ROLE:
            return row.similarity
        if role == PATH_ROLE:
            return str(row.photo_path)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [FACE_IDS_MIME]

    def mimeData(self, indexes) -> Any:  # noqa: N802
        return encode_face_ids(sorted({index.data(ID_ROLE) for index in indexes if index.isValid()}))

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction
