"""Paged queries on libraries built from chosen vectors (who looks like whom is known exactly)."""

from __future__ import annotations

import numpy as np
import pytest

from faceme_core.library import people as ops
from faceme_core.library import queries
from tests.library.synthetic import DIM, add_face, add_faces, near, unit


@pytest.fixture
def album(library, tmp_path):
    """Anna: 4 faces and an outlier (someone else wrongly grouped with her); Ben: 3 faces, unnamed;
    Cy: 1 face, unnamed (a stranger); one unassigned face. Photos p0..p9 in one folder, p10 in a subfolder."""
    rng = np.random.default_rng(3)
    anna, ben, cy, stranger = (unit(rng.normal(size=DIM)) for _ in range(4))
    vectors = [near(anna, rng) for _ in range(4)] + [near(stranger, rng)] + [near(ben, rng) for _ in range(3)]
    vectors += [near(cy, rng), near(stranger, rng)]
    faces = add_faces(library, tmp_path / "Album", vectors)
    sub = add_faces(library, tmp_path / "Album" / "sub", [near(ben, rng)])
    anna_id = ops.move_faces(library, faces[:5], None, new_name="Anna").person_id
    ben_id = ops.move_faces(library, faces[5:8] + sub, None).person_id
    cy_id = ops.move_faces(library, faces[8:9], None).person_id
    return library, tmp_path / "Album", dict(anna=anna_id, ben=ben_id, cy=cy_id, faces=faces, outlier=faces[4],
                                              sub=sub[0])


def test_people_page_shows_named_and_large_groups_by_default(album):
    library, _, ids = album
    page = queries.people_page(library)
    assert [(p.id, p.face_count) for p in page.items] == [(ids["anna"], 5), (ids["ben"], 4)]
    assert page.total == 2
    everyone = queries.people_page(library, everyone=True)
    assert [p.id for p in everyone.items] == [ids["anna"], ids["ben"], ids["cy"]]
    assert [p.display_name for p in queries.people_page(library, sort="name", everyone=True).items][0] == "Anna"


def test_people_page_pages_searches_and_hides(album):
    library, _, ids = album
    second = queries.people_page(library, everyone=True, offset=1, limit=1)
    assert [p.id for p in second.items] == [ids["ben"]] and second.total == 3
    assert queries.people_page(library, everyone=True, offset=5).total == 3  # past the end
    assert [p.id for p in queries.people_page(library, search="ann").items] == [ids["anna"]]
    assert [p.id for p in queries.people_page(library, search=str(ids["ben"])).items] == [ids["ben"]]
    assert queries.people_page(library, search="100%").items == ()
    ops.set_hidden(library, ids["anna"], True)
    assert ids["anna"] not in {p.id for p in queries.people_page(library).items}
    assert [p.id for p in queries.people_page(library, hidden=True).items] == [ids["anna"]]


def test_people_page_cover_is_the_chosen_face_or_a_face_of_theirs(album):
    library, _, ids = album
    anna = queries.people_page(library, search="Anna").items[0]
    assert anna.cover_face_id in ids["faces"][:5]
    ops.set_cover(library, ids["anna"], ids["faces"][2])
    assert queries.people_page(library, search="Anna").items[0].cover_face_id == ids["faces"][2]


def test_person_faces_come_least_similar_first(album):
    library, _, ids = album
    page = queries.person_faces_page(library, "Anna")
    assert page.total == 5
    assert page.items[0].face_id == ids["outlier"]
    similarities = [face.similarity for face in page.items]
    assert similarities == sorted(similarities)
    assert similarities[0] < 0.9 < similarities[1]
    by_photo = queries.person_faces_page(library, "Anna", order="photo")
    assert [face.photo_path.name for face in by_photo.items] == ["p0.jpg", "p1.jpg", "p2.jpg", "p3.jpg", "p4.jpg"]
    most = queries.person_faces_page(library, "Anna", order="most_similar", offset=4, limit=1)
    assert [face.face_id for face in most.items] == [ids["outlier"]]
    # After "not this person" the page is read again: the cached order belongs to an older revision.
    ops.reject_face(library, ids["outlier"])
    assert ids["outlier"] not in {face.face_id for face in queries.person_faces_page(library, "Anna").items}


def test_photos_page_folders_and_a_photos_faces(album):
    library, folder, ids = album
    assert queries.photos_page(library).total == 11
    first = queries.photos_page(library, limit=4)
    assert [p.path.name for p in first.items] == ["p0.jpg", "p1.jpg", "p2.jpg", "p3.jpg"]
    assert all(p.face_count == 1 for p in first.items)
    assert queries.photos_page(library, folder=folder).total == 11
    assert queries.photos_page(library, folder=folder, recursive=False).total == 10
    assert [p.path.name for p in queries.photos_page(library, folder=folder / "sub").items] == ["p0.jpg"]
    assert queries.photos_page(library, folder=str(folder) + "x").total == 0  # "Albumx" is not inside "Album"
    assert [(f.path, f.photo_count) for f in queries.folders(library)] == [(folder, 10), (folder / "sub", 1)]
    with library.transaction() as conn:  # a photo moved to a new folder (a scan saw it there)
        conn.exec_driver_sql("UPDATE photos SET path = ? WHERE path = ?", (str(folder / "new" / "p9.jpg"),
                                                                          str(folder / "p9.jpg")))
    assert [(f.path.name, f.photo_count) for f in queries.folders(library)] == [("Album", 9), ("new", 1), ("sub", 1)]

    [photo] = [p for p in queries.photos_page(library, folder=folder, recursive=False).items if p.path.name == "p0.jpg"]
    add_face(library, photo.id, np.ones(DIM) / np.sqrt(DIM), index=3)  # a second, unassigned face
    faces = queries.photo_faces(library, photo.id)
    assert [(f.state, f.person_name) for f in faces] == [("named", "Anna"), ("unassigned", None)]
    ben_photo = queries.photos_page(library, folder=folder / "sub").items[0]
    assert [f.state for f in queries.photo_faces(library, ben_photo.id)] == ["suggested"]
    assert queries.get_photo(library, photo.id).face_count == 2


def test_page_arguments_are_checked(album):
    library, _, _ = album
    with pytest.raises(ValueError, match="limit"):
        queries.photos_page(library, limit=0)
    with pytest.raises(ValueError, match="sort"):
        queries.people_page(library, sort="age")


def test_person_page_reads_new_vectors_after_a_rescan_changed_them(album):
    """Vectors are kept between pages until an embedding is written (a scan): then read again."""
    from faceme_core.library.db.codec import blob_to_vector, vector_to_blob

    library, _, ids = album
    assert queries.person_faces_page(library, "Anna").items[0].face_id == ids["outlier"]
    first = ids["faces"][0]
    with library.transaction() as conn:
        anna = blob_to_vector(
            conn.exec_driver_sql("SELECT vector FROM embeddings WHERE face_id = ?", (ids["faces"][1],)).scalar_one()
        )
        far = -anna  # now face 0 is the odd one out, opposite to Anna
        conn.exec_driver_sql("UPDATE embeddings SET vector = ? WHERE face_id = ?", (vector_to_blob(far), first))
    assert queries.person_faces_page(library, "Anna").items[0].face_id == first
