"""Read-only compositions of core queries that the views show together (no decisions, no scoring).

Everything heavy (paging, similarity, review queues) is the core's (``faceme_core.library.queries``,
``review``, ``references``); these only gather what one view shows at once. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from faceme_core.library import queries, review
from faceme_core.library.db import schema
from faceme_core.library.library import Library
from faceme_core.library.queries import PersonRow, PhotoFaceRow, PhotoRow


@dataclass(frozen=True)
class PhotoDetail:
    photo: PhotoRow
    faces: tuple[PhotoFaceRow, ...]  # left to right


def photo_detail(library: Library, photo_id: int) -> PhotoDetail:
    return PhotoDetail(queries.get_photo(library, photo_id), tuple(queries.photo_faces(library, photo_id)))


def all_people(library: Library) -> list[PersonRow]:
    """Everyone shown (not hidden), by name: the choices of "move to..." and of the name completer."""
    people: list[PersonRow] = []
    while True:
        page = queries.people_page(library, sort="name", everyone=True, offset=len(people), limit=queries.MAX_PAGE)
        people += page.items
        if not page.items or len(people) >= page.total:
            return people


def person_names(library: Library) -> list[str]:
    return [p.name for p in all_people(library) if p.name]


def person_row(library: Library, person_id: int) -> PersonRow | None:
    """One person's card data (hidden or not); None once they are gone (merged away, emptied)."""
    for hidden in (False, True):
        page = queries.people_page(library, everyone=True, hidden=hidden, search=str(person_id), limit=queries.MAX_PAGE)
        match = next((p for p in page.items if p.id == person_id), None)
        if match is not None:
            return match
    return None


@dataclass(frozen=True)
class PeopleCounts:
    everyone: int  # shown people (not hidden), small groups included
    default: int  # those the default list shows (named, or groups of a few faces)


def people_counts(library: Library, search: str | None = None) -> PeopleCounts:
    return PeopleCounts(
        queries.people_page(library, everyone=True, search=search, limit=1).total,
        queries.people_page(library, search=search, limit=1).total,
    )


@dataclass(frozen=True)
class ReferenceCard:
    id: int
    kind: str  # "face" (an album face) or "file" (an image file the user gave)
    image: Path | None  # the face's thumbnail, or the file itself
    quality: float | None  # album faces only
    readable: bool  # usable by a restoration now (photo present / file exists)


@dataclass(frozen=True)
class SuggestionCard:
    face_id: int
    image: Path | None
    quality: float


@dataclass(frozen=True)
class PersonReferences:
    person_id: int
    references: tuple[ReferenceCard, ...]
    suggestions: tuple[SuggestionCard, ...]
    good: int  # readable references of good quality (file references count as good)


def person_references(library: Library, person_id: int) -> PersonReferences:
    """The person's references and suggested ones, with the thumbnails and quality the strip shows."""
    from faceme_core.library.references import QUALITY_FLOOR, list_references, suggest_references

    references = list_references(library, person_id)
    suggestions = suggest_references(library, person_id, count=3)
    face_ids = [r.face_id for r in references if r.face_id is not None] + [s.face_id for s in suggestions]
    faces = schema.faces
    with library.reading() as conn:
        thumbnails = dict(conn.execute(select(faces.c.id, faces.c.thumbnail).where(faces.c.id.in_(face_ids))).all())
    folder = library.thumbnails_dir

    def thumb(face_id: int) -> Path | None:
        name = thumbnails.get(face_id)
        return folder / name if name else None

    cards = tuple(
        ReferenceCard(r.id, r.kind, thumb(r.face_id) if r.face_id is not None else r.file_path, r.quality, r.readable_now())
        for r in references
    )
    good = sum(1 for c in cards if c.readable and (c.quality is None or c.quality >= QUALITY_FLOOR))
    return PersonReferences(
        person_id, cards, tuple(SuggestionCard(s.face_id, thumb(s.face_id), s.quality) for s in suggestions), good
    )


def album_folders(library: Library) -> list[Path]:
    """The folders the user added (what a re-embed scans again)."""
    with library.reading() as conn:
        return [Path(p) for p in conn.execute(select(schema.albums.c.path).order_by(schema.albums.c.path)).scalars()]


def photo_count(library: Library) -> int:
    return queries.photos_page(library, limit=1).total


def better_embedding_model(library: Library, backend: str) -> str | None:
    """The model a scan would use now, when it differs from the one the library's people were grouped
    with (the insightface pack installed after a dlib scan): the app then offers to re-embed."""
    from faceme_core.faces.analyzer import create_analyzer
    from faceme_core.library.scan import ACTIVE_MODEL_KEY

    active = library.get_meta(ACTIVE_MODEL_KEY)
    if active is None:
        return None
    try:
        model_id = create_analyzer(backend).embedding_model_id
    except Exception:  # noqa: BLE001 - a missing pack is no offer, not an error
        return None
    return model_id if model_id != active else None


# --- review ---------------------------------------------------------------------------------------

ReviewKind = Literal["same_person", "unassigned_face", "twice_in_photo"]
REVIEW_LIMIT = 20


@dataclass(frozen=True)
class ReviewItem:
    """One question of the Review view, with the pictures it shows."""

    kind: ReviewKind
    key: tuple  # identifies the question (a skipped one is asked again last)
    left_image: Path | None
    left_caption: str
    right_image: Path | None
    right_caption: str
    question: str
    person_a: int | None = None  # same_person: kept on "yes"; unassigned_face / twice: the person
    person_b: int | None = None  # same_person: merged into person_a on "yes"
    face_a: int | None = None  # unassigned_face: the face; twice_in_photo: the left face
    face_b: int | None = None  # twice_in_photo: the right face


def review_items(library: Library, kind: ReviewKind, limit: int = REVIEW_LIMIT) -> list[ReviewItem]:
    """One of the core's review queues as questions: ``same_person`` pairs near the join threshold,
    ``unassigned_face`` with their likeliest person, a person ``twice_in_photo``. (Three queues, so
    the view shows the first questions while the slower queues are still being read.)"""
    from faceme_core.errors import LibraryError

    try:
        if kind == "same_person":
            found = review.same_person_pairs(library, limit=limit)
        elif kind == "unassigned_face":
            found = review.face_suggestions(library, limit=limit)
        else:
            found = review.repeated_in_photo(library, limit=limit)
    except LibraryError:  # no faces yet
        return []
    if not found:
        return []
    covers = {p.id: p.cover_thumbnail for p in all_people(library)}  # one paged read, not one per person
    items: list[ReviewItem] = []
    if kind == "same_person":
        for pair in found:
            a, b = pair.first, pair.second
            items.append(ReviewItem(
                "same_person", ("pair", a.id, b.id), covers.get(a.id), f"{a.display_name} ({a.face_count})",
                covers.get(b.id), f"{b.display_name} ({b.face_count})",
                f"Are <b>{a.display_name}</b> and <b>{b.display_name}</b> the same person?", person_a=a.id, person_b=b.id,
            ))
        return items
    if kind == "unassigned_face":
        for suggestion in found:
            person = suggestion.person
            items.append(ReviewItem(
                "unassigned_face", ("face", suggestion.face_id, person.id), suggestion.thumbnail, "this face",
                covers.get(person.id), person.display_name, f"Is this face <b>{person.display_name}</b>?",
                person_a=person.id, face_a=suggestion.face_id,
            ))
        return items
    face_ids = [f for r in found for f in r.face_ids[:2]]
    with library.reading() as conn:
        thumbs = dict(conn.execute(
            select(schema.faces.c.id, schema.faces.c.thumbnail).where(schema.faces.c.id.in_(face_ids))).all())

    def thumb(face_id: int) -> Path | None:
        return library.thumbnails_dir / thumbs[face_id] if thumbs.get(face_id) else None

    for item in found:
        first, second = item.face_ids[:2]
        name = item.person.display_name
        items.append(ReviewItem(
            "twice_in_photo", ("twice", item.photo_id, item.person.id, first, second), thumb(first), "left",
            thumb(second), "right",
            f"<b>{name}</b> appears twice in {item.photo_path.name}. Is the <b>left</b> face {name}?",
            person_a=item.person.id, face_a=first, face_b=second,
        ))
    return items
