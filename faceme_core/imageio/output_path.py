"""Checks on an output path before anything opens it.

A FIFO (named pipe) where an output should go blocks forever on ``open``, for reading (to look for
FaceMe's mark) and for writing alike; a device or socket is no better. Outputs are only ever written
over regular files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from faceme_core.errors import ImageSaveError


def existing_kind(path: Path) -> str | None:
    """None if nothing is at ``path`` (or only a dangling link), else "file", "folder" or "special"."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise ImageSaveError(f"cannot check it ({error.strerror or error})", subject=path) from error
    except ValueError as error:  # an embedded NUL byte
        raise ImageSaveError(f"not a usable file name ({error})", subject=path) from error
    if stat.S_ISREG(mode):
        return "file"
    return "folder" if stat.S_ISDIR(mode) else "special"


def check_output_path(path: Path) -> None:
    """Refuse an output path that holds a folder, a pipe, a device or a socket (never opened)."""
    kind = existing_kind(Path(path))
    if kind == "folder":
        raise ImageSaveError("is a folder", subject=path, hint="give a file name for the output")
    if kind == "special":
        raise ImageSaveError(
            "is not a regular file (a pipe, device or socket)", subject=path,
            hint="choose another file name for the output",
        )
