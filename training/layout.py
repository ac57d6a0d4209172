"""Where training data lives on disk, and the two JSON-lines files that describe it.

One data root holds everything; every path written in a file is relative to that root (POSIX
separators), so a prepared dataset can be moved or shared as a whole::

    DATA_ROOT/
      gt/...                       ground-truth faces, aligned to the FFHQ template (e.g. FFHQ 512x512)
      refs/...                     reference images (e.g. FFHQRef renders); any sub-folders
      pools.jsonl                  INPUT, written by the reference-pool builder, one line per ground truth:
                                   {"gt": "gt/00001.png", "references": ["refs/00001/0.png", ...]}
      prepared/                    OUTPUT of ``python -m training.prepare`` (training reads only this + gt/)
        features/<image path>.safetensors   {"arcface": float32 (512,), "clip": float32 (2048,)}
        manifest.jsonl             {"gt": "gt/00001.png", "pool": ["features/gt/00001.png.safetensors",
                                                                    "features/refs/00001/0.png.safetensors"]}
        no_face.jsonl              {"image": "refs/00001/7.png", "reason": "..."}  (listed, not fatal)

A manifest ``pool`` always starts with the ground truth's own features (the paper puts the ground
truth's embedding in its pool), followed by each reference that had a face; it is written once by
``prepare`` and never grows while training reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from faceme_core.errors import FaceMeError

GT_DIRNAME = "gt"
REFS_DIRNAME = "refs"
POOLS_FILENAME = "pools.jsonl"
PREPARED_DIRNAME = "prepared"
FEATURES_DIRNAME = "features"
MANIFEST_FILENAME = "manifest.jsonl"
NO_FACE_FILENAME = "no_face.jsonl"
FEATURE_SUFFIX = ".safetensors"
ARCFACE_KEY = "arcface"
CLIP_KEY = "clip"


class TrainingDataError(FaceMeError):
    """The training data on disk is missing or malformed (the message names the file and line)."""


@dataclass(frozen=True)
class PoolEntry:
    """One line of ``pools.jsonl``: a ground truth and the reference images of the same identity."""

    gt: str
    references: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps({"gt": self.gt, "references": list(self.references)})


@dataclass(frozen=True)
class ManifestEntry:
    """One line of ``prepared/manifest.jsonl``: a ground truth and its pool's feature files (own first)."""

    gt: str
    pool: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps({"gt": self.gt, "pool": list(self.pool)})


@dataclass(frozen=True)
class NoFaceEntry:
    image: str
    reason: str

    def to_json(self) -> str:
        return json.dumps({"image": self.image, "reason": self.reason})


@dataclass(frozen=True)
class DataLayout:
    root: Path

    @property
    def pools(self) -> Path:
        return self.root / POOLS_FILENAME

    @property
    def prepared(self) -> Path:
        return self.root / PREPARED_DIRNAME

    @property
    def manifest(self) -> Path:
        return self.prepared / MANIFEST_FILENAME

    @property
    def no_face(self) -> Path:
        return self.prepared / NO_FACE_FILENAME

    def image(self, relative: str) -> Path:
        return self.root / relative

    def features_relative(self, image_relative: str) -> str:
        """The manifest's name (relative to ``prepared/``) for an image's feature file."""
        return f"{FEATURES_DIRNAME}/{image_relative}{FEATURE_SUFFIX}"

    def features(self, features_relative: str) -> Path:
        return self.prepared / features_relative


# --- reading and writing ----------------------------------------------------------------------------------

def check_relative(path: str, where: str) -> str:
    """A data path must be relative, POSIX, and stay inside the root."""
    if not isinstance(path, str) or not path:
        raise TrainingDataError(f"{where}: expected a non-empty path string, got {path!r}")
    pure = PurePosixPath(path)
    if pure.is_absolute() or "\\" in path or ".." in pure.parts or ":" in pure.parts[0]:
        raise TrainingDataError(f"{where}: {path!r} must be a relative path inside the data root "
                                "(forward slashes, no '..')")
    return path


def read_pools(path: Path) -> list[PoolEntry]:
    entries = []
    for where, record in _records(path, ("gt", "references")):
        references = record["references"]
        if not isinstance(references, list):
            raise TrainingDataError(f"{where}: 'references' must be a list of paths")
        entries.append(PoolEntry(check_relative(record["gt"], where),
                                 tuple(check_relative(r, where) for r in references)))
    _check_unique([e.gt for e in entries], path)
    return entries


def read_manifest(layout: DataLayout, check_files: bool = True) -> list[ManifestEntry]:
    """The prepared manifest, validated: keys, paths, a non-empty pool, and (by default) every file."""
    if not layout.manifest.is_file():
        raise TrainingDataError(f"{layout.manifest}: not found (prepare the data first: "
                                f"python -m training.prepare {layout.root})")
    entries = []
    for where, record in _records(layout.manifest, ("gt", "pool")):
        pool = record["pool"]
        if not isinstance(pool, list) or not pool:
            raise TrainingDataError(f"{where}: 'pool' must be a non-empty list of feature files")
        entry = ManifestEntry(check_relative(record["gt"], where), tuple(check_relative(p, where) for p in pool))
        if check_files:
            missing = [str(layout.image(entry.gt))] if not layout.image(entry.gt).is_file() else []
            missing += [str(layout.features(p)) for p in entry.pool if not layout.features(p).is_file()]
            if missing:
                raise TrainingDataError(f"{where}: missing file(s) {', '.join(missing[:3])}"
                                        + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
                                        + " (run python -m training.prepare again)")
        entries.append(entry)
    if not entries:
        raise TrainingDataError(f"{layout.manifest}: no training samples (run python -m training.prepare)")
    _check_unique([e.gt for e in entries], layout.manifest)
    return entries


def write_lines(path: Path, entries: Iterable) -> None:
    """Write a JSON-lines file atomically (a reader never sees half a file)."""
    from faceme_core.imageio.atomic import write_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, "".join(entry.to_json() + "\n" for entry in entries).encode())


def _records(path: Path, keys: tuple[str, ...]):
    if not path.is_file():
        raise TrainingDataError(f"{path}: not found")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise TrainingDataError(f"{where}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict) or any(key not in record for key in keys):
                raise TrainingDataError(f"{where}: expected an object with keys {', '.join(keys)}")
            yield where, record


def _check_unique(names: list[str], path: Path) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise TrainingDataError(f"{path}: ground truth {name!r} is listed more than once")
        seen.add(name)
