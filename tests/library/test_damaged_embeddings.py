"""An embedding blob of the wrong size in the database: re-clustering, suggestions, the review lists, a
person's faces page and checking a reference file go on without it."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from faceme_core.library import people as ops
from faceme_core.library import queries
from faceme_core.library import references as refs
from faceme_core.library import review
from faceme_core.library.db import schema
from faceme_core.library.scan import scan_folders


@pytest.fixture
def scanned(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    return library


@pytest.mark.parametrize("blob", [b"\x00" * 12, b"\x01\x02\x03", b"\x00\x00\xc0\x7f" * 128])  # short, odd, NaN
def test_recluster_and_suggest_skip_a_damaged_embedding(scanned, blob):
    person = max(ops.list_people(scanned), key=lambda p: len(p.faces))
    damaged = person.faces[0].id
    with scanned.transaction() as conn:
        conn.execute(update(schema.embeddings).where(schema.embeddings.c.face_id == damaged).values(vector=blob))

    for someone in ops.list_people(scanned):  # crashed: np.stack of vectors of two sizes
        assert damaged not in {s.face_id for s in refs.suggest_references(scanned, someone.id, count=5)}
    ops.recluster(scanned)  # crashed the same way; the damaged face keeps the person it had
    assert len(ops.list_people(scanned)) >= 1


@pytest.mark.parametrize("blob", [b"\x00" * 12, b"\x01\x02\x03", b"\x00\x00\xc0\x7f" * 128])  # short, odd, NaN
def test_review_pages_and_reference_checks_leave_a_damaged_embedding_out(scanned, blob, faces_dir, analyzer):
    person = max(ops.list_people(scanned), key=lambda p: len(p.faces))
    damaged = person.faces[0].id
    unassigned = ops.unassigned_faces(scanned)[0].id
    with scanned.transaction() as conn:
        conn.execute(update(schema.embeddings).where(schema.embeddings.c.face_id.in_([damaged, unassigned]))
                     .values(vector=blob))

    # each crashed on np.frombuffer / np.stack of the damaged blob ("buffer size must be a multiple...")
    page = queries.person_faces_page(scanned, person.id, order="least_similar")
    assert {row.face_id for row in page.items} == {face.id for face in person.faces}
    review.same_person_pairs(scanned)
    assert unassigned not in {s.face_id for s in review.face_suggestions(scanned)}
    check = refs.check_reference_file(scanned, person.id, faces_dir / "Hepburn01.png", analyzer)
    assert check.similarity is None or -1.0 <= check.similarity <= 1.0
