"""Part 2's pieces plugged into the main window: the Restore view's signals, the Jobs tab, the Models
dialog and their menu actions. Kept here so the main window only calls ``install_restore_parts``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu

from faceme_core.imageio import SUPPORTED_SUFFIXES
from faceme_desktop.menus import ActionSpec, make_action
from faceme_desktop.restore_controller import describe_device
from faceme_desktop.restore_settings import RestoreChoices
from faceme_core.restore.album_adapter import AlbumRestoreSettings
from faceme_desktop.views.jobs_view import JobsView

RESTORE_ACTIONS = (
    ActionSpec("restorePhotos", "&Restore photos...", "Ctrl+R", "Choose photos to restore", "restore"),
    ActionSpec("showJobs", "&Jobs", "Ctrl+5", "Restore jobs: many photos at once", "jobs"),
    ActionSpec("showModels", "&Models...", None, "Install, check and download the restoration models", "models"),
)


def install_restore_parts(window: QMainWindow, *, models_dir: Path | None = None, fetcher=None) -> None:
    """Adds the Jobs tab and the restore actions to ``window`` (a ``MainWindow``) and connects the
    Restore view. ``models_dir``/``fetcher`` are for tests (the user's model store otherwise)."""
    window.models_dir, window.models_fetcher = models_dir, fetcher
    restore = window.restore
    restore.models_requested.connect(lambda text: open_models_dialog(window, text))
    restore.status_message.connect(lambda text: window.statusBar().showMessage(text, 10_000))

    def job_options() -> dict:
        choices: RestoreChoices = restore.choices()
        return AlbumRestoreSettings(restore=choices.options(), upscale=choices.upscale).to_json()

    window.jobs = JobsView(window.session, window.settings, photos_provider=lambda: list(restore.photos),
                           options_provider=job_options)
    window.jobs.status_message.connect(lambda text: window.statusBar().showMessage(text, 10_000))
    window.jobs.models_requested.connect(lambda text: open_models_dialog(window, text))
    window.views["jobs"] = window.jobs
    window.photos.job_from_photos.connect(lambda photos: job_from_photos(window, photos))
    window.stack.addWidget(window.jobs)

    slots = {
        "restorePhotos": lambda: choose_photos_to_restore(window),
        "showJobs": lambda: window.show_view("jobs"),
        "showModels": lambda: open_models_dialog(window),
    }
    menus = {action.menu().title().replace("&", ""): action.menu()
             for action in window.menuBar().actions() if action.menu() is not None}
    tools = QMenu("&Tools", window)
    window.menuBar().insertMenu(menus["Help"].menuAction(), tools)
    for spec in RESTORE_ACTIONS:
        action = make_action(window, spec, slots[spec.name])
        window.actions_by_name[spec.name] = action
        if spec.name == "restorePhotos":  # File: after "Add album folder", then the Photos grid's selection actions
            file_actions = menus["File"].actions()
            before = file_actions[1] if len(file_actions) > 1 else None
            menus["File"].insertAction(before, action)
            menus["File"].insertActions(before, list(window.photos.actions_by_name.values()))
            menus["File"].insertSeparator(before)
        elif spec.name == "showJobs":
            menus["View"].addAction(action)
        else:
            tools.addAction(action)


def job_from_photos(window, photos: list[Path]) -> None:
    window.show_view("jobs")  # the output-folder question and then the job's progress appear there
    window.jobs.create_job(photos=photos)


def choose_photos_to_restore(window) -> None:
    patterns = " ".join(f"*{suffix}" for suffix in sorted(SUPPORTED_SUFFIXES))
    files, _ = QFileDialog.getOpenFileNames(window, "Photos to restore", "", f"Photos ({patterns})")
    if files:
        window.restore_photos([Path(f) for f in files])


def open_models_dialog(window, missing_text: str = ""):
    from faceme_desktop.dialogs.models_dialog import ModelsDialog

    controller = window.restore.controller
    settings = controller.restore_settings
    dialog = ModelsDialog(window, models_dir=window.models_dir, fetcher=window.models_fetcher,
                          device_text=describe_device(window.settings.device, settings.offload),
                          missing_text=missing_text, offload=settings.offload)

    def offload_changed(mode: str) -> None:
        settings.offload = mode
        controller.forget_engine()
        text = "Device: " + describe_device(window.settings.device, mode)
        dialog.device.setText(text)
        window.restore.device.setText(text)

    dialog.offload_changed.connect(offload_changed)
    dialog.models_changed.connect(controller.forget_engine)
    dialog.open()
    window.models_dialog = dialog
    return dialog
