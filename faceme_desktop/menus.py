"""The menu bar: every main action with its shortcut (shown in the menu and in its tooltip)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

from faceme_desktop.icons import icon


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    shortcut: QKeySequence.StandardKey | str | None
    tip: str
    glyph: str | None = None


def make_action(window: QMainWindow, spec: ActionSpec, slot: Callable[[], object]) -> QAction:
    act = QAction(spec.text, window)
    act.setObjectName(spec.name)
    tip = spec.tip
    if spec.shortcut is not None:
        act.setShortcut(QKeySequence(spec.shortcut))
        tip += f" ({act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
    act.setToolTip(tip)
    act.setStatusTip(spec.tip)
    if spec.glyph:
        act.setData(spec.glyph)
        act.setIcon(icon(spec.glyph))
    act.triggered.connect(lambda _checked=False: slot())
    window.addAction(act)
    return act


def view_action(parent: QWidget, text: str, shortcut: str | QKeySequence | None, tip: str, slot, name: str) -> QAction:
    """An action whose tooltip names its shortcut."""
    act = QAction(text, parent)
    act.setObjectName(name)
    if shortcut:
        act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        tip += f" ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
    act.setToolTip(tip)
    act.triggered.connect(slot)
    parent.addAction(act)
    return act


def refresh_action_icons(actions: dict[str, QAction]) -> None:
    for act in actions.values():
        if act.data():
            act.setIcon(icon(act.data()))


FILE = (
    ActionSpec("addFolder", "&Add album folder...", QKeySequence.StandardKey.Open, "Scan a folder of photos for faces", "add-folder"),
    ActionSpec("cancelTask", "&Cancel running task", "Ctrl+.", "Stop the scan or the restore; what is done is kept", "cancel"),
    ActionSpec("quit", "&Quit", QKeySequence.StandardKey.Quit, "Close FaceMe", "quit"),
)
EDIT = (
    ActionSpec("undo", "&Undo", QKeySequence.StandardKey.Undo, "Undo the last decision about people", "undo"),
    ActionSpec("redo", "&Redo", "Ctrl+Shift+Z", "Redo what was undone", "redo"),
    ActionSpec("preferences", "&Preferences...", "Ctrl+,", "Face detection, device, folders", "settings"),
)
VIEW = (
    ActionSpec("showPhotos", "&Photos", "Ctrl+1", "All photos, by folder", "photos"),
    ActionSpec("showPeople", "P&eople", "Ctrl+2", "The people in your photos", "people"),
    ActionSpec("showReview", "&Review", "Ctrl+3", "Decide one suggestion at a time", "review"),
    ActionSpec("showRestore", "Re&store", "Ctrl+4", "Photos to restore", "restore"),
)
HELP = (ActionSpec("about", "&About FaceMe", None, "Versions and model licences", "about"),)
