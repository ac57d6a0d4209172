"""A synthetic library for GUI benchmarks and screenshots: rows written straight into SQLite.

Photos are hard links of a few real JPEGs (so thumbnails decode like real photos), one folder per
roll of 100; faces get boxes, a quality, real face thumbnails and dlib-sized embeddings clustered by
person, so every view (grid, people, a person's outliers, review) has real work to do.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np

ALBUM = Path(__file__).resolve().parents[1] / "tests" / "data" / "album"
MODEL_ID = "dlib/resnet-v1"
FIRST_NAMES = ("Rose", "Albert", "Maria", "Jean", "Lucia", "Henri", "Ada", "Oskar", "Nina", "Paul", "Elsa", "Tom")


def build_library(folder: Path, photos: int = 10_000, faces: int = 100_000, people: int = 2_000, seed: int = 0) -> Path:
    """Write a library of ``photos`` photos and ``faces`` faces under ``folder``; returns its path."""
    from faceme_core.library.library import Library
    from faceme_core.library.thumbnails import face_thumbnail, write_thumbnail

    rng = np.random.default_rng(seed)
    library_path = folder / "library.sqlite"
    album = folder / "album"
    sources = sorted(ALBUM.glob("*.jpg"))
    Library.open(library_path).close()  # creates and migrates
    thumbs_dir = library_path.with_name(library_path.stem + "-thumbnails")
    # Real face thumbnails: one per source photo region, reused by many faces.
    from PIL import Image

    thumbnail_names = []
    for index, source in enumerate(sources):
        with Image.open(source) as image:
            rgb = np.asarray(image.convert("RGB"))
        h, w = rgb.shape[:2]
        for k in range(4):
            x0 = w * (0.1 + 0.2 * k)
            box = (x0, h * 0.15, x0 + w * 0.15, h * 0.15 + w * 0.15)
            name = f"bench/{index}_{k}.jpg"
            write_thumbnail(thumbs_dir, name, face_thumbnail(rgb, box))
            thumbnail_names.append(name)
    now = time.time()
    centres = rng.normal(size=(people, 128)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    import sqlite3

    conn = sqlite3.connect(library_path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("INSERT INTO albums (id, path, added_at) VALUES (1, ?, ?)", (str(album), now))
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('embedding_model', ?)", (MODEL_ID,))
    photo_rows, face_rows, embedding_rows, assignment_rows = [], [], [], []
    faces_per_photo = np.full(photos, faces // photos)
    faces_per_photo[: faces - int(faces_per_photo.sum())] += 1
    # People sizes follow a long tail: a few people in many photos, many strangers in one or two.
    weights = 1.0 / np.arange(1, people + 1) ** 0.9
    weights /= weights.sum()
    owners = rng.choice(people, size=faces, p=weights)
    vectors = centres[owners] + rng.normal(scale=0.12, size=(faces, 128)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    qualities = rng.uniform(0.2, 0.95, size=faces)
    known = rng.random(faces) < 0.97  # a few unknown faces for the review queue
    ages = rng.uniform(0, 3e7, size=faces)
    face_id = 0
    for photo_index in range(photos):
        roll = album / f"{1960 + photo_index // 1000}" / f"roll-{photo_index // 100:03d}"
        roll.mkdir(parents=True, exist_ok=True)
        path = roll / f"img_{photo_index:05d}.jpg"
        source = sources[photo_index % len(sources)]
        os.link(source, path) if source.stat().st_dev == roll.stat().st_dev else shutil.copyfile(source, path)
        stat = path.stat()
        photo_rows.append((photo_index + 1, 1, str(path), stat.st_size, stat.st_mtime_ns, f"hash{photo_index}",
                           1200, 900, "JPEG", None, "ok", None, 0, "dlib", now))
        for k in range(int(faces_per_photo[photo_index])):
            face_id += 1
            x0 = 60 + 220 * (k % 5)
            i = face_id - 1
            face_rows.append((face_id, photo_index + 1, x0, 200.0, x0 + 160.0, 360.0, b"\0" * 40, 0.99,
                              float(qualities[i]), thumbnail_names[face_id % len(thumbnail_names)]))
            embedding_rows.append((face_id, MODEL_ID, vectors[i].astype(np.float32).tobytes()))
            if known[i]:
                assignment_rows.append((face_id, int(owners[i]) + 1, "auto", now - float(ages[i])))
    # People first: triggers keep their face counts as assignments arrive.
    conn.executemany("INSERT INTO people (id, name, hidden, cover_face_id, created_at) VALUES (?,?,?,?,?)",
                     [(p + 1, f"{FIRST_NAMES[p % len(FIRST_NAMES)]} {p // len(FIRST_NAMES) + 1}" if p < 40 else None,
                       False, None, now) for p in range(people)])
    conn.executemany("INSERT INTO photos (id, album_id, path, size, mtime_ns, content_hash, width, height, format, "
                     "date_taken, status, error, skipped_faces, analyzer, scanned_at) VALUES "
                     "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", photo_rows)
    conn.executemany("INSERT INTO faces (id, photo_id, x0, y0, x1, y1, points, score, quality, thumbnail) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?)", face_rows)
    conn.executemany("INSERT INTO embeddings (face_id, model_id, vector) VALUES (?,?,?)", embedding_rows)
    conn.executemany("INSERT INTO assignments (face_id, person_id, source, assigned_at) VALUES (?,?,?,?)", assignment_rows)
    conn.execute("DELETE FROM people WHERE id NOT IN (SELECT person_id FROM assignments)")
    conn.commit()
    conn.close()
    return library_path
