"""The result of a restoration: before/after (split slider, hold Space for the original, or side by
side with synced zoom and pan), and per face the original, the result, the references used and the
identity score before and after (red when restoring lowered it), with "Re-run" for that face alone."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from faceme_core.tasks.restore_setup import SetupResult
from faceme_desktop.icons import icon
from faceme_desktop.image_qt import face_thumbnail, qimage_from_photo
from faceme_desktop.views.split_view import SplitView, sync_views

THUMB = 88
DROP_COLOUR = QColor("#c62828")
COLUMNS = ("Face", "Original", "Result", "References used", "Identity before", "Identity after", "Seed", "")


def identity_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def identity_dropped(before: float | None, after: float | None) -> bool:
    return before is not None and after is not None and after < before


class CompareView(QWidget):
    rerun_requested = Signal(int)  # face index
    save_requested = Signal()
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.result: SetupResult | None = None
        self._before = QImage()
        self._after = QImage()
        self._split_before_flip: float | None = None

        self.split_view = SplitView()
        self.left_view = SplitView(show_handle=False, split=1.0)  # the original only
        self.right_view = SplitView(show_handle=False, split=0.0)  # the result only
        sync_views(self.left_view, self.right_view)
        side = QSplitter()
        side.addWidget(self.left_view)
        side.addWidget(self.right_view)
        self.views = QStackedWidget()
        self.views.addWidget(self.split_view)
        self.views.addWidget(side)

        self.back_button = QToolButton()
        self.back_button.setText("Faces")
        self.back_button.setToolTip("Back to the faces and settings of this photo")
        self.back_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.back_button.clicked.connect(self.back_requested)
        self.split_button = QPushButton("Split")
        self.side_button = QPushButton("Side by side")
        self.split_button.setObjectName("splitMode")
        self.side_button.setObjectName("sideBySideMode")
        modes = QButtonGroup(self)
        for number, button in enumerate((self.split_button, self.side_button)):
            button.setCheckable(True)
            modes.addButton(button, number)
        self.split_button.setChecked(True)
        modes.idClicked.connect(self.set_mode)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Show the whole photo")
        self.fit_button.clicked.connect(self.fit)
        self.hint = QLabel("Drag the line to compare; hold Space to see the original; wheel to zoom")
        self.hint.setEnabled(False)
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hint.setToolTip(self.hint.text())
        self.save_button = QPushButton("Save as...")
        self.save_button.setObjectName("saveAs")
        self.save_button.setToolTip("Save the restored photo (never over the original; EXIF and colour profile kept) (Ctrl+S)")
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.clicked.connect(self.save_requested)
        bar = QHBoxLayout()
        for widget in (self.back_button, self.split_button, self.side_button, self.fit_button):
            bar.addWidget(widget)
        bar.addWidget(self.hint, 1)
        bar.addWidget(self.save_button)

        self.faces = QTableWidget(0, len(COLUMNS))
        self.faces.setObjectName("compareFaces")
        self.faces.setHorizontalHeaderLabels(COLUMNS)
        self.faces.verticalHeader().hide()
        self.faces.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.faces.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.faces.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.faces.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.faces.verticalHeader().setDefaultSectionSize(THUMB + 8)
        self.faces.setMinimumHeight(2 * (THUMB + 8) + 32)  # two faces at least, header included

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.views)
        split.addWidget(self.faces)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 2 * (THUMB + 8) + 30])  # the images get the room; the table shows two faces
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        self.back_button.setIcon(icon("back"))

    # --- content ---------------------------------------------------------------------------------------------
    def show_result(self, result: SetupResult, references: dict | None = None, *, before: QImage | None = None,
                    after: QImage | None = None) -> None:
        """Show ``result``; ``references`` maps a face index to QImages of the references it used.
        ``before``/``after``: its images already made (on a worker), else made here."""
        first = self.result is None or self.result.setup.path != result.setup.path
        self.result = result
        self._before = before if before is not None else qimage_from_photo(result.original)
        self._after = after if after is not None else qimage_from_photo(result.photo)
        before, after = QPixmap.fromImage(self._before), QPixmap.fromImage(self._after)  # once for all views
        for view in (self.split_view, self.left_view, self.right_view):
            view.set_images(before, after)
        self._fill_faces(result, references or {})
        if first:
            self.fit()

    def _fill_faces(self, result: SetupResult, references: dict) -> None:
        self.faces.setRowCount(0)
        for face in result.setup.faces:
            row = self.faces.rowCount()
            self.faces.insertRow(row)
            done = result.face(face.index)
            self.faces.setItem(row, 0, QTableWidgetItem(f"{face.index + 1}: {face.who}"))
            self.faces.setCellWidget(row, 1, _image_label(face_thumbnail(result.original.pixels, face.box, THUMB)))
            self.faces.setCellWidget(row, 2, _image_label(face_thumbnail(result.photo.pixels, face.box, THUMB, result.upscale)))
            refs = QWidget()
            refs_layout = QHBoxLayout(refs)
            refs_layout.setContentsMargins(2, 2, 2, 2)
            if done is None:
                refs_layout.addWidget(QLabel("left untouched"))
            elif done.restored.report.blind:
                refs_layout.addWidget(QLabel("blind (no references)"))
            else:
                for image in references.get(face.index, ()):
                    refs_layout.addWidget(_image_label(image, 56))
                refs_layout.addWidget(QLabel(f"{len(done.restored.report.references)} reference(s)"))
            refs_layout.addStretch(1)
            self.faces.setCellWidget(row, 3, refs)
            report = done.restored.report if done else None
            before = report.identity_before if report else None
            after = report.identity_after if report else None
            self.faces.setItem(row, 4, QTableWidgetItem(identity_text(before)))
            after_item = QTableWidgetItem(identity_text(after))
            if identity_dropped(before, after):
                after_item.setForeground(QBrush(DROP_COLOUR))
                after_item.setToolTip("Restoring lowered the similarity to the references: try other references, "
                                      "a higher identity strength or another seed")
            self.faces.setItem(row, 5, after_item)
            self.faces.setItem(row, 6, QTableWidgetItem("" if report is None else str(report.seed)))
            button = QPushButton("Re-run...")
            button.setObjectName(f"rerun{face.index}")
            button.setToolTip("Restore this face again with other references, strength or seed; the others stay")
            button.setEnabled(not face.too_small)
            button.clicked.connect(lambda _c=False, i=face.index: self.rerun_requested.emit(i))
            cell = QWidget()
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(6, 0, 6, 0)
            cell_layout.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
            self.faces.setCellWidget(row, 7, cell)

    # --- modes ----------------------------------------------------------------------------------------------
    def set_mode(self, mode: int) -> None:
        self.views.setCurrentIndex(mode)
        (self.split_button if mode == 0 else self.side_button).setChecked(True)
        self.fit()

    def fit(self) -> None:
        for view in (self.split_view, self.left_view, self.right_view):
            view.fit()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.flip(True)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.flip(False)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def flip(self, show_original: bool) -> None:
        """While Space is held the whole original shows; on release the split comes back."""
        if show_original and self._split_before_flip is None:
            self._split_before_flip = self.split_view.split
            self.split_view.set_split(1.0)
        elif not show_original and self._split_before_flip is not None:
            self.split_view.set_split(self._split_before_flip)
            self._split_before_flip = None


def _image_label(image: QImage, size: int = THUMB) -> QLabel:
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setFixedSize(size + 4, size + 4)
    label.setPixmap(QPixmap.fromImage(image))
    return label
