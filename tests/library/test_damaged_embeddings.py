"""An embedding blob of the wrong size in the database: re-clustering and suggestions go on without it."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from faceme_core.library import people as ops
from faceme_core.library import references as refs
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
