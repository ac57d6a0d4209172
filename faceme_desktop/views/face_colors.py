"""One colour per face state (the core's ``queries.FaceState``), for the photo view's boxes and legend."""

from PySide6.QtGui import QColor

STATE_COLORS = {
    "named": QColor("#2fa35a"),  # on a person with a name
    "suggested": QColor("#e8a400"),  # in a group automation made that nobody named yet
    "unassigned": QColor("#d9534f"),  # on nobody
}
STATE_WORDS = {"named": "named", "suggested": "unnamed group", "unassigned": "unknown"}
