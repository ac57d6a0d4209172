"""Where each installed component is, whether it is usable, and ``resolve_model_paths`` for the engine.

Lookup order per component: the app's model folder (``default_layout(models_dir())``, where
``faceme models import`` and the antelopev2 download put things) first, then the Hugging Face cache
(where ``faceme models download`` puts the Hub components, and where a user may already have them).
The first candidate that passes the quick checks wins; if none does, the first one found is reported
as invalid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from faceme_core import paths
from faceme_core.errors import ModelFormatError, ModelMissingError
from faceme_core.models.layout import ModelPaths, component_path, default_layout
from faceme_core.models.manifest import COMPONENT_NAMES, component
from faceme_core.models.verify import verify_component

State = Literal["installed", "missing", "invalid"]
Source = Literal["imported", "hf-cache"]


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    state: State
    path: Path | None
    source: Source | None
    size_bytes: int | None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict:
        spec = component(self.name)
        return {
            "name": self.name,
            "title": spec.title,
            "repo_id": spec.repo_id,
            "revision": spec.revision,
            "approx_bytes": spec.approx_bytes,
            "licence": spec.licence,
            "state": self.state,
            "path": str(self.path) if self.path else None,
            "source": self.source,
            "size_bytes": self.size_bytes,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


# --- the Hugging Face cache ------------------------------------------------------------------------


def hf_hub_cache() -> Path:
    """The Hub cache folder, read from the environment now (HF_HUB_CACHE, then HF_HOME) like the Hub does."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def cached_snapshots(repo_id: str, revision: str, cache: Path | None = None) -> list[Path]:
    """Snapshot folders of a repository in the cache: the one ``revision`` points to first, then the others."""
    storage = (cache or hf_hub_cache()) / ("models--" + repo_id.replace("/", "--"))
    snapshots = storage / "snapshots"
    if not snapshots.is_dir():
        return []
    first: list[Path] = []
    ref = storage / "refs" / revision
    commit = ref.read_text().strip() if ref.is_file() else revision
    if (snapshots / commit).is_dir():
        first.append(snapshots / commit)
    others = sorted((p for p in snapshots.iterdir() if p.is_dir() and p not in first), key=_mtime, reverse=True)
    return first + others


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


# --- finding components ----------------------------------------------------------------------------


def candidates(name: str, models_dir: Path) -> list[tuple[Path, Source]]:
    """Every existing place component ``name`` may be, in lookup order."""
    from faceme_core.models.discover import discover

    imported = component_path(default_layout(models_dir), name)
    found: list[tuple[Path, Source]] = [(imported, "imported")] if imported.exists() else []
    spec = component(name)
    if spec.source != "hf":
        return found
    for snapshot in cached_snapshots(spec.repo_id, spec.revision):
        if name == "base":
            found.append((snapshot, "hf-cache"))
        elif name == "photomaker":
            path = snapshot / "photomaker-v1.bin"
            if path.exists():
                found.append((path, "hf-cache"))
        else:  # controlnet and mix: names inside thomas2modyu/FaceMe are discovered
            found += [(p, "hf-cache") for p in discover(snapshot).of(name)]
    return found


def component_status(name: str, models_dir: Path | None = None, *, deep: bool = False) -> ComponentStatus:
    models_dir = models_dir or paths.models_dir()
    first_invalid: ComponentStatus | None = None
    for path, source in candidates(name, models_dir):
        report = verify_component(name, path, deep=deep)
        status = ComponentStatus(
            name=name,
            state="installed" if report.ok else "invalid",
            path=path,
            source=source,
            size_bytes=size_on_disk(path),
            errors=tuple(report.errors),
            warnings=tuple(report.warnings),
        )
        if report.ok:
            return status
        first_invalid = first_invalid or status
    return first_invalid or ComponentStatus(name=name, state="missing", path=None, source=None, size_bytes=None)


def model_status(models_dir: Path | None = None, *, deep: bool = False) -> list[ComponentStatus]:
    return [component_status(name, models_dir, deep=deep) for name in COMPONENT_NAMES]


def size_on_disk(path: Path) -> int:
    """Bytes of a file or of every file under a folder (symlinks followed: the HF cache links to blobs)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for filename in filenames:
            try:
                total += (Path(dirpath) / filename).stat().st_size
            except OSError:
                pass  # a dangling link: counted as nothing
    return total


# --- for the engine --------------------------------------------------------------------------------


def resolve_model_paths(models_dir: Path | None = None, *, need_antelopev2: bool = True) -> ModelPaths:
    """The path of every installed component; raises naming each missing or invalid one and the remedies."""
    models_dir = models_dir or paths.models_dir()
    names = [n for n in COMPONENT_NAMES if need_antelopev2 or n != "antelopev2"]
    statuses = {name: component_status(name, models_dir) for name in names}
    missing = [s for s in statuses.values() if s.state == "missing"]
    invalid = [s for s in statuses.values() if s.state == "invalid"]
    if missing or invalid:
        raise _resolve_error(missing, invalid, models_dir)
    antelopev2 = statuses["antelopev2"].path if need_antelopev2 else None
    return ModelPaths(
        base_model=statuses["base"].path,
        controlnet=statuses["controlnet"].path,
        mix=statuses["mix"].path,
        photomaker=statuses["photomaker"].path,
        antelopev2=antelopev2,
    )


def _resolve_error(missing: list[ComponentStatus], invalid: list[ComponentStatus], models_dir: Path) -> Exception:
    details = [f"{s.name}: not installed (from {component(s.name).repo_id})" for s in missing]
    details += [f"{s.name}: not usable at {s.path}: {s.errors[0]}" for s in invalid]
    what = "FaceMe model components are missing or not usable" if missing and invalid else (
        "FaceMe model components are not installed" if missing else "FaceMe model components are not usable")
    kind = ModelMissingError if missing else ModelFormatError
    return kind(
        f"{what} (model folder: {models_dir})", details=tuple(details),
        hint="download them on a machine with internet access, or copy the files from elsewhere and import them",
        action="download_models" if missing else "verify_models",
    )
