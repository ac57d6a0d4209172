"""`faceme scan`: find the photos under album folders, analyse new ones, group their faces into people.

Steps: 1. register the album folders; 2. one ``os.scandir`` walk plus one SELECT sort files into
unchanged (same size and mtime: nothing else happens) and to-do; 3. each to-do photo is hashed,
recognised as moved (same content at a new path: keeps its faces, people, references) or analysed,
and committed on its own, so a killed scan loses at most the photo in progress and a re-run finishes
the job; an edited photo keeps the faces found again where they were (with every decision about
them); 4. photos no longer on disk are marked missing (never forgotten); 5. faces of present photos
under the scanned folders lacking an embedding of the analyzer's model get one (all of them with
``reembed``, after which the library switches to that model); a meta flag skips this step's query
once every face has one; 6. new faces join people.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

from sqlalchemy import Connection, and_, delete, insert, select, update

from faceme_core.errors import FaceMeError, LibraryError
from faceme_core.faces.types import Detection, Embedding, Face, PhotoFaces
from faceme_core.image_types import Photo
from faceme_core.library import clustering, grouping, thumbnails
from faceme_core.library.albums import check_folders, check_not_output_folders, is_under, output_dirs, register_albums
from faceme_core.library.db import schema
from faceme_core.library.db.codec import blob_to_points, blob_to_vector, points_to_blob, vector_to_blob
from faceme_core.library.eta import EtaClock
from faceme_core.library.face_match import match_faces
from faceme_core.library.library import Library, set_meta
from faceme_core.library.types import ScanProgress, ScanSummary
from faceme_core.library.walk import FileEntry, WalkProblem, walk_photos

log = logging.getLogger(__name__)

ACTIVE_MODEL_KEY = "embedding_model"  # meta key: the model whose embeddings people are grouped by
# meta key: set with every commit that adds faces, cleared by the grouping that follows; a scan killed
# in between groups on its next run even when it finds nothing new, and an idle re-scan skips grouping.
GROUPING_PENDING_KEY = "grouping_pending"
# meta key: a model id when every face of a present ("ok") photo has an embedding of that model, so a
# scan with that model skips looking for faces without one; cleared ("") by every commit that may
# break it (faces written with another model, a photo back from missing).
EMBEDDINGS_COMPLETE_KEY = "embeddings_complete"
_HASH_CHUNK = 1 << 20


class EmbeddingBackend(Protocol):
    def embed(self, rgb, detection: Detection) -> Embedding: ...


class Analyzer(Protocol):
    """What scanning needs from ``faceme_core.faces.analyzer.FaceAnalyzer``."""

    name: str
    embedding_model_id: str
    backend: EmbeddingBackend

    def analyze(self, photo: Photo) -> PhotoFaces: ...


@dataclass(frozen=True)
class _Analysed:
    width: int
    height: int
    format: str | None
    date_taken: str | None
    faces: list[tuple[Face, str]]  # (face, thumbnail name)
    skipped: int


@dataclass
class _Counts:
    unchanged: int = 0
    added: int = 0
    changed: int = 0
    moved: int = 0
    missing: int = 0
    failed: int = 0
    faces_added: int = 0
    reembedded: int = 0
    people_created: int = 0
    outputs: int = 0
    cancelled: bool = False
    failures: list = field(default_factory=list)

    def fail(self, path: str, error: str) -> None:
        self.failed += 1
        self.failures.append((Path(path), error))


def content_hash(path: str) -> str:
    """BLAKE2b-128 of the file's bytes: recognises a photo after a move or rename."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan_folders(
    library: Library,
    folders: Iterable[Path | str],
    analyzer: Analyzer,
    *,
    reembed: bool = False,
    progress: Callable[[ScanProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ScanSummary:
    """Scan album folders into the library; see the module docstring. Safe to kill at any moment."""
    from faceme_core import imageio

    started = time.monotonic()
    counts = _Counts()
    notify = progress or (lambda _progress: None)
    stop = should_stop or (lambda: False)

    # 1. album folders, and the model people are grouped by
    roots = check_folders(folders)
    model_id = analyzer.embedding_model_id
    active = library.get_meta(ACTIVE_MODEL_KEY)
    if active is not None and active != model_id and not reembed:
        raise LibraryError(
            f"this library's faces were grouped with the {active} embedding model but the available face "
            f"analyzer uses {model_id}", setting="reembed",
            hint="rescan with re-embedding to switch (your people, names and decisions are kept)", action="reembed",
        )
    with library.transaction() as conn:
        outputs = output_dirs(conn)
        check_not_output_folders(roots, outputs)  # before registering: an output folder is no album
        album_of_root = register_albums(conn, roots)
        if active is None:
            set_meta(conn, ACTIVE_MODEL_KEY, model_id)
        skip_dirs = outputs + [str(library.thumbnails_dir)]

    # 2. one walk and one SELECT: unchanged files cost nothing more
    notify(ScanProgress("walking", 0, 0, 0, None, None))
    entries: list[tuple[FileEntry, int]] = []
    problems: list[WalkProblem] = []
    skipped: list[str] = []
    for root in roots:
        album_id = album_of_root[root]
        walk = walk_photos(root, imageio.SUPPORTED_SUFFIXES, skip_dirs=skip_dirs, problems=problems, skipped=skipped)
        entries += [(entry, album_id) for entry in walk]
    thumbnails_dir = os.path.normcase(str(library.thumbnails_dir))
    output_folders = tuple(Path(p) for p in dict.fromkeys(skipped) if os.path.normcase(p) != thumbnails_dir)
    # Unreadable folders and dangling links are reported, not recorded: there is no photo to keep.
    counts.failures += [(Path(problem.path), problem.error) for problem in problems]
    with library.reading() as conn:
        known = {
            row.path: row
            for row in conn.execute(
                select(
                    schema.photos.c.path,
                    schema.photos.c.id,
                    schema.photos.c.size,
                    schema.photos.c.mtime_ns,
                    schema.photos.c.status,
                )
            )
        }
    seen = set()
    todo: list[tuple[FileEntry, int]] = []
    for entry, album_id in entries:
        if entry.path in seen:  # reached twice (e.g. through a link into another root): one photo
            continue
        seen.add(entry.path)
        row = known.get(entry.path)
        if row is not None and row.size == entry.size and row.mtime_ns == entry.mtime_ns and row.status != "missing":
            counts.unchanged += 1
        elif row is None and imageio.is_faceme_output(entry.path):
            counts.outputs += 1  # a restored copy someone put in the album: never an original
        else:
            todo.append((entry, album_id))
    vanished = {
        path: row.id
        for path, row in known.items()
        if row.status != "missing" and path not in seen and any(is_under(path, root) for root in roots)
    }

    # 3. each new, changed or moved photo in its own transaction
    eta = EtaClock(len(todo))
    for index, (entry, album_id) in enumerate(todo):
        if stop():
            counts.cancelled = True
            break
        notify(ScanProgress("analysing", index, len(todo), counts.failed, Path(entry.path), eta.eta(index)))
        _scan_one(library, analyzer, entry, album_id, known.get(entry.path), vanished, counts)
    notify(ScanProgress("analysing", len(todo), len(todo), counts.failed, None, 0.0))

    if not counts.cancelled:
        # 4. whatever was not found is missing (kept with its people and references)
        _mark_missing(library, vanished, counts)
        # 5. embeddings for a new model, then switch to it without losing any user decision. Run on
        # every scan: photos that were missing during a --reembed get theirs once they are back.
        _embed_faces_without_model(library, analyzer, roots, counts, notify, stop)
        switch_model = reembed and active is not None and active != model_id
        if not counts.cancelled and (switch_model or library.get_meta(GROUPING_PENDING_KEY) == "1"):
            # 6. new faces join the nearest person, or form new people
            notify(ScanProgress("grouping", 0, 1, counts.failed, None, None))
            with library.transaction() as conn:
                if switch_model:
                    set_meta(conn, ACTIVE_MODEL_KEY, model_id)
                    counts.people_created += grouping.recluster_all(conn, model_id)
                counts.people_created += grouping.assign_new_faces(conn, model_id)
                set_meta(conn, GROUPING_PENDING_KEY, "0")
            notify(ScanProgress("grouping", 1, 1, counts.failed, None, 0.0))

    return ScanSummary(
        found=len(entries) - counts.outputs,
        outputs_skipped=counts.outputs,
        unchanged=counts.unchanged,
        added=counts.added,
        changed=counts.changed,
        moved=counts.moved,
        missing=counts.missing,
        failed=counts.failed,
        failures=tuple(counts.failures),
        faces_added=counts.faces_added,
        reembedded=counts.reembedded,
        people_created=counts.people_created,
        cancelled=counts.cancelled,
        seconds=time.monotonic() - started,
        output_folders_skipped=output_folders,
    )


def _scan_one(
    library: Library,
    analyzer: Analyzer,
    entry: FileEntry,
    album_id: int,
    known_row,
    vanished: dict[str, int],
    counts: _Counts,
) -> None:
    photos = schema.photos
    try:
        digest = content_hash(entry.path)
    except OSError as error:
        message = f"cannot read the file: {error.strerror or error}"
        _record_failure(library, entry, album_id, known_row, None, message)
        counts.fail(entry.path, message)
        return
    stat_values = dict(size=entry.size, mtime_ns=entry.mtime_ns, album_id=album_id, scanned_at=time.time())

    with library.reading() as conn:
        previous = (
            conn.execute(select(photos).where(photos.c.id == known_row.id)).one() if known_row is not None else None
        )
    # A missing photo's path now holds other bytes: a new photo. The missing one keeps its faces,
    # people and references (until the user forgets missing photos) under a retired path, and is
    # still recognised by its hash if it turns up elsewhere.
    retired = None
    if previous is not None and previous.status == "missing" and previous.content_hash != digest:
        retired, previous = previous, None
    with library.reading() as conn:
        moved_from = None if previous is not None else _find_moved(conn, digest)

    # Same bytes as what the library holds: only the file's size/mtime/place changed.
    if previous is not None and previous.content_hash == digest and previous.error is None:
        with library.transaction() as conn:
            conn.execute(update(photos).where(photos.c.id == previous.id).values(status="ok", **stat_values))
            if previous.status == "missing":
                _embeddings_maybe_incomplete(conn)
        counts.unchanged += 1
        return
    if moved_from is not None:
        with library.transaction() as conn:
            _retire_path(conn, retired)
            conn.execute(
                update(photos).where(photos.c.id == moved_from.id).values(path=entry.path, status="ok", **stat_values)
            )
            if moved_from.status != "ok":
                _embeddings_maybe_incomplete(conn)
        vanished.pop(moved_from.path, None)
        counts.moved += 1
        return

    analysed, error = _analyse(entry.path, analyzer, digest, library.thumbnails_dir)
    if analysed is None:
        _record_failure(library, entry, album_id, previous, digest, error, retired=retired)
        counts.fail(entry.path, error)
        return
    values = dict(
        content_hash=digest,
        width=analysed.width,
        height=analysed.height,
        format=analysed.format,
        date_taken=analysed.date_taken,
        status="ok",
        error=None,
        skipped_faces=analysed.skipped,
        analyzer=analyzer.name,
        **stat_values,
    )
    with library.transaction() as conn:
        _retire_path(conn, retired)
        old_thumbnails: list[str] = []
        if previous is not None:  # new content at a known path (an edit): keep the faces found again
            conn.execute(update(photos).where(photos.c.id == previous.id).values(**values))
            old_size = (previous.width, previous.height) if previous.width and previous.height else None
            old_thumbnails, added = update_faces(
                conn, previous.id, analysed.faces, old_size=old_size, new_size=(analysed.width, analysed.height)
            )
        else:
            photo_id = conn.execute(insert(photos).values(path=entry.path, **values)).inserted_primary_key[0]
            added = len(insert_faces(conn, photo_id, analysed.faces))
        if added:
            set_meta(conn, GROUPING_PENDING_KEY, "1")
        if analysed.faces:
            _embeddings_maybe_incomplete(conn, analyzer.embedding_model_id)
        unused = unused_thumbnails(conn, old_thumbnails)
    thumbnails.remove_thumbnails(library.thumbnails_dir, unused)  # after the commit: a kill leaves only strays
    counts.faces_added += added
    if previous is not None:
        counts.changed += 1
    else:
        counts.added += 1


def retired_path(path: str, photo_id: int) -> str:
    """The recorded path of a missing photo whose path a different file took (paths are unique)."""
    return f"{path} (missing photo {photo_id}: another file now has its name)"


def _retire_path(conn: Connection, row) -> None:
    if row is not None:
        conn.execute(
            update(schema.photos).where(schema.photos.c.id == row.id).values(path=retired_path(row.path, row.id))
        )


def _embeddings_maybe_incomplete(conn: Connection, written_model: str | None = None) -> None:
    """Clear the "every face has an embedding of model X" flag, unless the faces just written carry
    an embedding of X (``written_model``); a photo back from missing clears it outright."""
    flag = schema.meta.c
    current = conn.execute(select(flag.value).where(flag.key == EMBEDDINGS_COMPLETE_KEY)).scalar_one_or_none()
    if current and current != written_model:
        set_meta(conn, EMBEDDINGS_COMPLETE_KEY, "")


def _find_moved(conn: Connection, digest: str):
    """A photo with these bytes whose recorded path no longer exists: the same photo, moved. Any
    such row counts, even one in a folder this scan does not cover (moved between albums and only
    the destination scanned); rows already marked missing first. A row not marked missing counts
    only when its album folder is reachable: in an album whose drive is unplugged every path is
    gone, and a copy of one of its photos elsewhere must not take that photo away."""
    photos, albums = schema.photos, schema.albums
    candidates = conn.execute(
        select(photos.c.id, photos.c.path, photos.c.status, albums.c.path.label("album_path"))
        .join(albums, albums.c.id == photos.c.album_id)
        .where(and_(photos.c.content_hash == digest, photos.c.error.is_(None)))
        .order_by(photos.c.status != "missing", photos.c.id)
    ).all()
    for row in candidates:
        if os.path.exists(row.path):
            continue
        if row.status == "missing" or os.path.isdir(row.album_path):
            return row
    return None


def _analyse(path: str, analyzer: Analyzer, digest: str, thumbnails_dir: Path) -> tuple[_Analysed | None, str]:
    from faceme_core import imageio

    try:
        info = imageio.probe_photo(path)
        photo = imageio.load_photo(path)
        found = analyzer.analyze(photo)
        rgb = photo.rgb8()
        faces = []
        for index, face in enumerate(found.faces):
            name = thumbnails.thumbnail_name(digest, index)
            thumbnails.write_thumbnail(thumbnails_dir, name, thumbnails.face_thumbnail(rgb, face.box))
            faces.append((face, name))
    except FaceMeError as error:
        return None, str(error)
    except Exception as error:  # a bad file must not stop the scan; keep the detail for the user
        log.warning("scan: %s failed", path, exc_info=True)
        return None, f"{type(error).__name__}: {error}"
    date_taken = info.date_taken.isoformat() if hasattr(info.date_taken, "isoformat") else info.date_taken
    width, height = photo.size_wh
    return _Analysed(width, height, info.format, date_taken, faces, len(found.skipped)), ""


def thumbnails_of(conn: Connection, photo_ids: Sequence[int]) -> list[str]:
    faces = schema.faces
    return [
        name
        for name in conn.execute(select(faces.c.thumbnail).where(faces.c.photo_id.in_(photo_ids))).scalars()
        if name
    ]


def unused_thumbnails(conn: Connection, names: Sequence[str]) -> list[str]:
    """The thumbnails no face uses any more (identical photos at two paths share theirs)."""
    used: set[str] = set()
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        used |= set(conn.execute(select(schema.faces.c.thumbnail).where(schema.faces.c.thumbnail.in_(chunk))).scalars())
    return [name for name in names if name not in used]


def _face_values(face: Face, thumbnail: str | None) -> dict:
    x0, y0, x1, y1 = (float(v) for v in face.box)
    return dict(
        x0=x0,
        y0=y0,
        x1=x1,
        y1=y1,
        points=points_to_blob(face.points),
        score=float(face.score),
        quality=float(face.quality),
        thumbnail=thumbnail,
    )


def _insert_embedding(conn: Connection, face_id: int, embedding: Embedding) -> None:
    conn.execute(
        insert(schema.embeddings).values(
            face_id=face_id, model_id=embedding.model_id, vector=vector_to_blob(embedding.vector)
        )
    )


def insert_faces(conn: Connection, photo_id: int, faces: Sequence[tuple[Face, str | None]]) -> list[int]:
    ids = []
    for face, thumbnail in faces:
        face_id = conn.execute(
            insert(schema.faces).values(photo_id=photo_id, **_face_values(face, thumbnail))
        ).inserted_primary_key[0]
        _insert_embedding(conn, face_id, face.embedding)
        ids.append(face_id)
    return ids


def _same_face_similarity(model_id: str) -> float | None:
    """How similar an edited face's embedding must stay to count as the same face: the model's
    grouping threshold (None for a model without documented thresholds: boxes decide alone)."""
    try:
        return clustering.params_for_model(model_id).join_similarity
    except ValueError:
        return None


def update_faces(
    conn: Connection,
    photo_id: int,
    new_faces: Sequence[tuple[Face, str | None]],
    *,
    old_size: tuple[int, int] | None = None,
    new_size: tuple[int, int] | None = None,
) -> tuple[list[str], int]:
    """An edited photo's faces. A face found again (where an old one was, relative to the photo's
    (width, height) before and after, or else the same person: see ``match_faces``) keeps the old
    row (and so the user's assignment, rejections, references and cover), with its new box,
    landmarks, thumbnail and embedding; old faces not found again are deleted; the others are added.
    Returns (the old thumbnail names, to remove if now unused; the number of faces added)."""
    faces, embeddings = schema.faces, schema.embeddings
    old = conn.execute(
        select(faces.c.id, faces.c.x0, faces.c.y0, faces.c.x1, faces.c.y1, faces.c.thumbnail)
        .where(faces.c.photo_id == photo_id)
        .order_by(faces.c.id)
    ).all()
    model_id = new_faces[0][0].embedding.model_id if new_faces else ""
    stored = dict(
        conn.execute(
            select(embeddings.c.face_id, embeddings.c.vector).where(
                embeddings.c.model_id == model_id, embeddings.c.face_id.in_([row.id for row in old])
            )
        ).all()
    )
    pairs = match_faces(
        [(row.x0, row.y0, row.x1, row.y1) for row in old],
        [face.box for face, _ in new_faces],
        old_size=old_size,
        new_size=new_size,
        old_vectors=[blob_to_vector(stored[row.id]) if row.id in stored else None for row in old],
        new_vectors=[face.embedding.vector for face, _ in new_faces],
        min_similarity=_same_face_similarity(model_id),
    )
    kept = {new_index: old[old_index].id for old_index, new_index in pairs}
    gone = [row.id for row in old if row.id not in kept.values()]
    for start in range(0, len(gone), 500):
        conn.execute(delete(faces).where(faces.c.id.in_(gone[start : start + 500])))
    for new_index, face_id in kept.items():
        face, thumbnail = new_faces[new_index]
        conn.execute(update(faces).where(faces.c.id == face_id).values(**_face_values(face, thumbnail)))
        # Every stored embedding described the old pixels: replace them with the new one.
        conn.execute(delete(embeddings).where(embeddings.c.face_id == face_id))
        _insert_embedding(conn, face_id, face.embedding)
    added = insert_faces(conn, photo_id, [face for index, face in enumerate(new_faces) if index not in kept])
    return [row.thumbnail for row in old if row.thumbnail], len(added)


def _record_failure(
    library: Library, entry: FileEntry, album_id: int, known_row, digest: str | None, error: str, *, retired=None
) -> None:
    values = dict(
        size=entry.size,
        mtime_ns=entry.mtime_ns,
        album_id=album_id,
        content_hash=digest,
        status="error",
        error=error,
        scanned_at=time.time(),
    )
    with library.transaction() as conn:
        _retire_path(conn, retired)  # a missing photo whose path this file took (see _scan_one)
        if known_row is not None:
            # Its faces stay: a photo that became unreadable may come back, and references point at them.
            conn.execute(update(schema.photos).where(schema.photos.c.id == known_row.id).values(**values))
        else:
            conn.execute(insert(schema.photos).values(path=entry.path, **values))


def _mark_missing(library: Library, vanished: dict[str, int], counts: _Counts) -> None:
    if not vanished:
        return
    ids = list(vanished.values())
    with library.transaction() as conn:
        for start in range(0, len(ids), 500):
            conn.execute(
                update(schema.photos).where(schema.photos.c.id.in_(ids[start : start + 500])).values(status="missing")
            )
    counts.missing += len(ids)


def _embed_faces_without_model(
    library: Library, analyzer: Analyzer, roots: Sequence[str], counts: _Counts, notify, stop
) -> None:
    """Give every face of a present photo under ``roots`` an embedding from the analyzer's model (one
    commit per photo). Photos elsewhere (an album not scanned now, perhaps offline) wait for a scan
    of their folder. No query at all once the library records that every face has one (the usual
    case: new faces come with theirs); else one query, after which the flag is set if nothing is
    left anywhere."""
    from faceme_core import imageio

    model_id = analyzer.embedding_model_id
    if library.get_meta(EMBEDDINGS_COMPLETE_KEY) == model_id:
        return
    faces, photos, embeddings = schema.faces, schema.photos, schema.embeddings
    has_embedding = select(embeddings.c.face_id).where(embeddings.c.model_id == model_id)
    with library.reading() as conn:
        rows = conn.execute(
            select(
                faces.c.id, faces.c.x0, faces.c.y0, faces.c.x1, faces.c.y1, faces.c.points, faces.c.score, photos.c.path
            )
            .join(photos, photos.c.id == faces.c.photo_id)
            .where(photos.c.status == "ok", faces.c.id.not_in(has_embedding))
            .order_by(photos.c.path, faces.c.id)
        ).all()
    by_photo: dict[str, list] = {}
    for row in rows:
        # Only the scanned folders, and only files there (one that vanished since the walk is
        # marked missing by the next scan, not reported as a failure).
        if any(is_under(row.path, root) for root in roots) and os.path.exists(row.path):
            by_photo.setdefault(row.path, []).append(row)
    eta = EtaClock(len(by_photo))
    failures_before = counts.failed
    for index, (path, face_rows) in enumerate(by_photo.items()):
        if stop():
            counts.cancelled = True
            return
        notify(ScanProgress("embedding", index, len(by_photo), counts.failed, Path(path), eta.eta(index)))
        try:
            rgb = imageio.load_photo(path).rgb8()
            vectors = [
                analyzer.backend.embed(rgb, Detection((r.x0, r.y0, r.x1, r.y1), blob_to_points(r.points), r.score))
                for r in face_rows
            ]
        except Exception as error:  # recorded in the log; the faces keep their old-model grouping
            log.warning("reembed: %s failed: %s", path, error)
            counts.fail(path, f"re-embedding failed: {error}")
            continue
        with library.transaction() as conn:
            set_meta(conn, GROUPING_PENDING_KEY, "1")
            for row, embedding in zip(face_rows, vectors, strict=True):
                conn.execute(
                    insert(embeddings).values(
                        face_id=row.id, model_id=embedding.model_id, vector=vector_to_blob(embedding.vector)
                    )
                )
        counts.reembedded += len(face_rows)
    if len(by_photo) == len({row.path for row in rows}) and counts.failed == failures_before:
        with library.transaction() as conn:  # checked again under the write lock: another scan may
            # have added faces meanwhile; one row is enough to say no.
            lacking = select(faces.c.id).join(photos, photos.c.id == faces.c.photo_id)
            lacking = lacking.where(photos.c.status == "ok", faces.c.id.not_in(has_embedding)).limit(1)
            if conn.execute(lacking).first() is None:
                set_meta(conn, EMBEDDINGS_COMPLETE_KEY, model_id)
