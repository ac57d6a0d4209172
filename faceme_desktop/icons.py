"""Icons from qtawesome's bundled fonts (offline, crisp at any scale), coloured for the current palette.

Widgets ask ``icon("name")`` again when the palette changes (``ThemeWatcher.changed``), so icons stay
readable when the system switches between light and dark.
"""

from __future__ import annotations

import qtawesome
from PySide6.QtGui import QGuiApplication, QIcon, QPalette

# One place that says which glyph means what.
GLYPHS = {
    "add-folder": "mdi6.folder-plus-outline",
    "photos": "mdi6.image-multiple-outline",
    "people": "mdi6.account-group-outline",
    "person": "mdi6.account-outline",
    "review": "mdi6.account-question-outline",
    "restore": "mdi6.auto-fix",
    "cancel": "mdi6.close-circle-outline",
    "undo": "mdi6.undo",
    "redo": "mdi6.redo",
    "rename": "mdi6.rename-box",
    "merge": "mdi6.call-merge",
    "hide": "mdi6.eye-off-outline",
    "cover": "mdi6.account-box-outline",
    "reject": "mdi6.account-remove-outline",
    "move": "mdi6.account-arrow-right-outline",
    "yes": "mdi6.check",
    "no": "mdi6.close",
    "skip": "mdi6.skip-next",
    "back": "mdi6.arrow-left",
    "about": "mdi6.information-outline",
    "quit": "mdi6.exit-to-app",
    "warning": "mdi6.alert-outline",
    "reference": "mdi6.star-outline",
    "search": "mdi6.magnify",
    "folder": "mdi6.folder-outline",
    "open": "mdi6.open-in-new",
    "jobs": "mdi6.format-list-checks",
    "models": "mdi6.package-down",
    "settings": "mdi6.cog-outline",
}


def icon(name: str) -> QIcon:
    palette = QGuiApplication.palette()
    return qtawesome.icon(
        GLYPHS[name],
        color=palette.color(QPalette.ColorRole.WindowText),
        color_disabled=palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText),
    )
