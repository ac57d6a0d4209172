"""Work-arounds for bugs of Qt bindings users may have, each measured and explained.

We pin PySide6 6.11.3 (constraints.txt) and exclude 6.12.0 (pyproject.toml) for the bug below; the
reserve stays for environments that get an affected build anyway.

PySide6 6.12.0 (its abi3 wheels) on CPython 3.11: every call of a C++ method returning nothing
(``QPainter.save()``, ``setPen``...) and every empty QVariant converted back to Python hands out
``None`` without taking a reference for it; methods returning a bool do the same with ``True`` and
``False``. Measured: 2,000 ``painter.save(); painter.restore()``
pairs lower ``sys.getrefcount(None)`` by 4,000; scrolling a grid of 40 thumbnails costs about 350
references per frame, and the interpreter aborts ("none_dealloc: deallocating None") after a few
seconds of scrolling. From Python 3.12 on, ``None`` is immortal and the bug is harmless; PySide6
6.11.3 on Python 3.11 does not have it (same measurement: no reference lost). The reserve below is
harmless on versions without the bug.
"""

from __future__ import annotations

import ctypes
import sys

NONE_REFERENCE_RESERVE = 1 << 40  # ~10^12 lost references: centuries of painting


def keep_none_alive() -> None:
    """Give ``None``, ``True`` and ``False`` a reference reserve so lost references can never free
    them (CPython < 3.12; later versions make them immortal)."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt: a PyObject's first field
        if refcount.value < NONE_REFERENCE_RESERVE // 2:
            refcount.value += NONE_REFERENCE_RESERVE
