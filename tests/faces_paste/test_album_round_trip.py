"""Round trip on the real album photos: align every detected face, paste the unchanged crops back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceme_core.faces.align import align_face
from faceme_core.faces.paste import RestoredFace, paste_faces
from tests.faces_paste.synthetic import psnr

# Names at collection time (fixtures are not available yet); the test reads them from album_dir.
ALBUM_PHOTOS = sorted(path.name for path in (Path(__file__).parents[1] / "data" / "album").glob("*.jpg"))


@pytest.fixture(scope="module")
def analyzer():
    from faceme_core.faces.analyzer import create_analyzer

    return create_analyzer("dlib")


def _all_points(analyzer, rgb: np.ndarray) -> list[np.ndarray]:
    """Restorable and skipped faces alike: paste-back must work for any face size."""
    found = analyzer.analyze_rgb(rgb)
    detections = [face.detection for face in found.faces] + [skipped.detection for skipped in found.skipped]
    return [np.asarray(detection.points, dtype=np.float64) for detection in detections]


@pytest.mark.parametrize("name", ALBUM_PHOTOS)
def test_album_round_trip(analyzer, album_dir: Path, name: str):
    rgb = np.asarray(Image.open(album_dir / name).convert("RGB")).copy()
    points = _all_points(analyzer, rgb)
    assert points, f"no face detected in {name}"
    faces = [RestoredFace.from_aligned(align_face(rgb, p)) for p in points]
    result = paste_faces(rgb, faces)
    outside = result.mask == 0
    assert np.array_equal(result.pixels[outside], rgb[outside])
    assert np.count_nonzero(~outside) > 0
    assert psnr(result.pixels, rgb, 255) >= 35.0
