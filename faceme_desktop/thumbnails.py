"""Lazy thumbnails: QImages decoded by pool threads, QPixmaps made on the GUI thread, in a sized cache.

Views ask ``pixmap(path, size)``: a cache hit returns the pixmap; a miss queues the file once and
returns None (the delegate paints a placeholder), and ``ready(key)`` fires when it can be asked again.
Face thumbnails come from the library's thumbnail folder; photo thumbnails are decoded at reduced
size by Qt's JPEG reader (DCT scaling: far cheaper than a full decode) and kept in a disk cache in the
user cache folder (``disk_cache=True``), keyed by path, size and modification time, so the next
session reads small JPEGs instead of the photos.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap, QPixmapCache

SMALL_FILE_BYTES = 64 * 1024  # smaller photos decode about as fast as their cached thumbnail would
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


def photo_cache_dir() -> Path:
    from faceme_core.paths import cache_dir

    return cache_dir() / "photo-thumbnails"


def read_scaled_cached(path: Path, size: int, folder: Path) -> QImage:
    """``read_scaled`` through a disk cache; a changed photo (size or mtime) gets a new entry."""
    try:
        stat = path.stat()
    except OSError:
        return QImage()
    digest = hashlib.sha1(f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{size}".encode()).hexdigest()
    cached = folder / digest[:2] / f"{digest}.jpg"
    if cached.exists():
        image = QImage(str(cached))
        if not image.isNull():
            return image
    image = read_scaled(path, size)
    if not image.isNull() and stat.st_size > SMALL_FILE_BYTES:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.part")
            if image.save(str(partial), "JPEG", 88):
                os.replace(partial, cached)  # atomic: a reader never sees half a file
        except OSError:
            pass  # a full or read-only cache folder only costs speed
    return image


class _Decode(QRunnable):
    def __init__(self, loader: "ThumbnailLoader", key: str, path: Path, size: int, disk_cache: Path | None):
        super().__init__()
        self._loader, self._key, self._path, self._size, self._disk_cache = loader, key, path, size, disk_cache

    def run(self) -> None:  # on a pool thread: QImage only, never QPixmap
        if self._disk_cache is not None:
            image = read_scaled_cached(self._path, self._size, self._disk_cache)
        else:
            image = read_scaled(self._path, self._size)
        self._loader._decoded.emit(self._key, image)


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

    def pixmap(self, path: Path | None, size: int, dpr: float = 1.0, disk_cache: bool = False) -> QPixmap | None:
        """The cached pixmap, or None after queueing it (also None for unreadable files).
        ``disk_cache``: keep the decoded thumbnail on disk too (photos; face thumbnails are small already)."""
        if path is None:
            return None
        pixels = max(1, int(round(size * dpr)))  # decode at device pixels: crisp on HiDPI
        key = self.key(path, pixels)
        found = QPixmapCache.find(key)
        if found is not None and not found.isNull():
            return found
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            self._pool.start(_Decode(self, key, path, pixels, photo_cache_dir() if disk_cache else None))
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
