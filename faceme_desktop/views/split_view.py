"""Before/after in one QGraphicsScene: both images on the result's pixel grid, each clipped at the split.

The original is scaled onto the result's grid (an upscaled result is twice its size), so one zoom and
one pan apply to both for free; dragging the handle moves the split; the wheel zooms at the cursor.
Side by side is two of these views (one showing only the original, one only the result) whose zoom
and scroll positions follow each other (``sync_views``).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

BEFORE_CAPTION, AFTER_CAPTION = "Original", "Restored"
HANDLE_GRAB_PIXELS = 8  # how close (in screen pixels) a press must be to the split line to drag it
ZOOM_STEP = 1.25


class ClippedPixmapItem(QGraphicsPixmapItem):
    """A pixmap painted only on one side of a vertical line (scene x): "left" or "right"."""

    def __init__(self, side: str):
        super().__init__()
        self.side = side
        self.split_x = 0.0
        self.setTransformationMode(Qt.TransformationMode.SmoothTransformation)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        local = self.mapFromScene(QPointF(self.split_x, 0)).x()
        rect = self.boundingRect()
        if self.side == "left":
            clip = QRectF(rect.left(), rect.top(), max(0.0, local - rect.left()), rect.height())
        else:
            clip = QRectF(local, rect.top(), max(0.0, rect.right() - local), rect.height())
        painter.save()
        painter.setClipRect(clip)
        super().paint(painter, option, widget)
        painter.restore()


def captions_for(fraction: float) -> tuple[str | None, str | None]:
    """The words in the view's top corners: which side shows what (none for a side not shown)."""
    return (BEFORE_CAPTION if fraction > 0.0 else None, AFTER_CAPTION if fraction < 1.0 else None)


class SplitView(QGraphicsView):
    split_changed = Signal(float)  # the split as a fraction of the width
    zoomed = Signal(float)  # a zoom factor applied (side-by-side views apply it too)

    def __init__(self, parent=None, *, show_handle: bool = True, split: float = 0.5):
        super().__init__(parent)
        self.setObjectName("splitView")
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QColor(40, 40, 40))
        self.before = ClippedPixmapItem("left")
        self.after = ClippedPixmapItem("right")
        self.scene().addItem(self.after)
        self.scene().addItem(self.before)
        self.handle = QGraphicsLineItem()
        pen = QPen(QColor(255, 255, 255, 220), 2)
        pen.setCosmetic(True)  # 2 screen pixels at any zoom
        self.handle.setPen(pen)
        self.handle.setVisible(show_handle)
        self.handle.setZValue(10)
        self.scene().addItem(self.handle)
        self._show_handle = show_handle
        self._fraction = split
        self._dragging = False
        self._width = 0.0
        self._height = 0.0
        self._fitted = True  # keep the whole image in view on resize until the user zooms

    # --- content -----------------------------------------------------------------------------------------
    def set_images(self, before: QImage | QPixmap, after: QImage | QPixmap) -> None:
        """``before`` is stretched onto ``after``'s size (the result's pixel grid). Pixmaps given are
        shared (implicitly), so several views of one pair convert the images once."""
        after = after if isinstance(after, QPixmap) else QPixmap.fromImage(after)
        before = before if isinstance(before, QPixmap) else QPixmap.fromImage(before)
        self.after.setPixmap(after)
        self.before.setPixmap(before)
        self._width, self._height = float(after.width()), float(after.height())
        scale = self._width / max(1, before.width())
        self.before.setScale(scale)
        self.scene().setSceneRect(QRectF(0, 0, self._width, self._height))
        self.set_split(self._fraction)

    @property
    def split(self) -> float:
        return self._fraction

    def set_split(self, fraction: float) -> None:
        self._fraction = min(1.0, max(0.0, fraction))
        x = self._fraction * self._width
        self.before.split_x = self.after.split_x = x
        self.handle.setLine(x, 0, x, self._height)
        self.handle.setVisible(self._show_handle and 0.0 < self._fraction < 1.0)
        self.before.update()
        self.after.update()
        self.viewport().update()  # the captions
        self.split_changed.emit(self._fraction)

    @property
    def captions(self) -> tuple[str | None, str | None]:
        return captions_for(self._fraction)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        """"Original" top left and "Restored" top right, fixed on screen at any zoom and pan."""
        if self.after.pixmap().isNull():
            return
        painter.save()
        painter.resetTransform()  # viewport pixels
        metrics = painter.fontMetrics()
        width = self.viewport().width()
        for text, left in zip(self.captions, (True, False)):
            if text is None:
                continue
            box = QRectF(0, 0, metrics.horizontalAdvance(text) + 12, metrics.height() + 6)
            box.moveTopLeft(QPointF(8, 8) if left else QPointF(width - box.width() - 8, 8))
            painter.fillRect(box, QColor(0, 0, 0, 150))
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def fit(self) -> None:
        self._fitted = True
        self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def zoom(self, factor: float) -> None:
        self._fitted = False
        self.scale(factor, factor)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitted:  # a view laid out after its image arrived (a page not shown yet) fits now
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    # --- mouse: drag the split, wheel zooms ----------------------------------------------------------------
    def _near_handle(self, pos) -> bool:
        if not self._show_handle:
            return False
        handle_x = self.mapFromScene(QPointF(self._fraction * self._width, 0)).x()
        return abs(pos.x() - handle_x) <= HANDLE_GRAB_PIXELS

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._near_handle(event.position().toPoint()):
            self._dragging = True
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position().toPoint()
        if self._dragging:
            x = self.mapToScene(pos).x()
            self.set_split(x / self._width if self._width else 0.5)
            event.accept()
            return
        self.viewport().setCursor(Qt.CursorShape.SplitHCursor if self._near_handle(pos) else Qt.CursorShape.OpenHandCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._dragging:
            self._dragging = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802
        factor = ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP
        self.zoom(factor)
        self.zoomed.emit(factor)


def sync_views(a: SplitView, b: SplitView) -> None:
    """Zoom and scroll positions of ``a`` and ``b`` follow each other."""
    a.zoomed.connect(b.zoom)
    b.zoomed.connect(a.zoom)
    for first, second in ((a, b), (b, a)):
        first.horizontalScrollBar().valueChanged.connect(second.horizontalScrollBar().setValue)
        first.verticalScrollBar().valueChanged.connect(second.verticalScrollBar().setValue)
