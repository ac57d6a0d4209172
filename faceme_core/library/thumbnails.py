"""Face thumbnails cached in the library's thumbnail folder (never beside the photos)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

THUMBNAIL_SIZE = 160  # pixels, longest side
MARGIN = 0.25  # of the box size, on every side: some hair and chin around the face


def crop_box(
    size_wh: tuple[int, int], box: tuple[float, float, float, float], margin: float = MARGIN
) -> tuple[int, int, int, int]:
    """The thumbnail's crop in integer pixels: the box grown by ``margin``, squared, clipped to the photo."""
    width, height = size_wh
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    right, bottom = int(round(cx + side / 2)), int(round(cy + side / 2))
    left, top = max(0, left), max(0, top)
    right, bottom = min(width, max(right, left + 1)), min(height, max(bottom, top + 1))
    return left, top, right, bottom


def face_thumbnail(rgb: np.ndarray, box: tuple[float, float, float, float], size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """A small uint8 RGB crop around the face (pure function)."""
    from PIL import Image

    height, width = rgb.shape[:2]
    left, top, right, bottom = crop_box((width, height), box)
    crop = Image.fromarray(np.ascontiguousarray(rgb[top:bottom, left:right]))
    crop.thumbnail((size, size), Image.Resampling.LANCZOS)
    return np.asarray(crop)


def thumbnail_name(content_hash: str, index: int) -> str:
    """Named after the photo's content, so a moved photo keeps its thumbnails and a re-run overwrites."""
    return f"{content_hash[:2]}/{content_hash}_{index}.jpg"


def write_thumbnail(folder: Path, name: str, pixels: np.ndarray) -> None:
    """Atomically write a JPEG thumbnail. The folder is marked as FaceMe's own, so a scan of a folder
    holding it (a user data folder inside a scanned home, say) never takes thumbnails for photos."""
    import io

    from PIL import Image

    from faceme_core.imageio.atomic import write_atomically
    from faceme_core.library.walk import OUTPUT_MARKER

    marker = folder / OUTPUT_MARKER
    if not marker.exists():
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text("FaceMe's face thumbnails: never scanned as photos\n")
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    write_atomically(target, buffer.getvalue())


def remove_thumbnails(folder: Path, names: list[str]) -> None:
    """Delete cached thumbnails no face uses any more (already gone: fine)."""
    for name in names:
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass
