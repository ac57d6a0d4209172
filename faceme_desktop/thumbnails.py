"""Lazy thumbnails: QImages decoded by pool threads, QPixmaps made on the GUI thread, in a sized cache.

Views ask ``pixmap(path, size)``: a cache hit returns the pixmap; a miss queues the file once and
returns None (the delegate paints a placeholder), and ``ready(key)`` fires when it can be asked again.
Face thumbnails come from the library's thumbnail folder; photo thumbnails are decoded at reduced
size by Qt's JPEG reader (DCT scaling: far cheaper than a full decode).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap, QPixmapCache

PIXMAP_CACHE_KB = 256 * 1024  # QPixmapCache's default (10 MB) holds about 100 grid thumbnails only


def configure_pixmap_cache(limit_kb: int = PIXMAP_CACHE_KB) -> None:
    QPixmapCache.setCacheLimit(limit_kb)


def read_scaled(path: Path, size: int) -> QImage:
    """The image at ``path`` fitted into ``size`` x ``size`` (EXIF orientation applied); null if unreadable."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    original = reader.size()
    if original.isValid() and max(original.width(), original.height()) > size:
        scaled = original.scaled(QSize(size, size), Qt.AspectRatioMode.KeepAspectRatio)
        reader.setScaledSize(scaled)
    return reader.read()


class _Decode(QRunnable):
    def __init__(self, loader: "ThumbnailLoader", key: str, path: Path, size: int):
        super().__init__()
        self._loader, self._key, self._path, self._size = loader, key, path, size

    def run(self) -> None:  # on a pool thread: QImage only, never QPixmap
        self._loader._decoded.emit(self._key, read_scaled(self._path, self._size))


class ThumbnailLoader(QObject):
    ready = Signal(str)  # a key whose pixmap is now in the cache (or known to be unreadable)

    _decoded = Signal(str, QImage)

    def __init__(self, parent: QObject | None = None, threads: int = 2):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._decoded.connect(self._on_decoded)

    @staticmethod
    def key(path: Path, size: int) -> str:
        return f"{size}:{path}"

    def pixmap(self, path: Path | None, size: int, dpr: float = 1.0) -> QPixmap | None:
        """The cached pixmap, or None after queueing it (also None for unreadable files)."""
        if path is None:
            return None
        pixels = max(1, int(round(size * dpr)))  # decode at device pixels: crisp on HiDPI
        key = self.key(path, pixels)
        found = QPixmapCache.find(key)
        if found is not None and not found.isNull():
            return found
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            self._pool.start(_Decode(self, key, path, pixels))
        return None

    def cancel_pending(self) -> None:
        """Forget queued work (the view scrolled or reloaded); running decodes still finish."""
        self._pool.clear()
        self._pending.clear()

    def wait(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    def _on_decoded(self, key: str, image: QImage) -> None:  # GUI thread
        self._pending.discard(key)
        if image.isNull():
            self._failed.add(key)
        else:
            pixmap = QPixmap.fromImage(image)
            QPixmapCache.insert(key, pixmap)
        self.ready.emit(key)
