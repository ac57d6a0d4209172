"""One colour per face state, used by the photo view's boxes and its legend."""

from PySide6.QtGui import QColor

STATE_COLORS = {
    "named": QColor("#2fa35a"),  # the user said who it is
    "suggested": QColor("#e8a400"),  # grouped automatically: a guess until confirmed
    "unassigned": QColor("#d9534f"),  # nobody yet
}
STATE_WORDS = {"named": "confirmed", "suggested": "suggested", "unassigned": "unknown"}
