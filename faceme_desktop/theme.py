"""Follow the system's light/dark scheme and tell widgets when to redraw their icons."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def is_dark() -> bool:
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Unknown:  # no hint from the platform: judge the palette itself
        return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return scheme == Qt.ColorScheme.Dark


class ThemeWatcher(QObject):
    """Emits ``changed`` after the palette or colour scheme changed (icons must be made again)."""

    changed = Signal()

    def __init__(self, app: QApplication):
        super().__init__(app)
        app.installEventFilter(self)
        app.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)

    def _on_scheme_changed(self, _scheme) -> None:
        self.changed.emit()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if watched is QApplication.instance() and event.type() == QEvent.Type.ApplicationPaletteChange:
            self.changed.emit()
        return False
