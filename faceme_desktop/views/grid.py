"""The icon-mode list view every thumbnail grid uses (photos, people, faces)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from faceme_desktop.delegates import ThumbnailDelegate


def make_grid(delegate: ThumbnailDelegate, parent: QWidget | None = None, *, multi_select: bool = False) -> QListView:
    view = QListView(parent)
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)  # no per-item size queries: layout of 10,000 items is instant
    view.setLayoutMode(QListView.LayoutMode.Batched)
    view.setBatchSize(500)
    view.setSpacing(4)
    view.setGridSize(delegate.sizeHint(None, None) + QSize(8, 8))
    view.setItemDelegate(delegate)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setMouseTracking(True)
    view.setWordWrap(False)
    view.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection if multi_select else QAbstractItemView.SelectionMode.SingleSelection
    )
    return view
