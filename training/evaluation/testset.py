"""A test set on disk: ground truths and references per identity, and optionally given degraded inputs.

    GT_DIR/<identity>/<image>       aligned faces (FFHQ template, 512x512; other sizes are resized)
    REFS_DIR/<identity>/<image>     reference photos of the same person (any photo with the face)
    LQ_DIR/<identity>/<image>       optional: the degraded inputs, same relative paths as GT_DIR

Without LQ_DIR the inputs are made with the shared degradation (``training.degradation``), drawn
from (seed, 0, index): the same seed gives the same inputs on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceme_core.errors import FaceMeError
from training.degradation import degrade, sample_degradation
from training.imagefiles import list_images, read_rgb8

FACE_SIZE = 512


class TestSetError(FaceMeError):
    __test__ = False  # not a pytest class, despite the name

    """The test set folders are missing or inconsistent."""


@dataclass(frozen=True)
class TestFace:
    identity: str
    name: str  # "<identity>/<file>", unique in the set
    gt: Path
    lq: Path | None  # None: degrade the ground truth
    references: tuple[Path, ...]
    index: int  # position in the set: the degradation's sample index


def discover(gt_dir: Path, refs_dir: Path, lq_dir: Path | None = None) -> list[TestFace]:
    gt_dir, refs_dir = Path(gt_dir), Path(refs_dir)
    for folder in (gt_dir, refs_dir) + ((Path(lq_dir),) if lq_dir is not None else ()):
        if not folder.is_dir():
            raise TestSetError(f"{folder}: not a folder")
    faces = []
    for path in list_images(gt_dir):
        relative = path.relative_to(gt_dir)
        if len(relative.parts) != 2:
            raise TestSetError(f"{path}: ground truths must be in one folder per identity (GT_DIR/<identity>/<image>)")
        identity = relative.parts[0]
        references = tuple(list_images(refs_dir / identity)) if (refs_dir / identity).is_dir() else ()
        if not references:
            raise TestSetError(f"{refs_dir / identity}: no reference images for identity {identity!r}")
        lq = None
        if lq_dir is not None:
            lq = Path(lq_dir) / relative
            if not lq.is_file():
                raise TestSetError(f"{lq}: missing degraded input for {relative.as_posix()}")
        faces.append(TestFace(identity, relative.as_posix(), path, lq, references, len(faces)))
    if not faces:
        raise TestSetError(f"{gt_dir}: no ground-truth images")
    return faces


def to_face_size(rgb: np.ndarray) -> np.ndarray:
    if rgb.shape[:2] == (FACE_SIZE, FACE_SIZE):
        return rgb
    interpolation = cv2.INTER_AREA if rgb.shape[0] > FACE_SIZE else cv2.INTER_CUBIC
    return cv2.resize(rgb, (FACE_SIZE, FACE_SIZE), interpolation=interpolation)


def load_pair(face: TestFace, degradation_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(degraded input, ground truth), both uint8 RGB 512x512."""
    gt = to_face_size(read_rgb8(face.gt))
    if face.lq is not None:
        return to_face_size(read_rgb8(face.lq)), gt
    return degrade(gt, sample_degradation(degradation_seed, 0, face.index)), gt
