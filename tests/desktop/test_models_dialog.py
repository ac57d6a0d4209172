"""The Models dialog: each component's state from the store, a download's bytes, speed and ETA with a
fake downloader, Cancel keeps what was fetched and the next try resumes; the restore view sends the
user here when models are missing."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from faceme_core.errors import ModelMissingError
from faceme_core.models.download import DownloadResult
from faceme_core.models.manifest import COMPONENT_NAMES
from faceme_desktop.dialogs.models_dialog import ModelsDialog, human_bytes
from tests.support.tiny_models import build_tiny_model_dir

CHUNK = 64 * 1024


class SlowFetcher:
    """Writes each download in chunks and reports bytes; waits for ``go`` between chunks after the
    third, so a test sees progress mid-download; keeps a partial file on cancel and continues it."""

    uses_network = False

    def __init__(self, folder, size=40 * CHUNK):
        self.folder, self.size = folder, size
        self.go = threading.Event()
        self.calls = []
        self.resumed_from = []

    def fetch(self, names, models_dir, *, on_bytes, cancel):
        self.calls.append(names)
        self.folder.mkdir(exist_ok=True)
        part = self.folder / f"{'+'.join(names)}.part"
        done = part.stat().st_size if part.exists() else 0
        self.resumed_from.append(done)
        with part.open("ab") as f:
            while done < self.size:
                cancel.raise_if_cancelled()
                if done >= 3 * CHUNK:
                    self.go.wait(0.02)
                f.write(b"\0" * CHUNK)
                done += CHUNK
                on_bytes(done, self.size)
        return [DownloadResult(name, "downloaded", part) for name in names]


def rows(dialog) -> dict[str, str]:
    return {dialog.statuses[row].name: dialog.table.item(row, 1).text() for row in range(dialog.table.rowCount())}


def test_the_dialog_shows_each_component_state_size_and_licence(qtbot, tmp_path):
    models = tmp_path / "models"
    build_tiny_model_dir(models)  # every component but antelopev2
    dialog = ModelsDialog(models_dir=models, device_text="cpu, float32, offload none")
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == len(COMPONENT_NAMES), timeout=10_000)
    states = rows(dialog)
    assert states["antelopev2"] == "missing"
    assert {states[name] for name in ("base", "controlnet", "mix", "photomaker")} <= {"installed", "invalid"}
    assert all(dialog.table.item(row, 3).text() for row in range(dialog.table.rowCount()))  # licences
    assert str(models) in dialog.store.text() and "offload none" in dialog.device.text()


def test_a_download_shows_bytes_speed_and_eta_and_cancel_resumes_next_time(qtbot, tmp_path):
    fetcher = SlowFetcher(tmp_path / "fetched")
    dialog = ModelsDialog(models_dir=tmp_path / "empty-store", fetcher=fetcher)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == len(COMPONENT_NAMES), timeout=10_000)
    dialog.table.selectRow(dialog.statuses.index(next(s for s in dialog.statuses if s.name == "photomaker")))
    qtbot.mouseClick(dialog.download_one, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "/s" in dialog.progress_label.text() and "left" in dialog.progress_label.text(), timeout=10_000)
    text = dialog.progress_label.text()
    assert text.startswith("photomaker: ") and f"of {human_bytes(40 * CHUNK)}" in text
    assert 0 < dialog.progress.value() < 1000
    with qtbot.waitSignal(dialog.task.cancelled, timeout=10_000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert "next try resumes" in dialog.progress_label.text()
    fetched = fetcher.resumed_from and (tmp_path / "fetched" / "photomaker.part").stat().st_size
    assert fetched > 0

    fetcher.go.set()
    with qtbot.waitSignal(dialog.models_changed, timeout=10_000):
        qtbot.mouseClick(dialog.download_one, Qt.MouseButton.LeftButton)
    assert fetcher.resumed_from == [0, fetched] and dialog.progress_label.text() == "Download finished"


def test_restoring_without_models_says_what_is_missing_and_opens_the_dialog(make_window, scanned_library, gui_album,
                                                                            qtbot, tmp_path):
    window = make_window(scanned_library)
    window.models_dir = tmp_path / "no-models"
    view = window.restore

    def missing():
        raise ModelMissingError("base (RealVisXL) is not installed")

    view.controller.session_factory = missing
    view.confirm_warnings = lambda warnings: True
    view.add_photos([gui_album / "two_boys.jpg"])
    qtbot.waitUntil(lambda: view.setup is not None, timeout=10_000)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(window, "models_dialog", None) is not None, timeout=10_000)
    assert view.models_banner.isVisibleTo(view) and "base (RealVisXL) is not installed" in view.models_text.text()
    assert "not installed" in window.models_dialog.missing.text()
    window.models_dialog.close()


def test_import_from_a_folder_installs_what_it_finds(qtbot, tmp_path):
    source = tmp_path / "usb"
    build_tiny_model_dir(source)
    dialog = ModelsDialog(models_dir=tmp_path / "store")
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == len(COMPONENT_NAMES), timeout=10_000)
    assert dialog.state_of("mix") == "missing"
    with qtbot.waitSignal(dialog.models_changed, timeout=30_000):
        dialog.import_folder(source)
    assert dialog.progress_label.text().startswith("Imported: ") and "mix" in dialog.progress_label.text()
    qtbot.waitUntil(lambda: dialog.state_of("mix") == "installed", timeout=10_000)
    assert dialog.state_of("antelopev2") == "missing"


def test_the_offload_mode_is_kept_and_shown_where_the_device_is(make_window, scanned_library, qtbot, tmp_path):
    from faceme_desktop.restore_settings import RestoreSettings
    from faceme_desktop.restore_wiring import open_models_dialog

    window = make_window(scanned_library)
    window.models_dir = tmp_path / "store"
    assert window.restore.device.text().endswith("offload none")
    dialog = open_models_dialog(window)
    dialog.offload.setCurrentIndex(dialog.offload.findData("group"))
    assert RestoreSettings().offload == "group"
    assert dialog.device.text().endswith("offload group") and window.restore.device.text().endswith("offload group")
    dialog.close()


def test_verify_reads_the_store_again_and_says_what_is_wrong(qtbot, tmp_path):
    models = tmp_path / "models"
    build_tiny_model_dir(models)  # every component but antelopev2; the tiny photomaker is not the released size
    dialog = ModelsDialog(models_dir=models)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.state_of("mix") == "installed", timeout=10_000)
    mix = next(s.path for s in dialog.statuses if s.name == "mix")
    mix.write_bytes(b"not a safetensors file")  # damaged after the dialog opened
    qtbot.mouseClick(dialog.verify_button, Qt.MouseButton.LeftButton)
    assert dialog.verifying and not dialog.verify_button.isEnabled() and not dialog.download_all.isEnabled()
    qtbot.waitUntil(lambda: not dialog.verifying, timeout=30_000)
    assert rows(dialog) == {"base": "installed", "controlnet": "installed", "mix": "invalid",
                            "photomaker": "installed", "antelopev2": "missing"}
    summary = dialog.progress_label.text()
    assert summary.startswith("Verified: 3 of 5 components installed and sound; mix is invalid (")
    assert "missing: antelopev2" in summary and "warnings for photomaker" in summary
    photomaker_row = [s.name for s in dialog.statuses].index("photomaker")
    state = dialog.table.item(photomaker_row, 1)
    assert not state.icon().isNull() and "not the released size" in state.toolTip()
    assert dialog.verify_button.isEnabled() and dialog.download_all.isEnabled()
