"""Review queues on libraries built from chosen vectors (dlib model: joins at 0.94)."""

from __future__ import annotations

import numpy as np
import pytest

from faceme_core.library import people as ops
from faceme_core.library import review, undo
from tests.library.synthetic import DIM, add_face, add_faces, near, unit


def _at(centre: np.ndarray, cosine: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector at exactly ``cosine`` to ``centre``."""
    other = rng.normal(size=len(centre))
    other = unit(other - (other @ centre) * centre)
    return cosine * centre + np.sqrt(1 - cosine**2) * other


@pytest.fixture
def album(library, tmp_path):
    """Anna (3 faces, photos 0-2); Anne (2 faces at 0.925 to Anna: below the join threshold, inside
    the review band); Carl (2 faces, far); Ann-in-group (2 faces at 0.925 to Anna, one of them in a
    photo with Anna: cannot be her); one unassigned face like Anna (photo 9)."""
    rng = np.random.default_rng(5)
    anna = unit(rng.normal(size=DIM))
    anne, lookalike, carl = _at(anna, 0.925, rng), _at(anna, 0.925, rng), _at(anna, 0.5, rng)
    vectors = [near(anna, rng, 0.005) for _ in range(3)] + [near(anne, rng, 0.005) for _ in range(2)]
    vectors += [near(carl, rng, 0.005) for _ in range(2)] + [near(lookalike, rng, 0.005) for _ in range(2)]
    vectors += [near(anna, rng, 0.005)]
    photos = [0, 1, 2, 3, 4, 5, 6, 0, 8, 9]  # the look-alike's first face is in Anna's photo 0
    faces = add_faces(library, tmp_path / "Album", vectors, photos)
    ids = dict(
        anna=ops.move_faces(library, faces[0:3], None, new_name="Anna").person_id,
        anne=ops.move_faces(library, faces[3:5], None).person_id,
        carl=ops.move_faces(library, faces[5:7], None).person_id,
        lookalike=ops.move_faces(library, faces[7:9], None).person_id,
    )
    return library, ids, faces


def test_same_person_pairs_are_close_people_never_seen_together(album):
    library, ids, _faces = album
    [pair] = review.same_person_pairs(library)
    assert (pair.first.id, pair.second.id) == (ids["anna"], ids["anne"])  # the larger first
    assert pair.first.display_name == "Anna" and pair.first.face_count == 3
    assert 0.91 < pair.similarity < 0.94


def test_no_means_the_pair_is_not_asked_again_until_undone(album):
    library, ids, _faces = album
    change = review.mark_distinct(library, ids["anne"], ids["anna"])
    assert change.people_changed == {ids["anna"], ids["anne"]}
    assert review.same_person_pairs(library) == []
    assert undo.undo(library).description == f"Anna and person {ids['anne']} marked as different people"
    assert len(review.same_person_pairs(library)) == 1


def test_merging_a_pair_removes_it(album):
    library, ids, _faces = album
    ops.merge_people(library, ids["anna"], [ids["anne"]])
    assert review.same_person_pairs(library) == []


def test_unassigned_faces_come_with_the_best_person_not_a_rejected_one(album):
    library, ids, faces = album
    [suggestion] = review.face_suggestions(library)
    assert (suggestion.face_id, suggestion.person.id) == (faces[9], ids["anna"])
    assert suggestion.similarity > 0.99
    ops.reject_faces(library, [faces[9]], ids["anna"])  # "no"
    [again] = review.face_suggestions(library)
    assert again.person.id != ids["anna"]
    ops.move_faces(library, [faces[9]], ids["carl"])  # "move to..."
    assert review.face_suggestions(library) == []


def test_a_person_twice_in_one_photo_is_listed(album):
    library, ids, faces = album
    assert review.repeated_in_photo(library) == []
    with library.reading() as conn:
        photo = conn.exec_driver_sql("SELECT photo_id FROM faces WHERE id = ?", (faces[0],)).scalar_one()
    extra = add_face(library, photo, np.ones(DIM) / np.sqrt(DIM), index=5)
    ops.move_faces(library, [extra], ids["anna"])
    [repeated] = review.repeated_in_photo(library)
    assert (repeated.photo_id, repeated.person.id, repeated.face_ids) == (photo, ids["anna"], (faces[0], extra))
