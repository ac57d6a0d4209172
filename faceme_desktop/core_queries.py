"""Read-only queries the GUI needs that ``faceme_core`` does not offer yet.

Each function has the exact signature the views need and returns frozen rows; none writes. They are
stand-ins for the library API built on the ``library`` branch (paged people/photos queries, face
similarity) and are to be replaced by it. No Qt here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sqlalchemy import case, func, select

from faceme_core.library.db import schema
from faceme_core.library.db.codec import blob_to_vector
from faceme_core.library.library import Library
from faceme_core.library.types import Box

FaceState = Literal["named", "suggested", "unassigned"]


@dataclass(frozen=True)
class PhotoRow:
    id: int
    path: Path
    status: str
    face_count: int


@dataclass(frozen=True)
class FolderRow:
    path: Path
    photo_count: int


@dataclass(frozen=True)
class FaceBox:
    face_id: int
    box: Box
    person_id: int | None
    person_name: str | None  # display name ("person 7" when unnamed); None when unassigned
    state: FaceState  # named: the user's decision; suggested: automatic grouping; unassigned


@dataclass(frozen=True)
class PersonSummary:
    id: int
    name: str | None
    hidden: bool
    face_count: int
    reference_count: int
    cover_thumbnail: Path | None  # the chosen cover, else the best-quality face
    last_assigned_at: float  # for "recent" sorting

    @property
    def display_name(self) -> str:
        return self.name if self.name else f"person {self.id}"


@dataclass(frozen=True)
class PersonFace:
    face_id: int
    photo_id: int
    photo_path: Path
    thumbnail: Path | None
    quality: float
    assigned_by: str
    similarity: float | None  # to the person's mean face; None without an embedding

    @property
    def id(self) -> int:  # list models address rows by ``id``
        return self.face_id


def list_photo_rows(library: Library, folder: Path | None = None) -> list[PhotoRow]:
    """Photos by path (all, or those directly in ``folder``), with their number of faces."""
    photos, faces = schema.photos, schema.faces
    counts = select(faces.c.photo_id, func.count().label("n")).group_by(faces.c.photo_id).subquery()
    query = (
        select(photos.c.id, photos.c.path, photos.c.status, func.coalesce(counts.c.n, 0))
        .join(counts, counts.c.photo_id == photos.c.id, isouter=True)
        .order_by(photos.c.path)
    )
    if folder is not None:
        prefix = os.path.join(str(folder), "")
        query = query.where(photos.c.path.startswith(prefix, autoescape=True))
    with library.reading() as conn:
        rows = conn.execute(query).all()
    result = [PhotoRow(row[0], Path(row[1]), row[2], row[3]) for row in rows]
    if folder is not None:  # only the folder itself, not its subfolders
        result = [row for row in result if row.path.parent == folder]
    return result


def list_folders(library: Library) -> list[FolderRow]:
    """Every folder holding photos, with how many, by path."""
    with library.reading() as conn:
        paths = conn.execute(select(schema.photos.c.path)).scalars().all()
    counts: dict[str, int] = {}
    for path in paths:
        folder = os.path.dirname(path)
        counts[folder] = counts.get(folder, 0) + 1
    return [FolderRow(Path(folder), n) for folder, n in sorted(counts.items())]


def photo_face_boxes(library: Library, photo_id: int) -> list[FaceBox]:
    faces, assignments, people = schema.faces, schema.assignments, schema.people
    query = (
        select(faces.c.id, faces.c.x0, faces.c.y0, faces.c.x1, faces.c.y1, people.c.id, people.c.name, assignments.c.source)
        .join(assignments, assignments.c.face_id == faces.c.id, isouter=True)
        .join(people, people.c.id == assignments.c.person_id, isouter=True)
        .where(faces.c.photo_id == photo_id)
        .order_by(faces.c.x0)
    )
    with library.reading() as conn:
        rows = conn.execute(query).all()
    boxes = []
    for face_id, x0, y0, x1, y1, person_id, name, source in rows:
        if person_id is None:
            state: FaceState = "unassigned"
            label = None
        else:
            state = "named" if source == "user" else "suggested"
            label = name or f"person {person_id}"
        boxes.append(FaceBox(face_id, (x0, y0, x1, y1), person_id, label, state))
    return boxes


def people_summaries(library: Library, include_hidden: bool = False) -> list[PersonSummary]:
    """Every person with counts and a cover, in one aggregate query (no per-face rows)."""
    people, assignments, faces, refs = schema.people, schema.assignments, schema.faces, schema.person_refs
    per_person = (
        select(
            assignments.c.person_id,
            func.count().label("n"),
            func.max(assignments.c.assigned_at).label("last"),
        )
        .group_by(assignments.c.person_id)
        .subquery()
    )
    ref_counts = select(refs.c.person_id, func.count().label("n")).group_by(refs.c.person_id).subquery()
    # Best-quality face per person: SQLite returns the bare column of the row holding max().
    best = (
        select(assignments.c.person_id, faces.c.thumbnail, func.max(faces.c.quality))
        .join(faces, faces.c.id == assignments.c.face_id)
        .group_by(assignments.c.person_id)
        .subquery()
    )
    cover = faces.alias("cover")
    query = (
        select(
            people.c.id,
            people.c.name,
            people.c.hidden,
            func.coalesce(per_person.c.n, 0),
            func.coalesce(ref_counts.c.n, 0),
            case((cover.c.thumbnail.is_not(None), cover.c.thumbnail), else_=best.c.thumbnail),
            func.coalesce(per_person.c.last, people.c.created_at),
        )
        .join(per_person, per_person.c.person_id == people.c.id, isouter=True)
        .join(ref_counts, ref_counts.c.person_id == people.c.id, isouter=True)
        .join(best, best.c.person_id == people.c.id, isouter=True)
        .join(cover, cover.c.id == people.c.cover_face_id, isouter=True)
        .order_by(people.c.id)
    )
    if not include_hidden:
        query = query.where(people.c.hidden.is_(False))
    with library.reading() as conn:
        rows = conn.execute(query).all()
    folder = library.thumbnails_dir
    return [
        PersonSummary(id, name, bool(hidden), n, refs_n, folder / thumb if thumb else None, float(last))
        for id, name, hidden, n, refs_n, thumb, last in rows
    ]


def person_faces_least_similar_first(library: Library, person_id: int) -> list[PersonFace]:
    """A person's faces, those least like the person's mean face first (wrong faces show up on top)."""
    from faceme_core.library.scan import ACTIVE_MODEL_KEY

    model_id = library.get_meta(ACTIVE_MODEL_KEY)
    faces, photos, assignments, embeddings = schema.faces, schema.photos, schema.assignments, schema.embeddings
    query = (
        select(
            faces.c.id,
            faces.c.photo_id,
            photos.c.path,
            faces.c.thumbnail,
            faces.c.quality,
            assignments.c.source,
            embeddings.c.vector,
        )
        .join(assignments, assignments.c.face_id == faces.c.id)
        .join(photos, photos.c.id == faces.c.photo_id)
        .join(embeddings, (embeddings.c.face_id == faces.c.id) & (embeddings.c.model_id == model_id), isouter=True)
        .where(assignments.c.person_id == person_id)
        .order_by(faces.c.id)
    )
    with library.reading() as conn:
        rows = conn.execute(query).all()
    vectors = {row.id: blob_to_vector(row.vector) for row in rows if row.vector is not None}
    similarity: dict[int, float] = {}
    if vectors:
        mean = np.mean(np.stack(list(vectors.values())), axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        similarity = {face_id: float(np.dot(vector, mean)) for face_id, vector in vectors.items()}
    folder = library.thumbnails_dir
    result = [
        PersonFace(
            row.id,
            row.photo_id,
            Path(row.path),
            folder / row.thumbnail if row.thumbnail else None,
            row.quality,
            row.source,
            similarity.get(row.id),
        )
        for row in rows
    ]
    return sorted(result, key=lambda face: (face.similarity if face.similarity is not None else 2.0, face.face_id))


@dataclass(frozen=True)
class PhotoDetail:
    id: int
    path: Path
    size_wh: tuple[int, int] | None  # the pixels the boxes refer to
    boxes: tuple[FaceBox, ...]


def photo_detail(library: Library, photo_id: int) -> PhotoDetail:
    photos = schema.photos
    with library.reading() as conn:
        row = conn.execute(
            select(photos.c.path, photos.c.width, photos.c.height).where(photos.c.id == photo_id)
        ).one()
    size = (row.width, row.height) if row.width else None
    return PhotoDetail(photo_id, Path(row.path), size, tuple(photo_face_boxes(library, photo_id)))


def person_names(library: Library) -> list[str]:
    """Names of named people, for the completer."""
    with library.reading() as conn:
        names = conn.execute(select(schema.people.c.name).where(schema.people.c.name.is_not(None))).scalars().all()
    return sorted(set(names), key=str.lower)


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
    from faceme_core.library.references import QUALITY_FLOOR, list_references, suggest_references

    references = list_references(library, person_id)
    suggestions = suggest_references(library, person_id, count=3)
    face_ids = [r.face_id for r in references if r.face_id is not None] + [s.face_id for s in suggestions]
    faces = schema.faces
    with library.reading() as conn:
        rows = {
            row.id: row
            for row in conn.execute(select(faces.c.id, faces.c.thumbnail, faces.c.quality).where(faces.c.id.in_(face_ids)))
        }
    folder = library.thumbnails_dir

    def thumb(face_id: int) -> Path | None:
        row = rows.get(face_id)
        return folder / row.thumbnail if row is not None and row.thumbnail else None

    cards = tuple(
        ReferenceCard(
            r.id,
            r.kind,
            thumb(r.face_id) if r.face_id is not None else r.file_path,
            rows[r.face_id].quality if r.face_id in rows else None,
            r.readable_now(),
        )
        for r in references
    )
    good = sum(1 for c in cards if c.readable and (c.quality is None or c.quality >= QUALITY_FLOOR))
    return PersonReferences(
        person_id,
        cards,
        tuple(SuggestionCard(s.face_id, thumb(s.face_id), s.quality) for s in suggestions),
        good,
    )


def person_summary(library: Library, person_id: int) -> PersonSummary | None:
    return next((p for p in people_summaries(library, include_hidden=True) if p.id == person_id), None)


def album_folders(library: Library) -> list[Path]:
    """The folders the user added (what a re-scan or re-embed scans again)."""
    with library.reading() as conn:
        return [Path(p) for p in conn.execute(select(schema.albums.c.path).order_by(schema.albums.c.path)).scalars()]


def photo_count(library: Library) -> int:
    with library.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.photos)).scalar_one())


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


# --- review queues (stand-in for library/review.py) ----------------------------------------------

ReviewKind = Literal["same_person", "unassigned_face", "twice_in_photo"]


@dataclass(frozen=True)
class ReviewItem:
    kind: ReviewKind
    key: tuple  # identifies the question (skipped ones are not asked again this session)
    left_image: Path | None
    left_caption: str
    right_image: Path | None
    right_caption: str
    person_a: int | None = None  # same_person: the survivor of "yes"; unassigned_face: the suggestion
    person_b: int | None = None  # same_person: merged into person_a on "yes"
    face_a: int | None = None  # unassigned_face: the face; twice_in_photo: the left face
    face_b: int | None = None  # twice_in_photo: the right face
    similarity: float | None = None


def _centroids(conn, model_id: str) -> dict[int, np.ndarray]:
    assignments, embeddings = schema.assignments, schema.embeddings
    rows = conn.execute(
        select(assignments.c.person_id, embeddings.c.vector)
        .join(embeddings, (embeddings.c.face_id == assignments.c.face_id) & (embeddings.c.model_id == model_id))
    ).all()
    groups: dict[int, list[np.ndarray]] = {}
    for person_id, blob in rows:
        groups.setdefault(person_id, []).append(blob_to_vector(blob))
    centroids = {}
    for person_id, vectors in groups.items():
        mean = np.mean(np.stack(vectors), axis=0)
        centroids[person_id] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return centroids


def review_items(library: Library, limit: int = 30) -> list[ReviewItem]:
    """Questions worth one keystroke each: groups that may be one person, unknown faces with a likely
    person, and photos where one person appears twice (one of the two is someone else)."""
    from faceme_core.library.clustering import params_for_model
    from faceme_core.library.scan import ACTIVE_MODEL_KEY

    model_id = library.get_meta(ACTIVE_MODEL_KEY)
    if model_id is None:
        return []
    try:
        join = params_for_model(model_id).join_similarity
    except ValueError:
        return []
    floor = join * 0.9  # "close to the join threshold"
    people = {p.id: p for p in people_summaries(library, include_hidden=False)}
    faces, assignments, embeddings, rejections = schema.faces, schema.assignments, schema.embeddings, schema.rejections
    folder = library.thumbnails_dir
    items: list[ReviewItem] = []
    with library.reading() as conn:
        centroids = {k: v for k, v in _centroids(conn, model_id).items() if k in people}
        ids = sorted(centroids)
        if len(ids) > 1:
            matrix = np.stack([centroids[i] for i in ids])
            sims = matrix @ matrix.T
            pairs = [(float(sims[a, b]), ids[a], ids[b]) for a in range(len(ids)) for b in range(a + 1, len(ids)) if sims[a, b] >= floor]
            for similarity, a, b in sorted(pairs, reverse=True)[:limit]:
                keep, merge = sorted([people[a], people[b]], key=lambda p: (p.name is None, -p.face_count, p.id))
                items.append(ReviewItem(
                    "same_person", ("pair", keep.id, merge.id), keep.cover_thumbnail,
                    f"{keep.display_name} ({keep.face_count})", merge.cover_thumbnail,
                    f"{merge.display_name} ({merge.face_count})", person_a=keep.id, person_b=merge.id, similarity=similarity,
                ))
        unassigned = conn.execute(
            select(faces.c.id, faces.c.thumbnail, embeddings.c.vector)
            .join(embeddings, (embeddings.c.face_id == faces.c.id) & (embeddings.c.model_id == model_id))
            .where(faces.c.id.not_in(select(assignments.c.face_id)))
        ).all()
        rejected = set(conn.execute(select(rejections.c.face_id, rejections.c.person_id)).all())
        twice = conn.execute(
            select(faces.c.photo_id, assignments.c.person_id, func.min(faces.c.id), func.max(faces.c.id))
            .join(assignments, assignments.c.face_id == faces.c.id)
            .group_by(faces.c.photo_id, assignments.c.person_id)
            .having(func.count() > 1)
        ).all()
        thumbs = dict(conn.execute(select(faces.c.id, faces.c.thumbnail).where(
            faces.c.id.in_([r[2] for r in twice] + [r[3] for r in twice]))).all())
    if centroids:
        ids = sorted(centroids)
        matrix = np.stack([centroids[i] for i in ids])
        suggestions = []
        for face_id, thumb, blob in unassigned:
            scores = matrix @ blob_to_vector(blob)
            for index in np.argsort(-scores):
                if (face_id, ids[index]) not in rejected:
                    if scores[index] >= floor:
                        suggestions.append((float(scores[index]), face_id, thumb, ids[index]))
                    break
        for similarity, face_id, thumb, person_id in sorted(suggestions, reverse=True)[:limit]:
            person = people[person_id]
            items.append(ReviewItem(
                "unassigned_face", ("face", face_id, person_id), folder / thumb if thumb else None, "this face",
                person.cover_thumbnail, person.display_name, person_a=person_id, face_a=face_id, similarity=similarity,
            ))
    for photo_id, person_id, first, second in twice[:limit]:
        if person_id not in people:
            continue
        name = people[person_id].display_name
        items.append(ReviewItem(
            "twice_in_photo", ("twice", photo_id, person_id, first, second),
            folder / thumbs[first] if thumbs.get(first) else None, f"left: {name}?",
            folder / thumbs[second] if thumbs.get(second) else None, f"right: {name}?",
            person_a=person_id, face_a=first, face_b=second,
        ))
    return items
