"""The Restore tab: photos to restore, each face with its person, references and what to do with it,
warnings before a run, the settings, Run with per-step progress and Cancel, then the compare view.

Photos arrive by a drop on the window, ``faceme-desktop PHOTO...`` or File > Restore photos. Every
decision is the core's (``faceme_core.restore.photo_setup``); the view shows a ``PhotoSetup`` and
asks the controller for a new one when the user changes something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from faceme_core.engine.options import MAX_IDENTITY_STRENGTH, MAX_SEED, MAX_STEPS, SAMPLER_PRESETS
from faceme_core.errors import FaceMeError
from faceme_core.library.photo_years import MIN_YEAR
from faceme_core.restore.photo_setup import (
    PhotoSetup,
    SetupWarning,
    add_reference_files,
    choose_person,
    set_mode,
    setup_warnings,
)
from faceme_core.tasks import TaskProgress
from faceme_core.tasks.restore_setup import SetupResult
from faceme_desktop.error_dialog import show_error
from faceme_desktop.icons import icon
from faceme_desktop.image_qt import face_thumbnail, qimage_from_pixels, reference_thumbnail
from faceme_desktop.restore_controller import RestoreController, ShownResult, describe_device
from faceme_desktop.restore_settings import RestoreChoices
from faceme_desktop.session import LibrarySession
from faceme_desktop.settings import AppSettings
from faceme_desktop.tasks_qt import RunningTask, format_eta
from faceme_desktop.views.compare_view import CompareView
from faceme_desktop.views.face_card import CROP_SIZE, REFERENCE_SIZE, FaceCard

PREVIEW_MAX_SIDE = 1600
BOX_COLOURS = {"references": QColor("#2e7d32"), "blind": QColor("#1565c0"), "untouched": QColor("#9e9e9e")}
PEOPLE_MIN_FACES = 3  # unnamed groups smaller than this stay out of the person menus (strangers)


@dataclass
class Previews:
    """Images for one photo's setup, made on a worker thread."""

    photo: QImage
    scale: float  # preview pixels per photo pixel
    crops: dict[int, QImage] = field(default_factory=dict)
    references: dict[int, list[QImage]] = field(default_factory=dict)


def make_previews(setup: PhotoSetup) -> Previews:  # on a pool thread
    from faceme_core.imageio import load_photo

    photo = load_photo(setup.path)
    image = qimage_from_pixels(photo.pixels)
    scale = min(1.0, PREVIEW_MAX_SIDE / max(image.width(), image.height()))
    if scale < 1.0:
        image = image.scaled(int(image.width() * scale), int(image.height() * scale),
                             Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    previews = Previews(photo=image, scale=scale)
    for face in setup.faces:
        previews.crops[face.index] = face_thumbnail(photo.pixels, face.box, CROP_SIZE)
        images = []
        for choice in face.references:
            try:
                images.append(reference_thumbnail(choice.reference.path, choice.reference.box, REFERENCE_SIZE))
            except FaceMeError:
                images.append(QImage())
        previews.references[face.index] = images
    return previews


def people_for_menus(library) -> list[tuple[int, str]]:  # on a pool thread
    from faceme_core.library.people import list_people

    return [(p.id, p.display_name) for p in list_people(library, include_hidden=False)
            if p.name or p.reference_count or len(p.faces) >= PEOPLE_MIN_FACES]


def draw_face_boxes(image: QImage, setup: PhotoSetup, scale: float) -> QPixmap:
    """The preview with each face's box, coloured by what will happen to it, and its number."""
    pixmap = QPixmap.fromImage(image)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(14, int(pixmap.height() / 22)))
    painter.setFont(font)
    for face in setup.faces:
        colour = BOX_COLOURS["untouched" if face.too_small else face.mode]
        painter.setPen(QPen(colour, max(3, pixmap.width() // 250)))
        x0, y0, x1, y1 = (v * scale for v in face.box)
        painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        label = QRectF(x0, max(0, y0 - font.pixelSize() - 6), font.pixelSize() * 1.6, font.pixelSize() + 4)
        painter.fillRect(label, colour)
        painter.setPen(QColor("white"))
        painter.drawText(label, Qt.AlignmentFlag.AlignCenter, str(face.index + 1))
    painter.end()
    return pixmap


class PreviewLabel(QLabel):
    """Shows a pixmap scaled to fit, keeping its aspect ratio."""

    def __init__(self):
        super().__init__()
        self.setObjectName("restorePreview")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._pixmap = QPixmap()

    def set_full_pixmap(self, pixmap: QPixmap) -> None:
        self._pixmap = pixmap
        self._rescale()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if not self._pixmap.isNull():
            self.setPixmap(self._pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))


class RestoreView(QWidget):
    status_message = Signal(str)
    models_requested = Signal(str)  # what is missing; the window opens the Models dialog

    def __init__(self, session: LibrarySession | None = None, settings: AppSettings | None = None,
                 parent: QWidget | None = None, *, analyzer=None):
        super().__init__(parent)
        self.setObjectName("restoreView")
        self.session = session
        self.settings = settings or AppSettings()
        self.controller = RestoreController(session, self.settings, self, analyzer=analyzer) if session else None
        self.photos: list[Path] = []
        self.setups: dict[Path, PhotoSetup] = {}
        self.previews: dict[Path, Previews] = {}
        self.results: dict[Path, SetupResult] = {}
        self.people: list[tuple[int, str]] = []
        self.current: Path | None = None
        self.cards: list[FaceCard] = []
        # Overridable by tests and scripts: asking the user things.
        self.confirm_warnings: Callable[[tuple[SetupWarning, ...]], bool] = self._ask_about_warnings
        self.choose_output: Callable[[Path], Path | None] = self._ask_output_path
        self._build()
        if self.controller is not None:
            self._connect_controller()

    # --- layout -----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.list = QListWidget()
        self.list.setObjectName("restoreList")
        self.list.setMaximumWidth(220)
        self.list.currentRowChanged.connect(self._on_photo_selected)
        self.empty = QLabel("<h3>Restore photos</h3>Drop photos anywhere on this window, use File &gt; Restore "
                            "photos, or start <tt>faceme-desktop PHOTO...</tt>. Each face is shown with the person "
                            "FaceMe thinks it is and their references; choose what to do per face, then Run.")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("restoreEmpty")

        self.preview = PreviewLabel()
        self.device = QLabel()
        self.device.setObjectName("deviceLabel")
        self.device.setEnabled(False)
        self.device.setToolTip("Where the restoration runs; change offloading in Tools > Models")
        if self.controller is not None:
            self.device.setText("Device: " + describe_device(self.settings.device, self.controller.restore_settings.offload))
        self.photo_title = QLabel()
        self.photo_title.setObjectName("photoTitle")
        self.cards_box = QWidget()
        self.cards_layout = QVBoxLayout(self.cards_box)
        self.cards_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.cards_box)
        scroll.setMinimumWidth(300)  # wider cards scroll sideways on a small screen
        self.warnings = QLabel()
        self.warnings.setObjectName("restoreWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.year = QSpinBox()
        self.year.setObjectName("photoYear")
        self.year.setRange(MIN_YEAR - 1, 2100)
        self.year.setSpecialValueText("unknown")  # the minimum: no date
        self.year.setToolTip("When the photo was taken (EXIF, or your estimate for a scanned print): the "
                             "references closest in age to it are preferred. Changing it reads the faces again.")
        self.year.setEnabled(False)
        self.year.editingFinished.connect(self._on_year_edited)
        title_row = QHBoxLayout()
        title_row.addWidget(self.photo_title, 1)
        title_row.addWidget(QLabel("Taken in"))
        title_row.addWidget(self.year)
        title_row.addWidget(self.device)
        right_layout.addLayout(title_row)
        right_layout.addWidget(scroll, 1)
        right_layout.addWidget(self.warnings)
        split = QSplitter()
        split.addWidget(self.preview)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)

        self.models_banner = QWidget()
        self.models_banner.setObjectName("modelsBanner")
        banner_layout = QHBoxLayout(self.models_banner)
        self.models_text = QLabel()
        self.models_text.setWordWrap(True)
        self.models_button = QPushButton("Models...")
        self.models_button.clicked.connect(lambda: self.models_requested.emit(self.models_text.text()))
        banner_layout.addWidget(self.models_text, 1)
        banner_layout.addWidget(self.models_button)
        self.models_banner.hide()

        setup_page = QWidget()
        setup_layout = QVBoxLayout(setup_page)
        setup_layout.setContentsMargins(0, 0, 0, 0)
        setup_layout.addWidget(self.models_banner)
        setup_layout.addWidget(split, 1)
        setup_layout.addWidget(self._settings_bar())
        setup_layout.addWidget(self._run_bar())

        self.compare = CompareView()
        self.compare.back_requested.connect(lambda: self.pages.setCurrentIndex(1))
        self.compare.save_requested.connect(self.save_current)
        self.compare.rerun_requested.connect(self.rerun_face)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)  # 0
        self.pages.addWidget(setup_page)  # 1
        self.pages.addWidget(self.compare)  # 2
        layout = QHBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.pages, 1)
        self.list.setVisible(False)

    def _settings_bar(self) -> QWidget:
        choices = self.controller.restore_settings.choices() if self.controller else RestoreChoices()
        bar = QWidget()
        layout = QGridLayout(bar)
        layout.setContentsMargins(0, 0, 0, 0)
        self.preset = QComboBox()
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset.setMinimumContentsLength(24)
        self.preset.setObjectName("preset")
        for preset in SAMPLER_PRESETS.values():
            text = f"{preset.name} ({'FaceMe reference' if preset.reference else 'faster'})"
            self.preset.addItem(text, preset.name)
            self.preset.setItemData(self.preset.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.preset.setCurrentIndex(max(0, self.preset.findData(choices.sampler)))
        self.preset.setToolTip("Sampler: ddpm-50 is FaceMe's reference setting; the others are faster (ours)")
        self.strength = QDoubleSpinBox()
        self.strength.setObjectName("identityStrength")
        self.strength.setRange(0.0, MAX_IDENTITY_STRENGTH)
        self.strength.setSingleStep(0.5)
        self.strength.setValue(choices.identity_strength)
        self.strength.setToolTip("Identity strength: how strongly the references steer each face (FaceMe's setting: 5)")
        self.steps = QSpinBox()
        self.steps.setObjectName("steps")
        self.steps.setRange(0, MAX_STEPS)
        self.steps.setSpecialValueText("preset")  # 0: the preset's own steps
        self.steps.setToolTip("Denoising steps; 'preset' uses the preset's (fewer: faster, rougher)")
        self.seed = QSpinBox()
        self.seed.setObjectName("seed")
        self.seed.setRange(0, min(MAX_SEED, 2**31 - 1))
        self.seed.setEnabled(False)
        self.seed.setToolTip("The same seed and settings give the same result")
        self.random_seed = QCheckBox("random")
        self.random_seed.setObjectName("randomSeed")
        self.random_seed.setChecked(True)
        self.random_seed.setToolTip("A new seed each run; untick to repeat a result exactly")
        self.random_seed.toggled.connect(lambda on: self.seed.setEnabled(not on))
        self.upscale = QComboBox()
        self.upscale.setObjectName("upscale")
        self.upscale.addItem("1x", 1)
        self.upscale.addItem("2x", 2)
        self.upscale.setCurrentIndex(max(0, self.upscale.findData(choices.upscale)))
        self.upscale.setToolTip("Output size: 2x enlarges the whole photo (faces restored at full detail)")
        # two short rows, so the window still fits a small screen
        for spin in (self.steps, self.strength, self.seed):
            spin.setMaximumWidth(110)
        seed_row = QHBoxLayout()
        seed_row.setContentsMargins(0, 0, 0, 0)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.random_seed)
        cells = ((0, 0, "Preset", self.preset), (0, 1, "Steps", self.steps), (0, 2, "Scale", self.upscale),
                 (1, 0, "Strength", self.strength), (1, 1, "Seed", seed_row))
        for row, pair, text, widget in cells:
            label = QLabel(text)
            label.setToolTip(widget.toolTip() if isinstance(widget, QWidget) else self.seed.toolTip())
            layout.addWidget(label, row, 2 * pair)
            if isinstance(widget, QWidget):
                layout.addWidget(widget, row, 2 * pair + 1)
            else:
                layout.addLayout(widget, row, 2 * pair + 1)
        layout.setColumnStretch(6, 1)
        return bar

    def _run_bar(self) -> QWidget:
        bar = QWidget()
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(0, 0, 0, 0)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runRestore")
        self.run_button.setShortcut("Ctrl+Return")
        self.run_button.setToolTip("Restore this photo's faces as set above (Ctrl+Return)")
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setObjectName("restoreProgress")
        self.progress.setTextVisible(False)
        self.progress_label = QLabel()
        self.progress_label.setObjectName("restoreProgressLabel")
        # long texts ("photo.jpg: face 2/3: step 17/50") must never widen the window
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.eta = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelRestore")
        self.cancel_button.setToolTip("Stop within one denoising step; nothing is written (Ctrl+.)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.show_result_button = QPushButton("Result")
        self.show_result_button.setToolTip("Back to the last result of this photo")
        self.show_result_button.clicked.connect(lambda: self.pages.setCurrentIndex(2))
        self.show_result_button.setEnabled(False)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress, 1)
        layout.addWidget(self.progress_label, 1)
        layout.addWidget(self.eta)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.show_result_button)
        return bar

    def refresh_icons(self) -> None:
        self.run_button.setIcon(icon("restore"))
        self.cancel_button.setIcon(icon("cancel"))
        self.compare.refresh_icons()

    def _connect_controller(self) -> None:
        c = self.controller
        c.prepared.connect(self._on_prepared)
        c.started.connect(self._on_started)
        c.restored.connect(self._on_restored)
        c.cancelled.connect(self._on_cancelled)
        c.failed.connect(self._on_failed)
        c.saved.connect(self._on_saved)
        c.models_missing.connect(self._on_models_missing)
        self.refresh_icons()

    # --- photos ----------------------------------------------------------------------------------------------
    def add_photos(self, photos: list[Path]) -> None:
        new = [Path(p) for p in photos if Path(p) not in self.photos]
        for photo in new:
            self.photos.append(photo)
            item = QListWidgetItem(photo.name)
            item.setToolTip(str(photo))
            self.list.addItem(item)
        self.list.setVisible(len(self.photos) > 1)
        if new:
            self.list.setCurrentRow(self.photos.index(new[0]))

    def _on_photo_selected(self, row: int) -> None:
        if row < 0 or row >= len(self.photos):
            return
        self.current = self.photos[row]
        self.photo_title.setText(f"<b>{self.current.name}</b> - finding faces...")
        self.pages.setCurrentIndex(1)
        self.show_result_button.setEnabled(self.current in self.results)
        if self.current in self.setups:
            self._show_setup(self.setups[self.current])
        elif self.controller is not None:
            self.controller.prepare(self.current)
            self.session.query(people_for_menus, on_result=self._on_people, on_error=lambda _e: None)

    def _on_people(self, people: list[tuple[int, str]]) -> None:
        self.people = people
        for card in self.cards:  # in place: a rebuild would swap the cards under the user's mouse
            card.set_people(people)

    def _on_prepared(self, setup: PhotoSetup) -> None:
        old = self.setups.get(setup.path)
        self.setups[setup.path] = setup
        if old is None or _references_changed(old, setup):
            self.session.query(lambda _library: make_previews(setup),
                               on_result=lambda previews: self._on_previews(setup.path, previews),
                               on_error=self._on_failed)
        if setup.path == self.current:
            self._show_setup(setup)

    def _on_previews(self, path: Path, previews: Previews) -> None:
        self.previews[path] = previews
        if path == self.current:  # images into the cards shown: no rebuild under the user's mouse
            self._show_images(self.setups[path], previews)

    def _show_images(self, setup: PhotoSetup, previews: Previews) -> None:
        for card in self.cards:
            if card.face.index in previews.crops:
                card.set_crop(previews.crops[card.face.index])
            for position, image in enumerate(previews.references.get(card.face.index, [])):
                if not image.isNull():
                    card.set_reference_image(position, image)
        self.preview.set_full_pixmap(draw_face_boxes(previews.photo, setup, previews.scale))

    # --- one photo's faces -------------------------------------------------------------------------------------
    @property
    def setup(self) -> PhotoSetup | None:
        return self.setups.get(self.current) if self.current else None

    def _show_setup(self, setup: PhotoSetup) -> None:
        year = f", taken {setup.year}" if setup.year else ""
        where = "in your library" if setup.photo_id is not None else "not in your library: faces matched against references"
        self.photo_title.setText(f"<b>{setup.path.name}</b> - {len(setup.faces)} face(s), {where}{year}")
        self._show_year(setup)
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        previews = self.previews.get(setup.path)
        for face in setup.faces:
            card = FaceCard(face, self.people, setup.year)
            card.mode_changed.connect(self._on_mode_changed)
            card.person_changed.connect(self._on_person_changed)
            card.references_dropped.connect(self._on_references_dropped)
            self.cards_layout.insertWidget(self.cards_layout.count() - 1, card)
            self.cards.append(card)
        if previews is not None:
            self._show_images(setup, previews)
        self._show_warnings(setup_warnings(setup))

    def _show_year(self, setup: PhotoSetup) -> None:
        self.year.blockSignals(True)
        self.year.setValue(setup.year if setup.year is not None else self.year.minimum())
        self.year.setEnabled(setup.photo_id is not None)  # estimates are kept in the library
        self.year.blockSignals(False)

    def _on_year_edited(self) -> None:
        setup = self.setup
        if setup is None or setup.photo_id is None:
            return
        year = None if self.year.value() == self.year.minimum() else self.year.value()
        if year == setup.year:
            return
        from faceme_core.library.photo_years import set_photo_year

        path = setup.path
        self.session.edit(f"Set the year of {path.name}", set_photo_year, setup.photo_id, year,
                          on_result=lambda _r: self.controller.prepare(path))

    def _show_warnings(self, warnings: tuple[SetupWarning, ...]) -> None:
        if not warnings:
            self.warnings.setText("")
            self.warnings.hide()
            return
        items = "".join(f"<li>{w.text}</li>" for w in warnings)
        self.warnings.setText(f"<b style='color:#c77700'>Before you run:</b><ul style='margin:0'>{items}</ul>")
        self.warnings.show()

    def _on_mode_changed(self, index: int, mode: str) -> None:
        self._change(lambda setup: set_mode(setup, index, mode))

    def _on_references_dropped(self, index: int, paths: list) -> None:
        self._change(lambda setup: add_reference_files(setup, index, paths))

    def _on_person_changed(self, index: int, person_id) -> None:
        if self.setup is not None:
            self.controller.prepare_again(self.setup, choose_person, index, person_id)

    def _change(self, fn) -> None:
        if self.setup is None:
            return
        try:
            self._on_prepared(fn(self.setup))
        except FaceMeError as error:
            show_error(self, error)
            self._show_setup(self.setup)

    # --- running ------------------------------------------------------------------------------------------------
    def choices(self) -> RestoreChoices:
        return RestoreChoices(
            sampler=self.preset.currentData(), identity_strength=self.strength.value(),
            seed=None if self.random_seed.isChecked() else self.seed.value(), upscale=self.upscale.currentData(),
            steps=self.steps.value() or None,
        )

    def run(self) -> RunningTask | None:
        setup = self.setup
        if setup is None or self.controller is None:
            return None
        warnings = setup_warnings(setup)
        if warnings and not self.confirm_warnings(warnings):
            return None
        choices = self.choices()
        self.controller.restore_settings.save_choices(choices)
        return self.controller.run(setup, choices.options(), choices.upscale)

    def rerun_face(self, index: int) -> None:
        from faceme_desktop.dialogs.rerun_dialog import RerunDialog

        result = self.results.get(self.current)
        if result is None:
            return
        done = result.face(index)
        face = done.choice if done else result.setup.face(index)
        options = done.options if done else self.choices().options()
        dialog = RerunDialog(face, options, options.seed, self)
        if dialog.exec():
            new_face, new_options = dialog.chosen()
            self.controller.rerun(result, new_face, new_options)

    def cancel(self) -> None:
        if self.controller is not None:
            self.controller.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Stopping...")

    def _on_started(self, task: RunningTask) -> None:
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.compare.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress_label.setText(task.title + "...")
        self.eta.clear()
        task.progress.connect(self._on_progress)
        task.finished.connect(self._on_finished)

    def _on_progress(self, event: TaskProgress) -> None:
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(min(event.done, event.total))
        else:
            self.progress.setRange(0, 0)
        if event.stage == "sampling":
            text = f"{event.item}: step {event.done}/{event.total}"
        else:
            text = event.message or event.stage
        self.progress_label.setText(text)
        self.eta.setText(format_eta(event.eta_seconds))

    def _on_finished(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.compare.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.eta.clear()

    def _on_restored(self, shown: ShownResult) -> None:
        result = shown.result
        path = result.setup.path
        self.results[path] = result
        self.setups[path] = result.setup
        self.progress_label.setText("Done: compare, re-run faces, then Save as")
        if path == self.current:
            previews = self.previews.get(path)
            self.compare.show_result(result, previews.references if previews else {}, before=shown.before,
                                     after=shown.after)
            self.pages.setCurrentIndex(2)
            self.show_result_button.setEnabled(True)
            self.compare.setFocus()

    def _on_cancelled(self) -> None:
        self.progress_label.setText("Cancelled: nothing was written")

    def _on_failed(self, error: BaseException) -> None:
        self.progress_label.setText("")
        show_error(self, error)

    def _on_models_missing(self, text: str) -> None:
        self.progress_label.setText("The restoration models are missing")
        self.models_text.setText(f"Restoring needs the FaceMe models: {text}")
        self.models_banner.show()
        self.models_requested.emit(text)

    # --- saving -------------------------------------------------------------------------------------------------
    def save_current(self) -> None:
        result = self.results.get(self.current)
        if result is None:
            return
        output = self.choose_output(self.suggested_output(result.setup.path))
        if output is not None:
            self.controller.save(result, output)

    def suggested_output(self, original: Path) -> Path:
        folder = self.settings.output_folder or original.parent
        return folder / f"{original.stem}-restored{original.suffix}"

    def _ask_output_path(self, suggested: Path) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the restored photo", str(suggested),
                                              "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp)")
        return Path(name) if name else None

    def _ask_about_warnings(self, warnings: tuple[SetupWarning, ...]) -> bool:
        text = "\n".join(f"- {w.text}" for w in warnings)
        answer = QMessageBox.question(self, "Restore anyway?", f"Before restoring:\n\n{text}\n\nRestore anyway?")
        return answer == QMessageBox.StandardButton.Yes

    def _on_saved(self, path: Path) -> None:
        self.progress_label.setText(f"Saved {path}")
        self.status_message.emit(f"Saved {path} (how it was made: {path.name}.faceme.json)")


def _references_changed(old: PhotoSetup, new: PhotoSetup) -> bool:
    return [f.references for f in old.faces] != [f.references for f in new.faces]
