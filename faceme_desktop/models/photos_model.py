"""The album's photos as a paged list model (the Photos grid)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from faceme_core.library.queries import PhotoRow
from faceme_desktop.models.paged_model import PagedListModel
from faceme_desktop.models.roles import COUNT_ROLE, PATH_ROLE


class PhotosModel(PagedListModel):
    disk_cache = True
    def thumbnail_path(self, row: PhotoRow) -> Path | None:
        return row.path if row.status != "missing" else None

    def row_data(self, row: PhotoRow, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return row.path.name
        if role == Qt.ItemDataRole.ToolTipRole:
            faces = f"{row.face_count} face" + ("" if row.face_count == 1 else "s")
            state = {"missing": " (file missing)", "error": " (could not be read)"}.get(row.status, "")
            return f"{row.path}\n{faces}{state}"
        if role == COUNT_ROLE:
            return row.face_count
        if role == PATH_ROLE:
            return str(row.path)
        return None
