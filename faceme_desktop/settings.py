"""The app's settings, kept between runs in QSettings (the user never edits a file).

Tests call ``isolate_settings(folder)`` first so they never touch the user's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings

ORGANIZATION = "FaceMe"
APPLICATION = "FaceMe Desktop"
BACKENDS = ("auto", "insightface", "dlib")
DEVICES = ("auto", "cpu", "cuda", "mps")


def configure_application_names() -> None:
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)


def isolate_settings(folder: Path) -> None:
    """Keep settings in ini files under ``folder`` (tests; a portable install)."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))


class AppSettings:
    """Typed access to the few settings the app keeps."""

    def __init__(self, settings: QSettings | None = None):
        self._settings = settings if settings is not None else QSettings()

    def _path(self, key: str) -> Path | None:
        value = self._settings.value(key, "")
        return Path(value) if value else None

    @property
    def library_path(self) -> Path | None:
        return self._path("library/path")

    @library_path.setter
    def library_path(self, path: Path | None) -> None:
        self._settings.setValue("library/path", str(path) if path else "")

    @property
    def face_backend(self) -> str:
        value = str(self._settings.value("faces/backend", "auto"))
        return value if value in BACKENDS else "auto"

    @face_backend.setter
    def face_backend(self, value: str) -> None:
        if value not in BACKENDS:
            raise ValueError(f"face backend {value!r}: expected one of {', '.join(BACKENDS)}")
        self._settings.setValue("faces/backend", value)

    @property
    def device(self) -> str:
        value = str(self._settings.value("engine/device", "auto"))
        return value if value in DEVICES else "auto"

    @device.setter
    def device(self, value: str) -> None:
        if value not in DEVICES:
            raise ValueError(f"device {value!r}: expected one of {', '.join(DEVICES)}")
        self._settings.setValue("engine/device", value)

    @property
    def output_folder(self) -> Path | None:
        return self._path("restore/output_folder")

    @output_folder.setter
    def output_folder(self, path: Path | None) -> None:
        self._settings.setValue("restore/output_folder", str(path) if path else "")

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """(geometry, state) saved by ``save_window_state``, or None each when never saved."""
        geometry = self._settings.value("window/geometry")
        state = self._settings.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None, state if isinstance(state, QByteArray) else None)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._settings.setValue("window/geometry", geometry)
        self._settings.setValue("window/state", state)

    def sync(self) -> None:
        self._settings.sync()
