"""A large synthetic library for benchmarks (library pages, GUI views): photos in folders, faces
with dlib-like embeddings (``clustering_eval.synthetic_embeddings``), people, names, covers and
references, written as plain rows (no image is decoded). 100,000 faces take about 10-20 s to write.

    from benchmarks.synthetic_library import build_library
    build_library(path, photos=10_000, faces=100_000)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceme_core.library.clustering import DLIB_MODEL_ID
from faceme_core.library.clustering_eval import synthetic_embeddings
from faceme_core.library.db.codec import points_to_blob, vector_to_blob
from faceme_core.library.library import Library, set_meta
from faceme_core.library.scan import ACTIVE_MODEL_KEY


@dataclass(frozen=True)
class SyntheticLibrary:
    path: Path
    photos: int
    faces: int
    people: int
    folders: int
    largest_person: int  # id of the person with the most faces
    largest_person_faces: int
    first_folder: Path


def build_library(
    path: Path,
    *,
    photos: int = 10_000,
    faces: int = 100_000,
    people: int = 2_000,
    folders: int = 100,
    unassigned_share: float = 0.1,
    named_share: float = 0.25,
    seed: int = 0,
) -> SyntheticLibrary:
    """Write a library at ``path`` (a new file). Face counts per person follow a long tail (a few
    people in thousands of photos, most in a handful), like a family album."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, people + 1) ** 0.8
    per_person = np.maximum(1, np.round(weights / weights.sum() * faces * (1 - unassigned_share))).astype(int)
    assigned = int(per_person.sum())
    unassigned = max(0, faces - assigned)
    vectors, labels = synthetic_embeddings(list(per_person) + [1] * unassigned, identity_dims=32, seed=seed)
    order = rng.permutation(len(vectors))
    vectors, labels = vectors[order], labels[order]
    photo_of_face = np.sort(rng.integers(0, photos, len(vectors)))
    root = Path("/synthetic/album")
    photo_rows = [
        (i + 1, 1, str(root / f"folder{i % folders:03d}" / f"photo{i:06d}.jpg"), 1, 1, f"h{i}", 4000, 3000, "ok", 0.0)
        for i in range(photos)
    ]
    now = time.time()
    points = points_to_blob(np.zeros((5, 2), np.float32))
    face_rows, embedding_rows, assignment_rows = [], [], []
    slot = np.zeros(photos, int)
    for face_index, (vector, label, photo) in enumerate(zip(vectors, labels, photo_of_face, strict=True)):
        face_id = face_index + 1
        x0 = 50.0 + 300.0 * slot[photo]
        slot[photo] += 1
        face_rows.append(
            (face_id, int(photo) + 1, x0, 100.0, x0 + 200, 300.0, points, 0.99, float(rng.uniform(0.2, 1.0)),
             f"t/{face_id}.jpg")
        )
        embedding_rows.append((face_id, DLIB_MODEL_ID, vector_to_blob(vector)))
        if label < people:
            assignment_rows.append((face_id, int(label) + 1, "auto", now - float(rng.uniform(0, 1e6))))
    named = rng.random(people) < named_share
    people_rows = [(p + 1, f"Person {p + 1}" if named[p] else None, 0, None, now) for p in range(people)]
    with Library.open(path) as library:
        with library.transaction() as conn:
            set_meta(conn, ACTIVE_MODEL_KEY, DLIB_MODEL_ID)
            cursor = conn.connection.cursor()
            cursor.execute("INSERT INTO albums (id, path, added_at) VALUES (1, ?, 0)", (str(root),))
            cursor.executemany(
                "INSERT INTO photos (id, album_id, path, size, mtime_ns, content_hash, width, height, status, "
                "scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                photo_rows,
            )
            cursor.executemany(
                "INSERT INTO faces (id, photo_id, x0, y0, x1, y1, points, score, quality, thumbnail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                face_rows,
            )
            cursor.executemany("INSERT INTO embeddings (face_id, model_id, vector) VALUES (?, ?, ?)", embedding_rows)
            cursor.executemany(
                "INSERT INTO people (id, name, hidden, cover_face_id, created_at) VALUES (?, ?, ?, ?, ?)", people_rows
            )
            cursor.executemany(
                "INSERT INTO assignments (face_id, person_id, source, assigned_at) VALUES (?, ?, ?, ?)",
                assignment_rows,
            )
            cursor.close()
    return SyntheticLibrary(
        path=path,
        photos=photos,
        faces=len(face_rows),
        people=people,
        folders=folders,
        largest_person=int(np.argmax(per_person)) + 1,
        largest_person_faces=int(per_person.max()),
        first_folder=root / "folder000",
    )
