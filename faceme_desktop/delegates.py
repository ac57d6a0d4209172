"""Painting one grid cell: a thumbnail (or a placeholder while it loads), a caption and a small badge.

Cells have a fixed size (the views use uniform item sizes), so painting is all the per-item work a
scroll costs: no widget per item, no layout.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QLineEdit, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from faceme_desktop.models.roles import COUNT_ROLE, SIMILARITY_ROLE

PADDING = 6
CAPTION_HEIGHT = 20


class ThumbnailDelegate(QStyledItemDelegate):
    """``badge`` says what goes in the corner: "count" (faces), "similarity", or None."""

    def __init__(self, thumbnail_size: int, *, caption: bool = True, badge: str | None = None, parent=None):
        super().__init__(parent)
        self.thumbnail_size = thumbnail_size
        self.caption = caption
        self.badge = badge

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        side = self.thumbnail_size + 2 * PADDING
        return QSize(side, side + (CAPTION_HEIGHT if self.caption else 0))

    def setEditorData(self, editor, index) -> None:  # noqa: N802
        # A thumbnail arriving while the user types a name repaints the row (dataChanged), which
        # makes Qt put the model's text back into the editor: never overwrite what the user typed.
        if isinstance(editor, QLineEdit) and editor.isModified():
            return
        super().setEditorData(editor, index)

    def updateEditorGeometry(self, editor, option, index) -> None:  # noqa: N802
        """The name editor sits where the caption is, under the picture."""
        rect = QRect(option.rect.left() + 2, option.rect.bottom() - CAPTION_HEIGHT - 4, option.rect.width() - 4, CAPTION_HEIGHT + 4)
        editor.setGeometry(rect)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        painter.save()
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(option.rect, palette.color(QPalette.ColorRole.Highlight))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(option.rect, palette.color(QPalette.ColorRole.AlternateBase))
        image_rect = QRect(
            option.rect.left() + PADDING, option.rect.top() + PADDING, self.thumbnail_size, self.thumbnail_size
        )
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            # Fit the cell, small face crops scaled up too: every card in a grid has the same size.
            fitted = pixmap.size().scaled(image_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, fitted.width(), fitted.height())
            target.moveCenter(image_rect.center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(target, pixmap)
        else:  # loading (or unreadable): a quiet placeholder of the same size
            target = image_rect
            painter.fillRect(image_rect, palette.color(QPalette.ColorRole.Midlight))
        if self.badge:
            self._paint_badge(painter, target, index)
        if self.caption:
            text_rect = QRect(
                option.rect.left() + PADDING, image_rect.bottom() + 2, self.thumbnail_size, CAPTION_HEIGHT
            )
            role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
            painter.setPen(palette.color(role))
            text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
            elided = option.fontMetrics.elidedText(text, Qt.TextElideMode.ElideMiddle, text_rect.width())
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, elided)
        painter.restore()

    def _paint_badge(self, painter: QPainter, image_rect: QRect, index) -> None:
        if self.badge == "count":
            value = index.data(COUNT_ROLE)
            if not value:
                return
            text = str(value)
        else:
            similarity = index.data(SIMILARITY_ROLE)
            if similarity is None:
                return
            text = f"{similarity:.2f}"
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 10
        badge = QRect(image_rect.right() - width - 3, image_rect.bottom() - 20, width, 18)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(badge, 9, 9)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)


class CompactDelegate(QStyledItemDelegate):
    """A plain list row whose thumbnail is drawn small (the drop-target list of people)."""

    def __init__(self, icon_size: int = 36, parent=None):
        super().__init__(parent)
        self.icon_size = icon_size

    def initStyleOption(self, option, index) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        option.decorationSize = QSize(self.icon_size, self.icon_size)  # the model's covers are large

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(option.rect.width() if option else 150, self.icon_size + 6)
