"""Which faces get the references: matching by ArcFace similarity, --faces and --others."""

from __future__ import annotations

import numpy as np
import pytest

from faceme_core.faces.types import Detection, Embedding, Face, PhotoFaces, SkippedFace
from faceme_core.restore.identity_match import IDENTITY_MATCH_THRESHOLD, match_face
from faceme_core.restore.plan import PlanOptions, plan_photo
from faceme_core.faces.boxes import box_iou
from faceme_core.faces.boxes import pick_box
from faceme_core.restore.reference_set import ReferenceSet

MODEL = "insightface/antelopev2/glintr100"


def unit(vector) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def face(x0: float, size: float, direction) -> Face:
    box = (x0, 10.0, x0 + size, 10.0 + size)
    points = np.array([[x0 + 0.3 * size, 40], [x0 + 0.7 * size, 40], [x0 + 0.5 * size, 55],
                       [x0 + 0.35 * size, 70], [x0 + 0.65 * size, 70]], dtype=np.float32)
    return Face(detection=Detection(box=box, points=points, score=0.9),
                embedding=Embedding(MODEL, unit(direction)), quality=0.5)


def references(*directions) -> ReferenceSet:
    return ReferenceSet(faces=tuple(object() for _ in directions),  # the engine's ReferenceFace: opaque here
                        embeddings=tuple(Embedding(MODEL, unit(d)) for d in directions),
                        names=tuple(f"ref{i}.jpg" for i in range(len(directions))))


def test_match_uses_the_closest_reference_and_the_threshold():
    refs = references([1, 0, 0], [0, 1, 0])
    close = Embedding(MODEL, unit([0.2, 1, 0]))
    far = Embedding(MODEL, unit([0, 0, 1]))
    assert match_face(close, refs.embeddings).matched
    assert match_face(close, refs.embeddings).similarity == pytest.approx(float(unit([0.2, 1, 0])[1]))
    assert not match_face(far, refs.embeddings).matched
    borderline = Embedding(MODEL, unit([IDENTITY_MATCH_THRESHOLD, np.sqrt(1 - IDENTITY_MATCH_THRESHOLD**2), 0]))
    assert match_face(borderline, references([1, 0, 0]).embeddings).matched
    assert match_face(borderline, references([1, 0, 0]).embeddings, threshold=0.31).matched is False
    assert match_face(close, ()).similarity is None


def test_matching_faces_get_the_references_others_follow_the_option():
    photo_faces = PhotoFaces(size_wh=(400, 200), faces=[face(10, 100, [1, 0, 0]), face(200, 80, [0, 0, 1])],
                             skipped=[], backend="insightface")
    refs = references([1, 0.1, 0])
    blind = plan_photo(photo_faces, refs, PlanOptions(others="blind"))
    assert [len(t.references) for t in blind.targets] == [1, 0]
    assert blind.targets[0].reference_names == ("ref0.jpg",)
    assert blind.targets[0].match_similarity > 0.9 and blind.targets[1].match_similarity < 0.1
    assert blind.left == ()

    skip = plan_photo(photo_faces, refs, PlanOptions(others="skip"))
    assert len(skip.targets) == 1 and skip.targets[0].detection is photo_faces.faces[0].detection
    assert len(skip.left) == 1 and "does not match" in skip.left[0].reason


def test_largest_only_and_skipped_faces_are_reported():
    small_detection = Detection(box=(0, 0, 5, 5), points=np.zeros((5, 2), np.float32), score=0.8)
    photo_faces = PhotoFaces(size_wh=(400, 200), faces=[face(10, 50, [1, 0, 0]), face(200, 120, [1, 0, 0])],
                             skipped=[SkippedFace(small_detection, "too small to restore")], backend="insightface")
    plan = plan_photo(photo_faces, references([1, 0, 0]), PlanOptions(faces="largest"))
    assert [t.detection.box[0] for t in plan.targets] == [200]
    reasons = sorted(left.reason for left in plan.left)
    assert reasons[0].startswith("not the largest") and reasons[1] == "too small to restore"


def test_plan_options_are_checked():
    with pytest.raises(ValueError, match="others="):
        PlanOptions(others="maybe")
    with pytest.raises(ValueError, match="faces="):
        PlanOptions(faces="some")


def test_reference_face_choice_prefers_the_hinted_box_else_the_largest():
    faces = [face(10, 50, [1, 0, 0]), face(200, 120, [1, 0, 0])]
    assert pick_box([face.box for face in faces]) == 1
    assert pick_box([face.box for face in faces], (12, 12, 58, 58)) == 0
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
