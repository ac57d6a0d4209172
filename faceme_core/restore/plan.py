"""Deciding, for one photo, which faces get restored and with which references (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass

from faceme_core.faces.boxes import box_area
from faceme_core.faces.types import Face, PhotoFaces
from faceme_core.restore.identity_match import IDENTITY_MATCH_THRESHOLD, match_face
from faceme_core.restore.photo_restore import FaceTarget
from faceme_core.restore.reference_set import ReferenceSet

FACE_CHOICES = ("all", "largest")
OTHERS_CHOICES = ("blind", "skip")


@dataclass(frozen=True)
class PlanOptions:
    faces: str = "all"  # "largest": only the photo's largest face is considered
    others: str = "blind"  # faces that do not match the references: restore blind, or leave untouched
    match_threshold: float = IDENTITY_MATCH_THRESHOLD

    def __post_init__(self) -> None:
        if self.faces not in FACE_CHOICES:
            raise ValueError(f"faces={self.faces!r}: expected one of {', '.join(FACE_CHOICES)}")
        if self.others not in OTHERS_CHOICES:
            raise ValueError(f"others={self.others!r}: expected one of {', '.join(OTHERS_CHOICES)}")
        if not -1.0 <= self.match_threshold <= 1.0:  # a cosine similarity; also false for NaN
            raise ValueError(f"match_threshold={self.match_threshold!r}: must be between -1 and 1")


@dataclass(frozen=True)
class LeftFace:
    """A detected face this run leaves as it is, and why."""

    box: tuple[float, float, float, float]
    reason: str


@dataclass(frozen=True)
class PhotoPlan:
    targets: tuple[FaceTarget, ...]
    left: tuple[LeftFace, ...]

    @property
    def nothing_to_restore(self) -> bool:
        """No face to restore: writing the photo again would only re-encode it, so nothing is written."""
        return not self.targets


def plan_photo(photo_faces: PhotoFaces, references: ReferenceSet, options: PlanOptions = PlanOptions()) -> PhotoPlan:
    """Faces matching the references get them; the others follow ``options.others``."""
    faces: list[Face] = list(photo_faces.faces)
    left = [LeftFace(box=skipped.detection.box, reason=skipped.reason) for skipped in photo_faces.skipped]
    if options.faces == "largest" and faces:
        largest = max(faces, key=lambda face: box_area(face.box))
        left += [LeftFace(box=face.box, reason="not the largest face (only the largest is restored)") for face in faces if face is not largest]
        faces = [largest]
    targets = []
    for face in faces:
        match = match_face(face.embedding, references.embeddings, options.match_threshold)
        if match.matched:
            targets.append(FaceTarget(
                detection=face.detection, references=references.faces, reference_embeddings=references.embeddings,
                reference_names=references.names, person="reference", match_similarity=match.similarity,
            ))
        elif options.others == "blind":
            targets.append(FaceTarget(detection=face.detection, match_similarity=match.similarity))
        else:
            similarity = "n/a" if match.similarity is None else f"{match.similarity:.2f}"
            left.append(LeftFace(
                box=face.box,
                reason=f"does not match the references (similarity {similarity} < {options.match_threshold:.2f}; other faces are skipped)",
            ))
    return PhotoPlan(targets=tuple(targets), left=tuple(left))
