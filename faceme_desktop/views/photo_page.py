"""One photo, whole, with every face box coloured by state and the names on the boxes.

Clicking a face selects it; the panel on the right names it (with a completer over people), says
"not this person", confirms a suggestion or opens the person.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QStringListModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCompleter,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from faceme_core.library.face_naming import name_face
from faceme_core.library.people import move_face, reject_face
from faceme_desktop import core_queries
from faceme_core.library.queries import PhotoFaceRow
from faceme_desktop.core_queries import PhotoDetail
from faceme_desktop.icons import icon
from faceme_desktop.session import LibrarySession
from faceme_desktop.thumbnails import read_scaled
from faceme_desktop.views.face_colors import STATE_COLORS, STATE_WORDS

DISPLAY_SIZE = 2400  # longest side the photo is decoded at: sharp on screen, bounded memory


def face_label(face: PhotoFaceRow) -> str:
    if face.person_id is None:
        return "?"
    return face.person_name or f"person {face.person_id}"


class FaceBoxItem(QGraphicsRectItem):
    def __init__(self, face: PhotoFaceRow, scale: float):
        x0, y0, x1, y1 = (v * scale for v in face.box)
        super().__init__(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.face = face
        color = STATE_COLORS[face.state]
        pen = QPen(color, 3)
        pen.setCosmetic(True)  # the same width at every zoom
        if face.state == "unassigned":
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{face_label(face)} ({STATE_WORDS[face.state]}): click to name")
        label = face_label(face)
        if face.assigned_by == "auto":
            label += "?"
        text = QGraphicsSimpleTextItem(label, self)
        font = QFont()
        font.setBold(True)
        text.setFont(font)
        text.setBrush(QBrush(QColor("white")))
        text.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        background = QGraphicsRectItem(text.boundingRect().adjusted(-3, -1, 3, 1), self)
        background.setBrush(color)
        background.setPen(Qt.PenStyle.NoPen)
        background.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        background.setPos(x0, y1 + 2)
        text.setParentItem(background)
        text.setPos(0, 0)

    def paint(self, painter, option, widget=None) -> None:
        if self.isSelected():
            halo = QPen(QColor("white"), 6)
            halo.setCosmetic(True)
            painter.setPen(halo)
            painter.drawRect(self.rect())
        painter.setPen(self.pen())
        painter.drawRect(self.rect())


class PhotoCanvas(QGraphicsView):
    face_clicked = Signal(object)  # PhotoFaceRow or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.items_by_face: dict[int, FaceBoxItem] = {}
        self.scene().selectionChanged.connect(self._on_selection)

    def show_photo(self, pixmap: QPixmap, detail: PhotoDetail) -> None:
        scene = self.scene()
        scene.clear()
        self.items_by_face.clear()
        scene.addPixmap(pixmap)
        width = detail.photo.size_wh[0] if detail.photo.size_wh else pixmap.width()
        scale = pixmap.width() / pixmap.devicePixelRatio() / width if width else 1.0
        for face in detail.faces:
            item = FaceBoxItem(face, scale)
            scene.addItem(item)
            self.items_by_face[face.face_id] = item
        scene.setSceneRect(QRectF(pixmap.rect()))
        self.fit()

    def select_face(self, face_id: int) -> None:
        self.scene().clearSelection()
        item = self.items_by_face.get(face_id)
        if item is not None:
            item.setSelected(True)

    def fit(self) -> None:
        if not self.scene().sceneRect().isEmpty():
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit()

    def _on_selection(self) -> None:
        selected = [item for item in self.scene().selectedItems() if isinstance(item, FaceBoxItem)]
        self.face_clicked.emit(selected[0].face if selected else None)


class FacePanel(QWidget):
    """What can be done with the selected face."""

    def __init__(self, session: LibrarySession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.face: PhotoFaceRow | None = None
        self.setFixedWidth(240)
        self.title = QLabel("Click a face to name it.")
        self.title.setWordWrap(True)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("faceName")
        self.name_edit.setPlaceholderText("Who is this? (type a name, Return)")
        self.names = QStringListModel(self)
        self.completer = QCompleter(self.names, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.name_edit.setCompleter(self.completer)
        self.name_edit.returnPressed.connect(self._on_name)
        self.confirm_button = QPushButton("Yes, that's them")
        self.confirm_button.setObjectName("confirmFace")
        self.confirm_button.clicked.connect(self._on_confirm)
        self.reject_button = QPushButton("Not this person")
        self.reject_button.setObjectName("rejectFace")
        self.reject_button.setToolTip("This face is someone else; it is never put back here (Del)")
        self.reject_button.clicked.connect(self.reject)
        self.open_button = QPushButton("Open person")
        self.open_button.setObjectName("openPerson")
        self.open_button.clicked.connect(self._on_open)
        layout = QVBoxLayout(self)
        for widget in (self.title, self.name_edit, self.confirm_button, self.reject_button, self.open_button):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(_legend())
        self.open_person = None  # set by the page: callable(person_id)
        self.refresh_icons()
        self.show_face(None)

    def refresh_icons(self) -> None:
        self.confirm_button.setIcon(icon("yes"))
        self.reject_button.setIcon(icon("reject"))
        self.open_button.setIcon(icon("person"))

    def set_names(self, names: list[str]) -> None:
        self.names.setStringList(names)

    def show_face(self, face: PhotoFaceRow | None) -> None:
        self.face = face
        has_face = face is not None
        self.name_edit.setEnabled(has_face)
        self.name_edit.clear()
        assigned = has_face and face.person_id is not None
        self.confirm_button.setVisible(has_face and face.assigned_by == "auto")
        self.reject_button.setEnabled(assigned)
        self.open_button.setEnabled(assigned)
        if face is None:
            self.title.setText("Click a face to name it.")
        elif face.person_id is None:
            self.title.setText("<b>Unknown face</b><br>Type who it is.")
        elif face.assigned_by == "auto":  # the box says "Name?": so does the panel
            self.title.setText(f"<b>{face_label(face)}?</b> (grouped automatically)<br>"
                               "Confirm it, or type a name to correct it.")
        else:
            state = STATE_WORDS[face.state]
            self.title.setText(f"<b>{face_label(face)}</b> ({state})<br>Type a name to correct it.")
        if has_face:
            self.name_edit.setFocus()

    def _on_name(self) -> None:
        name = self.name_edit.text().strip()
        if self.face is not None and name:
            self.session.edit(f"Name face as {name}", name_face, self.face.face_id, name)

    def _on_confirm(self) -> None:
        if self.face is not None and self.face.person_id is not None:
            self.session.edit(f"Confirm {face_label(self.face)}", move_face, self.face.face_id, self.face.person_id)

    def reject(self) -> None:
        """Not this person: the face leaves its person, never to be put back there automatically."""
        if self.face is not None and self.face.person_id is not None:
            self.session.edit(f"Not {face_label(self.face)}", reject_face, self.face.face_id)

    def _on_open(self) -> None:
        if self.face is not None and self.face.person_id is not None and self.open_person:
            self.open_person(self.face.person_id)


def _legend() -> QWidget:
    legend = QWidget()
    layout = QVBoxLayout(legend)
    layout.setContentsMargins(0, 0, 0, 0)
    for state, color in STATE_COLORS.items():
        label = QLabel(f"<span style='color:{color.name()}'>&#9632;</span> {STATE_WORDS[state]}")
        layout.addWidget(label)
    hint = QLabel("Name? = grouped automatically: confirm or correct it")
    hint.setWordWrap(True)
    hint.setEnabled(False)
    layout.addWidget(hint)
    return legend


class PhotoPage(QWidget):
    """The photo and its face panel; ``back`` returns to the grid."""

    back = Signal()
    open_person = Signal(int)
    restore_photo = Signal(list)  # [path]: open it in the Restore view

    def __init__(self, session: LibrarySession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.photo_id: int | None = None
        self.detail: PhotoDetail | None = None
        self._pixmap: QPixmap | None = None
        self._stale = False
        self.back_button = QToolButton()
        self.back_button.setToolTip("Back to all photos (Esc)")
        self.back_button.clicked.connect(self.back)
        self.caption = QLabel()
        self.restore_button = QToolButton()
        self.restore_button.setObjectName("restoreThisPhoto")
        self.restore_button.setText("Restore this photo")
        self.restore_button.setToolTip("Open this photo in Restore (Ctrl+Shift+R)")
        self.restore_button.setShortcut("Ctrl+Shift+R")
        self.restore_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.restore_button.clicked.connect(self._on_restore)
        self.canvas = PhotoCanvas()
        self.panel = FacePanel(session)
        self.panel.open_person = self.open_person.emit
        self.canvas.face_clicked.connect(self.panel.show_face)
        header = QHBoxLayout()
        header.addWidget(self.back_button)
        header.addWidget(self.caption, 1)
        header.addWidget(self.restore_button)
        body = QHBoxLayout()
        body.addWidget(self.canvas, 1)
        body.addWidget(self.panel)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(body, 1)
        session.changed.connect(self._on_library_changed)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        self.back_button.setIcon(icon("back"))
        self.restore_button.setIcon(icon("restore"))
        self.panel.refresh_icons()

    def _on_restore(self) -> None:
        if self.detail is not None:
            self.restore_photo.emit([self.detail.photo.path])

    def show_photo(self, photo_id: int) -> None:
        self.photo_id = photo_id
        self._pixmap = None
        self.detail = None
        self.canvas.scene().clear()
        self.canvas.items_by_face.clear()
        self.panel.show_face(None)
        self._reload()

    def _reload(self) -> None:
        if self.photo_id is None:
            return
        photo_id = self.photo_id
        self.session.query(core_queries.photo_detail, photo_id, on_result=lambda d: self._on_detail(photo_id, d))
        self.session.query(core_queries.person_names, on_result=self.panel.set_names)

    def _on_detail(self, photo_id: int, detail: PhotoDetail) -> None:
        if photo_id != self.photo_id:
            return  # the user moved on
        first = self.detail is None
        self.detail = detail
        faces = len(detail.faces)
        path = detail.photo.path
        self.caption.setText(f"<b>{path.name}</b> &nbsp; {faces} face{'s' if faces != 1 else ''} &nbsp; <span>{path.parent}</span>")
        if first:
            self.session.query(lambda _lib: read_scaled(path, DISPLAY_SIZE), on_result=lambda image: self._on_image(photo_id, image))
        elif self._pixmap is not None:
            self._show(keep_selection=True)

    def _on_image(self, photo_id: int, image) -> None:
        if photo_id != self.photo_id or self.detail is None:
            return
        self._pixmap = QPixmap.fromImage(image)  # GUI thread: pixmaps are made here only
        self._show(keep_selection=False)

    def _show(self, keep_selection: bool) -> None:
        selected = self.panel.face.face_id if keep_selection and self.panel.face else None
        self.canvas.show_photo(self._pixmap, self.detail)
        if selected is not None:
            self.canvas.select_face(selected)

    def _on_library_changed(self) -> None:
        if self.isVisible():
            self._reload()
        else:
            self._stale = True  # read again when shown: names may have changed in another view

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self._reload()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.back.emit()
        elif event.key() == Qt.Key.Key_Delete and self.panel.face is not None:
            self.panel.reject()
        else:
            super().keyPressEvent(event)
