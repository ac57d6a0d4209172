"""Paged reads for views of large libraries: people, a person's faces, photos, folders, a photo's faces.

Each call reads one page (``offset``, ``limit``) plus the total a scroll bar needs, in one short
read transaction; ``benchmarks/bench_library.py`` times every page on 100,000 faces (target < 50 ms).
Rows are frozen dataclasses; thumbnails are absolute paths in the library's thumbnail folder.
"""

from __future__ import annotations

import os
import weakref
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, Sequence, TypeVar

import numpy as np
from sqlalchemy import Connection, text

from faceme_core.errors import LibraryError
from faceme_core.library.db.codec import vector_size
from faceme_core.library.db.migrations import EMBEDDINGS_GENERATION_KEY, PHOTO_PATHS_GENERATION_KEY
from faceme_core.library.library import Library
from faceme_core.library.people import PersonKey, resolve_person
from faceme_core.library.types import Box, person_label

T = TypeVar("T")

# The people list by default: named people and groups of at least this many faces; the smaller
# unnamed groups (strangers in the background) only when asked for.
DEFAULT_MIN_FACES = 3
MAX_PAGE = 1000
COVER_CANDIDATES = 8  # faces looked at to pick a cover the user did not choose

PeopleSort = Literal["count", "name", "recent"]
FaceOrder = Literal["least_similar", "most_similar", "photo"]
FaceState = Literal["named", "suggested", "unassigned"]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    offset: int
    total: int  # rows matching the filter (all pages)


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str | None
    hidden: bool
    face_count: int
    cover_face_id: int | None  # the chosen cover, else the person's best-quality face
    cover_thumbnail: Path | None
    reference_count: int
    last_assigned_at: float | None  # when a face last joined them ("recent" sorts by this)

    @property
    def display_name(self) -> str:
        return person_label(self.id, self.name)


@dataclass(frozen=True)
class PersonFaceRow:
    face_id: int
    photo_id: int
    photo_path: Path
    box: Box
    quality: float
    thumbnail: Path | None
    assigned_by: Literal["auto", "user"]
    # Cosine similarity to the mean of the person's other faces (None: no embedding, or the only
    # face). The least similar are the likeliest wrong faces.
    similarity: float | None


@dataclass(frozen=True)
class PhotoRow:
    id: int
    path: Path
    status: str  # "ok", "error", "missing"
    size_wh: tuple[int, int] | None
    date_taken: str | None
    face_count: int


@dataclass(frozen=True)
class FolderRow:
    path: Path
    photo_count: int  # photos directly in this folder


@dataclass(frozen=True)
class PhotoFaceRow:
    face_id: int
    box: Box
    quality: float
    thumbnail: Path | None
    # "named": on a person with a name; "suggested": in a group automation made that nobody named
    # yet; "unassigned": on nobody.
    state: FaceState
    person_id: int | None
    person_name: str | None
    assigned_by: Literal["auto", "user"] | None


def _check_page(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"offset {offset}, limit {limit}: expected offset >= 0 and 1 <= limit <= {MAX_PAGE}")


def _thumbnail(folder: Path, name: str | None) -> Path | None:
    return folder / name if name else None


def _in_chunks(conn: Connection, sql: str, ids: Sequence[int], *, first: tuple = ()) -> list:
    """``sql`` with ``{ids}`` standing for a list of ids (after the parameters ``first``), run per
    500 ids (SQLite's parameter limit)."""
    rows: list = []
    for start in range(0, len(ids), 500):
        chunk = [int(i) for i in ids[start : start + 500]]
        rows += conn.exec_driver_sql(sql.format(ids=", ".join("?" * len(chunk))), (*first, *chunk)).all()
    return rows


# --- people ---------------------------------------------------------------------------------------

_PEOPLE_ORDER = {
    "count": "face_count DESC, id",
    "name": "name IS NULL, name COLLATE NOCASE, face_count DESC, id",
    "recent": "last_assigned_at IS NULL, last_assigned_at DESC, id",
}


def people_page(
    library: Library,
    *,
    sort: PeopleSort = "count",
    everyone: bool = False,
    min_faces: int = DEFAULT_MIN_FACES,
    hidden: bool = False,
    search: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Page[PersonRow]:
    """People with their face count and cover. By default the named ones and groups of at least
    ``min_faces`` faces (``everyone=True``: all); ``hidden=True`` lists the hidden people instead of
    the shown ones; ``search`` keeps names containing the text (any case), or the person whose id it is."""
    _check_page(offset, limit)
    if sort not in _PEOPLE_ORDER:
        raise ValueError(f"sort={sort!r}: expected one of {', '.join(_PEOPLE_ORDER)}")
    where = ["hidden = :hidden"]
    params: dict = {"hidden": bool(hidden), "limit": limit, "offset": offset}
    if not everyone:
        where.append("(name IS NOT NULL OR face_count >= :min_faces)")
        params["min_faces"] = min_faces
    if search is not None and search.strip():
        term = search.strip()
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["pattern"] = f"%{escaped}%"
        clause = "name LIKE :pattern ESCAPE '\\'"
        if term.isascii() and term.isdecimal():
            clause = f"({clause} OR id = :search_id)"
            params["search_id"] = int(term) if len(term) < 19 else -1
        where.append(clause)
    # face_count and last_assigned_at are kept by triggers (migration 4): no counting per page.
    selected = f"""
        SELECT id, name, hidden, cover_face_id, face_count, last_assigned_at, count(*) OVER () AS total
        FROM people WHERE {' AND '.join(where)}"""
    thumbnails_dir = library.thumbnails_dir
    with library.reading() as conn:
        rows = conn.execute(
            text(f"{selected} ORDER BY {_PEOPLE_ORDER[sort]} LIMIT :limit OFFSET :offset"), params
        ).all()
        if not rows:  # past the end: the total still tells the view how far it goes
            total = conn.execute(text(f"SELECT count(*) FROM ({selected})"), params).scalar_one() if offset else 0
            return Page(items=(), offset=offset, total=total)
        ids = [row.id for row in rows]
        # A cover nobody chose: the best-quality face among the person's first few (looking at all
        # of them costs a lookup per face, thousands for the people at the top of the list). One
        # statement for the page: a query per person cost more than the lookups.
        unchosen = [row.id for row in rows if row.cover_face_id is None]
        best = dict(
            _in_chunks(
                conn,
                "SELECT p.id, (SELECT f.id FROM faces f WHERE f.id IN "
                f"(SELECT face_id FROM assignments WHERE person_id = p.id LIMIT {COVER_CANDIDATES}) "
                "ORDER BY f.quality DESC, f.id LIMIT 1) FROM people p WHERE p.id IN ({ids})",
                unchosen,
            )
        )
        covers = {row.id: row.cover_face_id if row.cover_face_id is not None else best.get(row.id) for row in rows}
        thumbnails = dict(
            _in_chunks(conn, "SELECT id, thumbnail FROM faces WHERE id IN ({ids})", [c for c in covers.values() if c])
        )
        references = dict(
            _in_chunks(
                conn, "SELECT person_id, count(*) FROM person_refs WHERE person_id IN ({ids}) GROUP BY person_id", ids
            )
        )
    return Page(
        items=tuple(
            PersonRow(
                id=row.id,
                name=row.name,
                hidden=bool(row.hidden),
                face_count=row.face_count,
                cover_face_id=covers[row.id],
                cover_thumbnail=_thumbnail(thumbnails_dir, thumbnails.get(covers[row.id])),
                reference_count=references.get(row.id, 0),
                last_assigned_at=row.last_assigned_at,
            )
            for row in rows
        ),
        offset=offset,
        total=rows[0].total,
    )


# --- a person's faces -----------------------------------------------------------------------------


def person_faces_page(
    library: Library,
    person: PersonKey,
    *,
    order: FaceOrder = "least_similar",
    offset: int = 0,
    limit: int = 200,
) -> Page[PersonFaceRow]:
    """The person's faces with their similarity to the rest of the person, least similar first by
    default (wrong faces come to the top), or most similar first, or by photo path."""
    from faceme_core.library.scan import ACTIVE_MODEL_KEY

    _check_page(offset, limit)
    if order not in ("least_similar", "most_similar", "photo"):
        raise ValueError(f"order={order!r}: expected least_similar, most_similar or photo")
    model_id = library.get_meta(ACTIVE_MODEL_KEY) or ""
    revision = library.revision()
    thumbnails_dir = library.thumbnails_dir
    with library.reading() as conn:
        person_id = resolve_person(conn, person)
        cache = _CACHE.setdefault(library, _QueryCache())
        key = (person_id, model_id, order)
        cached = cache.orders.get(key)
        if cached is not None and cached[0] == revision:
            entries = cached[1]
        else:
            entries = _ordered_faces(conn, cache.vectors_for(conn, model_id), person_id, model_id, order)
            cache.orders.pop(key, None)
            cache.orders[key] = (revision, entries)
            while len(cache.orders) > ORDER_CACHE_SIZE:
                cache.orders.pop(next(iter(cache.orders)))
        ordered_ids, ordered_similarity = entries
        page = [
            (int(face_id), None if np.isnan(value) else float(value))
            for face_id, value in zip(ordered_ids[offset : offset + limit], ordered_similarity[offset : offset + limit])
        ]
        details = {
            row.id: row
            for row in _in_chunks(
                conn,
                "SELECT f.id, f.photo_id, p.path, f.x0, f.y0, f.x1, f.y1, f.quality, f.thumbnail, a.source "
                "FROM faces f JOIN photos p ON p.id = f.photo_id JOIN assignments a ON a.face_id = f.id "
                "WHERE f.id IN ({ids})",
                [face_id for face_id, _similarity in page],
            )
        }
    items = []
    for face_id, value in page:
        row = details[face_id]
        items.append(
            PersonFaceRow(
                face_id=face_id,
                photo_id=row.photo_id,
                photo_path=Path(row.path),
                box=(row.x0, row.y0, row.x1, row.y1),
                quality=row.quality,
                thumbnail=_thumbnail(thumbnails_dir, row.thumbnail),
                assigned_by=row.source,
                similarity=value,
            )
        )
    return Page(items=tuple(items), offset=offset, total=len(ordered_ids))


ORDER_CACHE_SIZE = 8
MAX_CACHED_VECTORS = 200_000


class _QueryCache:
    """What an open library's person pages keep between calls.

    orders: a person's faces in order, per (person, model, order), valid while the library's
        revision stays the same: scrolling a large person's pages reads nothing again.
    vectors: the embeddings read so far (face id -> blob), valid while no embedding was written
        (migration 4's generation counter): after "not this person" or a merge only the person's
        face ids are read again (one index range), not thousands of vectors.
    folders: the folder list, valid while no photo path was written (another generation counter).
    """

    def __init__(self) -> None:
        self.orders: dict[tuple, tuple[int, tuple[np.ndarray, np.ndarray]]] = {}
        self.folders: tuple[str | None, tuple[FolderRow, ...]] | None = None
        self._vectors: dict[str, tuple[str | None, dict[int, bytes | None]]] = {}

    def vectors_for(self, conn: Connection, model_id: str) -> dict[int, bytes | None]:
        generation = _meta_value(conn, EMBEDDINGS_GENERATION_KEY)
        kept = self._vectors.get(model_id)
        if kept is None or kept[0] != generation or len(kept[1]) > MAX_CACHED_VECTORS:
            kept = (generation, {})
            self._vectors = {model_id: kept}
        return kept[1]


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _ordered_faces(
    conn: Connection, vectors: dict, person_id: int, model_id: str, order: FaceOrder
) -> tuple[np.ndarray, np.ndarray]:
    """Every face of the person in the order asked for: (face ids, similarities; NaN where there is
    none). ``vectors`` holds the embeddings read before (face id -> blob or None), still valid: only
    new faces are read. Vectorised: a person may have thousands of faces."""
    face_ids = [row[0] for row in conn.exec_driver_sql(
        "SELECT face_id FROM assignments WHERE person_id = ?", (person_id,)
    ).all()]
    missing = sorted(face_id for face_id in face_ids if face_id not in vectors)
    for face_id in missing:
        vectors[face_id] = None  # no embedding of this model (yet)
    for face_id, blob in _in_chunks(
        conn, f"SELECT face_id, vector FROM embeddings WHERE model_id = ? AND face_id IN ({{ids}})", missing,
        first=(model_id,),
    ):
        vectors[face_id] = blob
    size = vector_size(conn, model_id)  # a damaged blob (another size) counts as no vector
    similarity = _leave_one_out_similarity([vectors[face_id] if vectors[face_id] is not None
                                            and len(vectors[face_id]) == size else None for face_id in face_ids])
    ids = np.asarray(face_ids, dtype=np.int64)
    if order == "photo":
        photo_of = dict(
            conn.exec_driver_sql(
                "SELECT a.face_id, p.path FROM assignments a JOIN faces f ON f.id = a.face_id "
                "JOIN photos p ON p.id = f.photo_id WHERE a.person_id = ?",
                (person_id,),
            ).all()
        )
        ranking = sorted(range(len(face_ids)), key=lambda i: (photo_of[face_ids[i]], face_ids[i]))
    else:
        # Faces without a similarity go last, whichever the direction; ties by face id.
        key = similarity if order == "least_similar" else -similarity
        ranking = np.lexsort((ids, np.where(np.isnan(key), np.inf, key)))
    return ids[ranking], similarity[ranking]


def _leave_one_out_similarity(blobs: list[bytes | None]) -> np.ndarray:
    """Each vector's cosine similarity to the normalised sum of the others (so a group of two
    compares each face with the other, and an outlier does not pull its own reference point); NaN
    for a face without a vector, and for all when fewer than two have one."""
    have = [i for i, blob in enumerate(blobs) if blob is not None]
    result = np.full(len(blobs), np.nan)
    if len(have) < 2:
        return result
    vectors = np.frombuffer(b"".join(blobs[i] for i in have), dtype="<f4").reshape(len(have), -1).astype(np.float64)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    others = vectors.sum(axis=0) - vectors
    norms = np.maximum(np.linalg.norm(others, axis=1), 1e-12)
    result[have] = np.einsum("nd,nd->n", vectors, others) / norms
    return result


# --- photos and folders ---------------------------------------------------------------------------


def photos_page(
    library: Library,
    *,
    folder: Path | str | None = None,
    recursive: bool = True,
    status: str | None = None,
    offset: int = 0,
    limit: int = 200,
) -> Page[PhotoRow]:
    """Photos by path: all, or those in ``folder`` (and its subfolders unless ``recursive=False``),
    optionally only those with ``status`` ("ok", "error", "missing")."""
    _check_page(offset, limit)
    where, params = [], {"limit": limit, "offset": offset}
    if folder is not None:
        prefix = str(Path(folder).expanduser().absolute()).rstrip(os.sep) + os.sep
        # A range on the unique path index: every path that starts with the prefix.
        where.append("path >= :low AND path < :high")
        params.update(low=prefix, high=prefix[:-1] + chr(ord(os.sep) + 1))
        if not recursive:
            where.append("instr(substr(path, :after), :sep) = 0")
            params.update(after=len(prefix) + 1, sep=os.sep)
    if status is not None:
        where.append("status = :status")
        params["status"] = status
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    with library.reading() as conn:
        total = conn.execute(text(f"SELECT count(*) FROM photos {condition}"), params).scalar_one()
        rows = conn.execute(
            text(
                "SELECT id, path, status, width, height, date_taken FROM photos "
                f"{condition} ORDER BY path LIMIT :limit OFFSET :offset"
            ),
            params,
        ).all()
        counts = dict(
            _in_chunks(
                conn,
                "SELECT photo_id, count(*) FROM faces WHERE photo_id IN ({ids}) GROUP BY photo_id",
                [row.id for row in rows],
            )
        )
    return Page(items=tuple(_photo_row(row, counts.get(row.id, 0)) for row in rows), offset=offset, total=total)


def get_photo(library: Library, photo_id: int) -> PhotoRow:
    with library.reading() as conn:
        row = conn.execute(
            text("SELECT id, path, status, width, height, date_taken FROM photos WHERE id = :id"), {"id": photo_id}
        ).one_or_none()
        if row is None:
            raise LibraryError(f"no photo with id {photo_id}")
        count = conn.execute(text("SELECT count(*) FROM faces WHERE photo_id = :id"), {"id": photo_id}).scalar_one()
    return _photo_row(row, count)


def _photo_row(row, face_count: int) -> PhotoRow:
    return PhotoRow(
        id=row.id,
        path=Path(row.path),
        status=row.status,
        size_wh=(row.width, row.height) if row.width else None,
        date_taken=row.date_taken,
        face_count=face_count,
    )


def folders(library: Library) -> list[FolderRow]:
    """Every folder that directly holds photos, by path, with how many (kept until a photo is
    added, removed or moved: migration 4's generation counter)."""
    cache = _CACHE.setdefault(library, _QueryCache())
    with library.reading() as conn:
        generation = _meta_value(conn, PHOTO_PATHS_GENERATION_KEY)
        if cache.folders is not None and cache.folders[0] == generation:
            return list(cache.folders[1])
        # rtrim(path, <every character of path but the separator>) keeps "folder/": SQLite groups,
        # Python never sees the 10,000 paths.
        rows = conn.exec_driver_sql(
            "SELECT rtrim(path, replace(path, ?, '')) AS folder, count(*) FROM photos GROUP BY folder", (os.sep,)
        ).all()
    counts = Counter()
    for folder, count in rows:
        counts[folder.rstrip(os.sep) or os.sep] += count
    listing = [FolderRow(path=Path(folder), photo_count=count) for folder, count in sorted(counts.items())]
    cache.folders = (generation, tuple(listing))
    return listing


def _meta_value(conn: Connection, key: str) -> str | None:
    return conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (key,)).scalar_one_or_none()


def photo_faces(library: Library, photo_id: int) -> list[PhotoFaceRow]:
    """The faces of one photo, left to right, with their state and person (for boxes on the photo)."""
    thumbnails_dir = library.thumbnails_dir
    with library.reading() as conn:
        rows = conn.execute(
            text(
                "SELECT f.id, f.x0, f.y0, f.x1, f.y1, f.quality, f.thumbnail, a.person_id, a.source, p.name "
                "FROM faces f LEFT JOIN assignments a ON a.face_id = f.id LEFT JOIN people p ON p.id = a.person_id "
                "WHERE f.photo_id = :photo ORDER BY f.x0, f.y0, f.id"
            ),
            {"photo": photo_id},
        ).all()
    return [
        PhotoFaceRow(
            face_id=row.id,
            box=(row.x0, row.y0, row.x1, row.y1),
            quality=row.quality,
            thumbnail=_thumbnail(thumbnails_dir, row.thumbnail),
            state="unassigned" if row.person_id is None else ("named" if row.name else "suggested"),
            person_id=row.person_id,
            person_name=row.name,
            assigned_by=row.source,
        )
        for row in rows
    ]
