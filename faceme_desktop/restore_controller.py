"""Restoring photos from the app: prepares a photo's faces, loads the engine once, runs restorations
and re-runs as background tasks, and saves results. Every decision is the core's (``photo_setup``,
``tasks.restore_setup``); this only moves work off the GUI thread and reports back with signals."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from faceme_core.engine.options import RestoreOptions
from faceme_core.errors import ModelMissingError
from faceme_core.restore.photo_setup import FaceChoice, PhotoSetup, prepare_photo
from faceme_core.restore.reference_set import ReferenceLoader
from faceme_core.restore.session import RestoreSession
from faceme_core.tasks import CancelToken, ProgressCallback, TaskProgress
from faceme_core.tasks.restore_setup import SetupResult, reference_loader, rerun_face, restore_setup, save_result
from faceme_desktop.restore_settings import RestoreSettings
from faceme_desktop.session import LibrarySession
from faceme_desktop.settings import AppSettings
from faceme_desktop.tasks_qt import OneTaskAtATime, RunningTask

log = logging.getLogger(__name__)
LOADING_STAGE = "loading"

SessionFactory = Callable[[], RestoreSession]


def describe_device(device: str, offload: str) -> str:
    """"cpu, float32, offload none": what the engine will run on (or why it cannot)."""
    from faceme_core.devices import pick_device

    try:
        choice = pick_device(device)
    except ValueError as error:
        return str(error)
    return f"{choice.device}, {choice.dtype_name}, offload {offload}"


@dataclass(frozen=True)
class ShownResult:
    """A restoration's result with its before/after images, made on the worker thread (a large photo's
    conversion would stall the GUI thread)."""

    result: SetupResult
    before: QImage
    after: QImage


def shown(result: SetupResult) -> ShownResult:  # on a worker thread
    from faceme_desktop.image_qt import qimage_from_photo

    return ShownResult(result, qimage_from_photo(result.original), qimage_from_photo(result.photo))


class RestoreController(OneTaskAtATime):
    prepared = Signal(object)  # PhotoSetup
    restored = Signal(object)  # ShownResult
    saved = Signal(object)  # Path
    cancelled = Signal()
    failed = Signal(object)  # an exception (the view shows it)
    models_missing = Signal(str)  # what is missing: the view offers the Models dialog

    def __init__(self, session: LibrarySession, settings: AppSettings, parent: QObject | None = None, *,
                 analyzer=None, session_factory: SessionFactory | None = None):
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.restore_settings = RestoreSettings()
        self.analyzer = analyzer  # the library's face analyzer, for photos it has not scanned
        self.session_factory = session_factory or self._open_engine
        self._engine: RestoreSession | None = None
        self._loader: ReferenceLoader | None = None
        self._engine_lock = threading.Lock()

    def _open_engine(self) -> RestoreSession:
        return RestoreSession.open(None, device=self.settings.device, offload=self.restore_settings.offload)

    def engine(self, progress: ProgressCallback, cancel: CancelToken) -> RestoreSession:
        """The restoration models, loaded on first use (on a worker thread: it takes a while)."""
        with self._engine_lock:
            if self._engine is None:
                progress(TaskProgress(LOADING_STAGE, 0, None, message="Loading the restoration models"))
                self._engine = self.session_factory()
                self._loader = reference_loader(self._engine)
            cancel.raise_if_cancelled()
            return self._engine

    def forget_engine(self) -> None:
        """Drop the loaded models (device or offload changed; new models installed)."""
        with self._engine_lock:
            self._engine, self._loader = None, None

    # --- the photo's faces --------------------------------------------------------------------------

    def prepare(self, path: Path) -> None:
        self.session.query(self._prepare, Path(path), on_result=self.prepared.emit, on_error=self.failed.emit)

    def prepare_again(self, setup: PhotoSetup, fn: Callable[..., PhotoSetup], *args) -> None:
        """Apply a core change needing the library (``choose_person``) off the GUI thread."""
        self.session.query(lambda library: fn(library, setup, *args), on_result=self.prepared.emit,
                           on_error=self.failed.emit)

    def _prepare(self, library, path: Path) -> PhotoSetup:  # on a pool thread
        analyzer = self.analyzer
        if analyzer is None:
            from faceme_core.library.photo_years import photo_id_of

            with library.reading() as conn:
                in_library = photo_id_of(conn, path) is not None
            if not in_library:  # only photos outside the library need their faces found now
                from faceme_core.faces.analyzer import create_analyzer

                analyzer = self.analyzer = create_analyzer(self.settings.face_backend)
        return prepare_photo(library, path, analyzer)

    # --- running ---------------------------------------------------------------------------------------

    def run(self, setup: PhotoSetup, options: RestoreOptions, upscale: int) -> RunningTask | None:
        return self._start(f"Restoring {setup.path.name}", partial(self._run, setup, options, upscale))

    def rerun(self, result: SetupResult, face: FaceChoice, options: RestoreOptions) -> RunningTask | None:
        return self._start(f"Restoring face {face.index + 1} again", partial(self._rerun, result, face, options))

    def _run(self, setup, options, upscale, *, progress, cancel) -> SetupResult:
        engine = self.engine(progress, cancel)
        return shown(restore_setup(setup, engine, options, upscale=upscale, loader=self._loader, progress=progress,
                                   cancel=cancel))

    def _rerun(self, result, face, options, *, progress, cancel) -> SetupResult:
        engine = self.engine(progress, cancel)
        return shown(rerun_face(result, face, engine, options, loader=self._loader, progress=progress, cancel=cancel))

    def _start(self, title: str, fn) -> RunningTask | None:
        if self.busy:
            self.failed.emit(RuntimeError("A restoration is already running: wait for it or cancel it first"))
            return None
        task = RunningTask(title, fn, self)
        task.succeeded.connect(self.restored.emit)
        task.cancelled.connect(self.cancelled.emit)
        task.failed.connect(self._on_failed)
        return self.launch(task)

    def _on_failed(self, error: BaseException) -> None:
        if isinstance(error, ModelMissingError):
            self.models_missing.emit(str(error))
        else:
            self.failed.emit(error)

    # --- saving ------------------------------------------------------------------------------------------

    def save(self, result: SetupResult, output: Path) -> None:
        self.session.query(lambda _library: save_result(result, Path(output)), on_result=self.saved.emit,
                           on_error=self.failed.emit)
