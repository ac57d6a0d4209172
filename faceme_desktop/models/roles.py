"""Custom item-data roles shared by models and delegates."""

from PySide6.QtCore import Qt

ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's database id (photo, person or face)
COUNT_ROLE = Qt.ItemDataRole.UserRole + 2  # faces in the photo / of the person
PATH_ROLE = Qt.ItemDataRole.UserRole + 3  # the photo's path
SORT_ROLE = Qt.ItemDataRole.UserRole + 4  # the value the current sort uses
ROW_ROLE = Qt.ItemDataRole.UserRole + 5  # the whole frozen row
SIMILARITY_ROLE = Qt.ItemDataRole.UserRole + 6

FACE_IDS_MIME = "application/x-faceme-face-ids"

