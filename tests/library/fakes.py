"""Stand-ins for the engine in library tests (no models needed)."""

from __future__ import annotations

from faceme_core.imageio import load_photo, save_photo
from faceme_core.library.types import FaceOutcome, PhotoOutcome, PhotoTask


def fake_restore(task: PhotoTask, *, progress=None, cancel=None) -> PhotoOutcome:
    """Inverts each face box and writes the output the way the real restoration does (save_photo)."""
    photo = load_photo(task.photo_path)
    pixels = photo.pixels.copy()
    for face in task.faces:
        x0, y0, x1, y1 = (int(round(v)) for v in face.box)
        pixels[max(0, y0) : y1, max(0, x0) : x1] = 255 - pixels[max(0, y0) : y1, max(0, x0) : x1]
    save_photo(photo.with_pixels(pixels), task.output_path, overwrite=True)
    outcomes = tuple(FaceOutcome(face.face_id, "references" if face.references else "blind") for face in task.faces)
    return PhotoOutcome(task.output_path, outcomes)
