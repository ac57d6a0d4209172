"""Library test fixtures: writable album copies, libraries in tmp_path, and dlib face analysis run
once per session (real faces from the test photos) then replayed by content, so each test's scan
costs only decoding and database work."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from faceme_core.faces.types import PhotoFaces
from faceme_core.library.library import Library

ALBUM = Path(__file__).resolve().parents[1] / "data" / "album"
# Small and fast, with people across photos: the band in two photos, the boy in two.
SMALL_ALBUM = (
    "band_four_lowres_a.jpg",
    "band_four_b.jpg",
    "boy_at_railing_lowres.jpg",
    "two_boys.jpg",
    "hepburn_portrait_lowres.jpg",
)


def pixel_key(pixels: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(pixels).tobytes(), digest_size=16).hexdigest()


class ReplayAnalyzer:
    """The dlib analyzer's results for known pixels (computed once), the real analyzer otherwise.

    Counts ``analyze`` calls, so tests can prove that unchanged photos are not analysed again."""

    def __init__(self, real, cache: dict[str, PhotoFaces]):
        self.real = real
        self.cache = cache
        self.calls: list[Path | None] = []

    @property
    def name(self) -> str:
        return self.real.name

    @property
    def embedding_model_id(self) -> str:
        return self.real.embedding_model_id

    @property
    def backend(self):
        return self.real.backend

    def analyze(self, photo) -> PhotoFaces:
        self.calls.append(photo.path)
        key = pixel_key(photo.pixels)
        if key not in self.cache:
            self.cache[key] = self.real.analyze(photo)
        return self.cache[key]


@pytest.fixture(scope="session")
def dlib_analyzer():
    from faceme_core.faces.analyzer import create_analyzer

    return create_analyzer("dlib")


@pytest.fixture(scope="session")
def analysis_cache() -> dict:
    return {}


@pytest.fixture
def analyzer(dlib_analyzer, analysis_cache) -> ReplayAnalyzer:
    return ReplayAnalyzer(dlib_analyzer, analysis_cache)


def copy_album(target: Path, names: tuple[str, ...] | None = None) -> Path:
    target.mkdir(parents=True)
    for source in sorted(ALBUM.iterdir()):
        if names is None or source.name in names:
            shutil.copyfile(source, target / source.name)  # copyfile: writable copies, fresh mtimes
    return target


@pytest.fixture
def album(tmp_path) -> Path:
    """A writable copy of the whole test album."""
    return copy_album(tmp_path / "Album")


@pytest.fixture
def small_album(tmp_path) -> Path:
    return copy_album(tmp_path / "Small", SMALL_ALBUM)


@pytest.fixture
def library(tmp_path):
    with Library.open(tmp_path / "lib" / "library.sqlite") as lib:
        yield lib


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def library_content(path: Path, album: Path) -> dict:
    """The library's content with database ids and absolute paths factored out."""
    with sqlite3.connect(path) as conn:
        photos = {
            pid: (os.path.relpath(p, album), size, digest, status, w, h)
            for pid, p, size, digest, status, w, h in conn.execute(
                "SELECT id, path, size, content_hash, status, width, height FROM photos"
            )
        }
        face_key = {}
        faces = set()
        for fid, pid, x0, y0, x1, y1, quality, thumb in conn.execute(
            "SELECT id, photo_id, x0, y0, x1, y1, quality, thumbnail FROM faces"
        ):
            face_key[fid] = (photos[pid][0], round(x0, 2), round(y0, 2))
            faces.add((face_key[fid], round(x1, 2), round(y1, 2), round(quality, 4), thumb))
        vectors = {
            (face_key[fid], model, blob)
            for fid, model, blob in conn.execute("SELECT face_id, model_id, vector FROM embeddings")
        }
        members: dict[int, set] = {}
        for fid, person, source in conn.execute("SELECT face_id, person_id, source FROM assignments"):
            members.setdefault(person, set()).add((face_key[fid], source))
        people_rows = conn.execute("SELECT count(*) FROM people").fetchone()[0]
    return {
        "photos": sorted(photos.values()),
        "faces": faces,
        "embeddings": vectors,
        "people": sorted(sorted(group) for group in members.values()),
        "people_rows": people_rows,
    }


@pytest.fixture
def cli(monkeypatch, analyzer, tmp_path, capsys):
    """``cli(*args) -> (exit code, stdout, stderr)``: ``faceme`` run in-process on a library in
    tmp_path, with the replayed dlib analyzer (arguments may be paths)."""
    import faceme_core.faces.analyzer as analyzer_module
    from faceme_core.cli.main import main

    monkeypatch.setattr(analyzer_module, "create_analyzer", lambda backend="auto", models_dir=None: analyzer)
    library = str(tmp_path / "cli.sqlite")

    def run(*args) -> tuple[int, str, str]:
        try:
            code = main([*map(str, args), "--library", library])
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
        out, err = capsys.readouterr()
        return code, out, err

    return run
