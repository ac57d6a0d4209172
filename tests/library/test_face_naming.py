"""name_face: the photo view's "who is this?" as one undoable decision."""

from __future__ import annotations

import pytest

from faceme_core.errors import LibraryError
from faceme_core.library import undo
from faceme_core.library.face_naming import name_face
from faceme_core.library.people import create_person, list_people, rename_person
from faceme_core.library.scan import scan_folders


@pytest.fixture
def scanned(library, small_album, analyzer):
    scan_folders(library, [small_album], analyzer)
    return library


def _person_of(library, face_id):
    return next((p for p in list_people(library) if any(f.id == face_id for f in p.faces)), None)


def test_new_name_on_an_unnamed_group_names_the_group(scanned):
    library = scanned
    group = next(p for p in list_people(library) if len(p.faces) >= 2)
    face = group.faces[0]
    named = name_face(library, face.id, "Rose")
    assert named.action == "renamed_group"
    person = _person_of(library, face.id)
    assert person.id == group.id and person.name == "Rose"
    assert {f.id for f in person.faces} == {f.id for f in group.faces}  # the whole group is Rose now
    assert next(f for f in person.faces if f.id == face.id).assigned_by == "user"


def test_existing_name_moves_the_face_and_one_undo_takes_it_back(scanned):
    library = scanned
    first, second = [p for p in list_people(library) if len(p.faces) >= 2][:2]
    rename_person(library, second.id, "Grandma")
    face = first.faces[0]
    named = name_face(library, face.id, "grandma")  # case-insensitive
    assert named.action == "assigned" and named.change.person_id == second.id
    assert _person_of(library, face.id).id == second.id
    undo.undo(library)
    assert _person_of(library, face.id).id == first.id


def test_new_name_on_a_named_person_makes_a_new_person(scanned):
    library = scanned
    group = next(p for p in list_people(library) if len(p.faces) >= 2)
    rename_person(library, group.id, "Uncle")
    named = name_face(library, group.faces[0].id, "Cousin")
    assert named.action == "new_person"
    person = _person_of(library, group.faces[0].id)
    assert person.name == "Cousin" and person.id != group.id


def test_ambiguous_and_bad_names_are_refused(scanned):
    library = scanned
    face = list_people(library)[0].faces[0]
    with pytest.raises(LibraryError, match="empty"):
        name_face(library, face.id, "  ")
    create_person(library, "Ann")
    other = create_person(library, "Bob").person_id
    rename_person(library, other, "ann")
    with pytest.raises(LibraryError, match="several people"):
        name_face(library, face.id, "Ann")
    with pytest.raises(LibraryError, match="no face"):
        name_face(library, 999_999, "Ann")
