"""Reading and writing the 8-bit RGB images that training tools produce (renders, restorations, sheets)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from faceme_core.imageio import load_photo
from faceme_core.imageio.atomic import write_atomically

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def read_rgb8(path: Path) -> np.ndarray:
    """uint8 RGB (H, W, 3), EXIF orientation applied (the core's loader; ImageLoadError when unreadable)."""
    return load_photo(path).rgb8()


def write_png(path: Path, rgb: np.ndarray, compress_level: int = 1) -> None:
    """Write a uint8 RGB array as PNG atomically, creating the folder (fast, light compression by default:
    these are work files written by the thousand)."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) array, got {rgb.dtype} {rgb.shape}")
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=compress_level)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue())


def list_images(folder: Path) -> list[Path]:
    """Every image file under ``folder`` (recursively), sorted, hidden files skipped."""
    folder = Path(folder)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))
