"""Paths the library stores as text: they must be valid UTF-8.

Python hands out file names that are not valid UTF-8 (old Windows or Mac archives) with "surrogate
escapes"; SQLite text cannot hold them, and storing one raised a UnicodeEncodeError deep inside a
transaction. Folders met during a walk are skipped with a problem (walk.py); paths a user gives
(album folders, the output folder, a photo, a reference file) are refused here, naming the setting.
"""

from __future__ import annotations

from pathlib import Path

from faceme_core.errors import LibraryError

NON_UTF8_HINT = "rename it (its name has bytes that are not UTF-8, e.g. from an old Windows archive)"


def is_storable(path: str | Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_storable(path: str | Path, *, setting: str | None = None, value: object = None) -> str:
    """``path`` as text the library can store; LibraryError if its name is not valid UTF-8."""
    if not is_storable(path):
        shown = value if value is not None else path
        raise LibraryError(
            "its name is not valid UTF-8, so the library cannot record it", setting=setting,
            value=shown if setting else None, subject=None if setting else shown, hint=NON_UTF8_HINT,
        )
    return str(path)
