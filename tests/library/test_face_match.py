"""Re-matching the faces of a photo turned after the scan (issue 8: its faces lost their decisions)."""

from __future__ import annotations

import numpy as np

from faceme_core.library.face_match import match_faces


def _turn_clockwise(box, size):
    """The box in the photo turned a quarter turn clockwise: a pixel (x, y) goes to (h - y, x)."""
    x0, y0, x1, y1 = box
    height = size[1]
    return (height - y1, x0, height - y0, x1)


def test_faces_of_a_photo_turned_a_quarter_turn_keep_their_rows_by_place():
    old_size, new_size = (400, 300), (300, 400)
    old = [(50.0, 50.0, 110.0, 110.0), (250.0, 150.0, 310.0, 210.0), (180.0, 40.0, 230.0, 90.0)]
    turned = [_turn_clockwise(box, old_size) for box in old]
    new = sorted(turned)  # the analyzer lists faces left to right: another order than before
    pairs = match_faces(old, new, old_size=old_size, new_size=new_size)
    assert pairs == sorted((i, new.index(turned[i])) for i in range(3))
    # Turned the other way (a quarter turn counter-clockwise) too.
    back = [_turn_clockwise(_turn_clockwise(box, new_size), old_size) for box in turned]  # three turns
    assert match_faces(old, back, old_size=old_size, new_size=new_size) == [(0, 0), (1, 1), (2, 2)]


def test_a_half_turn_does_not_swap_two_look_alikes_standing_where_the_other_stood():
    """Two siblings side by side (cosine 0.95: above the join threshold of 0.94). Turned upside
    down, each stands where the other stood: by place alone, each would take the other's decisions."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=128)
    a /= np.linalg.norm(a)
    other = rng.normal(size=128)
    other -= (other @ a) * a
    other /= np.linalg.norm(other)
    b = 0.95 * a + np.sqrt(1 - 0.95**2) * other
    size = (400, 300)
    old = [(50.0, 120.0, 110.0, 180.0), (290.0, 120.0, 350.0, 180.0)]  # a left, b right
    new = [(50.0, 120.0, 110.0, 180.0), (290.0, 120.0, 350.0, 180.0)]  # now b left, a right
    pairs = match_faces(
        old, new, old_size=size, new_size=size, old_vectors=[a, b], new_vectors=[b, a], min_similarity=0.94
    )
    assert pairs == [(0, 1), (1, 0)]


def test_an_unturned_photo_still_matches_in_place_and_unknown_sizes_are_not_turned():
    old = [(10.0, 10.0, 50.0, 50.0), (350.0, 250.0, 390.0, 290.0)]
    assert match_faces(old, old, old_size=(400, 300), new_size=(400, 300)) == [(0, 0), (1, 1)]
    assert match_faces(old, old) == [(0, 0), (1, 1)]
