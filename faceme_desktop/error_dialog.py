"""Errors shown to the user: a plain sentence, and the traceback behind "Show Details..." when it is a bug."""

from __future__ import annotations

import logging
import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from faceme_core.errors import FaceMeError

log = logging.getLogger(__name__)


def error_text(error: BaseException) -> tuple[str, str | None]:
    """(the sentence to show, the details or None). A FaceMeError's message is already for users."""
    if isinstance(error, FaceMeError):
        return str(error), None
    details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return (
        "Something went wrong inside FaceMe. Nothing was lost; the details below help to fix it.",
        details,
    )


def build_error_box(parent: QWidget | None, error: BaseException, title: str = "FaceMe") -> QMessageBox:
    text, details = error_text(error)
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorBox")
    if details:
        box.setDetailedText(details)
    return box


def show_error(parent: QWidget | None, error: BaseException, title: str = "FaceMe") -> None:
    if isinstance(error, FaceMeError):
        log.warning("%s", error)
    else:
        log.error("unexpected error", exc_info=(type(error), error, error.__traceback__))
    build_error_box(parent, error, title).open()  # open(), not exec(): never a nested event loop
