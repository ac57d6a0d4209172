"""``faceme models import DIR``: find components in a folder, verify them, install them atomically.

Only the files the engine loads are installed (configs, tokenizers, the chosen weight variant, ONNX
files), each hard-linked when the source is on the same file system and copied otherwise. Everything
is first assembled next to its destination and then renamed into place, so an interrupted import never
leaves a half-written component where the engine looks.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from faceme_core import paths
from faceme_core.errors import FaceMeError
from faceme_core.models.discover import discover
from faceme_core.models.layout import component_path, default_layout
from faceme_core.models.manifest import BASE_WEIGHT_FOLDERS, COMPONENT_NAMES
from faceme_core.models.verify import verify_component
from faceme_core.models.verify_folders import (
    ANTELOPEV2_DETECTOR,
    ANTELOPEV2_OTHERS,
    ANTELOPEV2_RECOGNIZER,
    DIFFUSERS_WEIGHTS,
    find_weight_files,
    index_file,
    preferred_variant,
)

Outcome = Literal["imported", "already installed", "invalid", "not found"]


@dataclass(frozen=True)
class ImportResult:
    name: str
    outcome: Outcome
    source: Path | None = None
    destination: Path | None = None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "source": str(self.source) if self.source else None,
            "destination": str(self.destination) if self.destination else None,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


def destination_of(name: str, models_dir: Path) -> Path:
    return component_path(default_layout(models_dir), name)


def import_models(source_dir: Path, models_dir: Path | None = None) -> list[ImportResult]:
    """One result per component: the first valid candidate found in ``source_dir`` is installed."""
    if not source_dir.is_dir():
        raise FaceMeError(f"{source_dir}: not a folder (import expects the folder holding the copied model files)")
    models_dir = models_dir or paths.models_dir()
    found = discover(source_dir)
    return [_import_one(name, list(found.of(name)), models_dir) for name in COMPONENT_NAMES]


def _import_one(name: str, candidates: list[Path], models_dir: Path) -> ImportResult:
    destination = destination_of(name, models_dir)
    first_invalid: ImportResult | None = None
    for candidate in candidates:
        if _same_place(candidate, destination):
            return ImportResult(name, "already installed", candidate, destination)
        report = verify_component(name, candidate, deep=True)
        if not report.ok:
            first_invalid = first_invalid or ImportResult(
                name, "invalid", candidate, None, tuple(report.errors), tuple(report.warnings)
            )
            continue
        install(files_to_install(name, candidate), destination)
        return ImportResult(name, "imported", candidate, destination, (), tuple(report.warnings))
    return first_invalid or ImportResult(name, "not found")


def _same_place(a: Path, b: Path) -> bool:
    try:
        return b.exists() and a.resolve() == b.resolve()
    except OSError:
        return False


def files_to_install(name: str, source: Path) -> list[tuple[Path, Path]]:
    """(source file, path relative to the destination) for what the engine loads; a file component: ``.``."""
    if name in ("mix", "photomaker"):
        return [(source, Path("."))]
    if name == "antelopev2":
        names = (ANTELOPEV2_DETECTOR, ANTELOPEV2_RECOGNIZER, *ANTELOPEV2_OTHERS)
        return [(source / n, Path(n)) for n in names if (source / n).is_file()]
    if name == "controlnet":
        return [(source / "config.json", Path("config.json"))] + _weights(source, DIFFUSERS_WEIGHTS, Path("."))
    files = [(source / "model_index.json", Path("model_index.json"))]
    for folder in ("scheduler", "tokenizer", "tokenizer_2"):
        files += [(p, Path(folder) / p.name) for p in sorted((source / folder).iterdir()) if p.is_file()]
    for folder, stem in BASE_WEIGHT_FOLDERS.items():
        files.append((source / folder / "config.json", Path(folder) / "config.json"))
        files += _weights(source / folder, stem, Path(folder))
    return files


def _weights(folder: Path, stem: str, relative: Path) -> list[tuple[Path, Path]]:
    """The weight files the verifier read: the full-precision set when present, else the variant."""
    variants = find_weight_files(folder, stem)
    variant = preferred_variant(variants)
    files = [(p, relative / p.name) for p in variants[variant]]
    index = index_file(folder, stem, variant)
    if index.is_file():
        files.append((index, relative / index.name))
    return files


def install(files: list[tuple[Path, Path]], destination: Path) -> None:
    """Assemble next to ``destination``, then rename into place (replacing what was there)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.parent / f".{destination.name}.importing-{uuid.uuid4().hex[:8]}"
    try:
        if len(files) == 1 and files[0][1] == Path("."):  # a single-file component
            _link_or_copy(files[0][0], staging)
            os.replace(staging, destination)
            return
        for source, relative in files:
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(source, target)
        _replace_folder(staging, destination)
    finally:
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
        elif staging.exists():
            staging.unlink()


def _replace_folder(staging: Path, destination: Path) -> None:
    old = destination.parent / f".{destination.name}.old-{uuid.uuid4().hex[:8]}"
    if destination.exists():
        os.replace(destination, old)  # a folder cannot be renamed over a non-empty one
    try:
        os.replace(staging, destination)
    except OSError:
        if old.exists():
            os.replace(old, destination)  # put the previous version back
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    real = source.resolve()  # HF cache snapshots hold links to blobs
    try:
        os.link(real, target)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(real, target)
