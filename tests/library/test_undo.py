"""Undo and redo of every decision about people and references, the changes edits report, and the
library's revision."""

from __future__ import annotations

import sqlite3

import pytest

from faceme_core.library import people as ops
from faceme_core.library import references as refs
from faceme_core.library import undo
from faceme_core.library.library import Library
from faceme_core.library.scan import scan_folders

DECISION_TABLES = ("people", "assignments", "rejections", "person_refs")


@pytest.fixture
def scanned(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    return library


def dump(library: Library) -> dict[str, list[tuple]]:
    """Every row of the tables holding decisions (names, hidden, covers, assignments with their
    source and time, rejections, references)."""
    with sqlite3.connect(library.path) as conn:
        return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall()) for table in DECISION_TABLES}


def _band(library):
    return next(
        p
        for p in ops.list_people(library)
        if {f.photo_path.name for f in p.faces} == {"band_four_lowres_a.jpg", "band_four_b.jpg"}
    )


def _two_people(library):
    first, second = ops.list_people(library)[:2]
    return first, second


# Each decision: a preparation (other decisions that make it interesting, not part of the test) and
# the decision itself, which returns its change and the description undo must give.
def _nothing(lib):
    return None


def _rename(lib, _):
    person = _two_people(lib)[0]
    return ops.rename_person(lib, person.id, "Rose"), f"rename of person {person.id} to Rose"


def _prepare_merge(lib):
    a, b = _two_people(lib)
    ops.rename_person(lib, a.id, "Grandma")
    ops.rename_person(lib, b.id, "Rose")
    ops.reject_face(lib, _band(lib).faces[0].id, b.id)  # "not Rose" must become "not Grandma", and back
    refs.add_face_reference(lib, b.id, b.faces[0].id)  # Rose's reference moves to Grandma, and back
    ops.set_cover(lib, b.id, b.faces[0].id)
    return a, b


def _merge(lib, people):
    a, b = people
    return ops.merge_people(lib, a.id, [b.id]), "merge of Rose into Grandma"


def _move_to_existing(lib, _):
    band = _band(lib)
    other = next(p for p in ops.list_people(lib) if p.id != band.id)
    return ops.move_faces(lib, [band.faces[0].id], other.id), f"move of face {band.faces[0].id} to person {other.id}"


def _move_to_new(lib, _):
    band = _band(lib)
    change = ops.move_faces(lib, [f.id for f in band.faces], None, new_name="Ringo")
    return change, "move of 2 faces to a new person (Ringo)"


def _prepare_reject(lib):
    band = _band(lib)
    ops.set_cover(lib, band.id, band.faces[0].id)  # the rejected face is the cover: that goes too
    refs.add_face_reference(lib, band.id, band.faces[0].id)  # and a reference: that goes too
    return band


def _reject(lib, band):
    return ops.reject_face(lib, band.faces[0].id), f'"not person {band.id}" for face {band.faces[0].id}'


def _hide(lib, _):
    person = _two_people(lib)[0]
    return ops.set_hidden(lib, person.id, True), f"hiding of person {person.id}"


def _cover(lib, _):
    band = _band(lib)
    return ops.set_cover(lib, band.id, band.faces[1].id), f"new cover (face {band.faces[1].id}) for person {band.id}"


def _reference_add(lib, _):
    band = _band(lib)
    change = refs.add_face_reference(lib, band.id, band.faces[0].id)
    return change, f"reference face {band.faces[0].id} added to person {band.id}"


def _prepare_reference_remove(lib):
    band = _band(lib)
    return band, refs.add_face_reference(lib, band.id, band.faces[0].id).reference_id


def _reference_remove(lib, prepared):
    band, reference = prepared
    change = refs.remove_reference(lib, reference)
    return change, f"removal of reference face {band.faces[0].id} from person {band.id}"


def _prepare_recluster(lib):
    with lib.transaction() as conn:  # as if grouping had never run: the regrouping assigns every face
        conn.exec_driver_sql("DELETE FROM assignments")


def _recluster(lib, _):
    return ops.recluster(lib), "regrouping of all faces"


ACTIONS = {
    "rename": (_nothing, _rename),
    "merge": (_prepare_merge, _merge),
    "move": (_nothing, _move_to_existing),
    "move-new": (_nothing, _move_to_new),
    "reject": (_prepare_reject, _reject),
    "hide": (_nothing, _hide),
    "cover": (_nothing, _cover),
    "reference-add": (_nothing, _reference_add),
    "reference-remove": (_prepare_reference_remove, _reference_remove),
    "recluster": (_prepare_recluster, _recluster),
}


@pytest.mark.parametrize("name", ACTIONS)
def test_undo_restores_the_state_before_and_redo_the_state_after(scanned, name):
    prepare, act = ACTIONS[name]
    prepared = prepare(scanned)
    before = dump(scanned)
    change, description = act(scanned, prepared)
    after = dump(scanned)
    assert after != before and not change.is_empty

    result = undo.undo(scanned)
    assert result.description == description
    assert dump(scanned) == before
    # The same people, faces and photos to refresh (a person a merge removed is back: changed).
    touched = result.change.people_changed | result.change.people_removed
    assert touched == change.people_changed | change.people_removed
    assert (result.change.faces_changed, result.change.photos_changed) == (change.faces_changed, change.photos_changed)

    redone = undo.redo(scanned)
    assert redone.description == description
    assert dump(scanned) == after
    assert counts_are_kept(scanned)


def counts_are_kept(library: Library) -> bool:
    """people.face_count and last_assigned_at (kept by triggers) agree with the assignments."""
    with sqlite3.connect(library.path) as conn:
        stored = conn.execute("SELECT id, face_count, last_assigned_at FROM people ORDER BY id").fetchall()
        counted = conn.execute(
            "SELECT p.id, count(a.face_id), max(a.assigned_at) FROM people p "
            "LEFT JOIN assignments a ON a.person_id = p.id GROUP BY p.id ORDER BY p.id"
        ).fetchall()
    return stored == counted


def test_undo_survives_a_restart_and_steps_back_in_order(scanned):
    path = scanned.path
    start = dump(scanned)
    a, b = _two_people(scanned)
    ops.rename_person(scanned, a.id, "Grandma")
    named = dump(scanned)
    ops.merge_people(scanned, a.id, [b.id])
    scanned.close()

    with Library.open(path) as reopened:
        assert undo.state(reopened).undo == f"merge of person {b.id} into Grandma"
        assert undo.undo(reopened).description.startswith("merge")
        assert dump(reopened) == named
        assert undo.undo(reopened).description == f"rename of person {a.id} to Grandma"
        assert dump(reopened) == start
        assert undo.state(reopened) == undo.UndoState(undo=None, redo=f"rename of person {a.id} to Grandma")
        assert undo.undo(reopened) is None  # nothing left (the scan itself is not a decision)
        undo.redo(reopened)
        assert dump(reopened) == named


def test_a_new_decision_clears_redo(scanned):
    a, b = _two_people(scanned)
    ops.rename_person(scanned, a.id, "Grandma")
    undo.undo(scanned)
    assert undo.state(scanned).redo is not None
    ops.rename_person(scanned, b.id, "Rose")
    assert undo.state(scanned).redo is None
    assert undo.redo(scanned) is None
    assert undo.state(scanned).undo == f"rename of person {b.id} to Rose"


def test_a_decision_that_changes_nothing_is_not_recorded(scanned):
    a = _two_people(scanned)[0]
    ops.rename_person(scanned, a.id, "Grandma")
    change = ops.rename_person(scanned, a.id, "Grandma")
    assert change.is_empty
    assert undo.undo(scanned).description == f"rename of person {a.id} to Grandma"
    assert undo.undo(scanned) is None


def test_a_failed_decision_leaves_nothing_to_undo(scanned):
    with pytest.raises(Exception, match="no person"):
        ops.merge_people(scanned, 999, [1])
    assert undo.state(scanned) == undo.UndoState(undo=None, redo=None)


def test_undo_skips_rows_of_faces_gone_since(scanned):
    band = _band(scanned)
    ops.move_faces(scanned, [band.faces[0].id], None, new_name="Ringo")
    with scanned.transaction() as conn:  # a scan found the photo edited and the face gone
        conn.exec_driver_sql("DELETE FROM faces WHERE id = ?", (band.faces[0].id,))
    result = undo.undo(scanned)
    assert result is not None
    assert "Ringo" not in {p.name for p in ops.list_people(scanned)}


def test_merge_reports_what_changed(scanned):
    a, b = _two_people(scanned)
    change = ops.merge_people(scanned, a.id, [b.id])
    assert change.person_id == a.id
    assert change.people_removed == {b.id}
    assert a.id in change.people_changed
    assert {f.id for f in b.faces} <= change.faces_changed
    assert {f.photo_id for f in b.faces} <= change.photos_changed


def test_revision_moves_with_edits_here_and_writes_elsewhere(scanned):
    first = scanned.revision()
    assert scanned.revision() == first  # nothing happened: the same number, views keep their data
    ops.rename_person(scanned, _two_people(scanned)[0].id, "Grandma")
    second = scanned.revision()
    assert second > first
    with sqlite3.connect(scanned.path) as other:  # another process (the CLI) writes
        other.execute("UPDATE people SET name = 'Rose' WHERE name = 'Grandma'")
    assert scanned.revision() > second


def test_cli_undo_and_redo_say_what_they_did(scanned, capsys):
    from faceme_core.cli.main import main

    a, b = _two_people(scanned)
    ops.rename_person(scanned, a.id, "Grandma")
    ops.rename_person(scanned, b.id, "Rose")
    ops.merge_people(scanned, "Grandma", ["Rose"])
    library = str(scanned.path)
    assert main(["people", "undo", "--library", library]) == 0
    assert capsys.readouterr().out.strip() == "undone: merge of Rose into Grandma"
    assert {"Rose", "Grandma"} <= {p.name for p in ops.list_people(scanned)}
    assert main(["people", "redo", "--library", library]) == 0
    assert capsys.readouterr().out.strip() == "redone: merge of Rose into Grandma"
    assert main(["people", "redo", "--library", library]) == 0
    assert capsys.readouterr().out.strip() == "nothing to redo"
