"""Find model components inside any folder by their content, not by where they happen to be.

Used by ``faceme models import DIR`` and after downloading thomas2modyu/FaceMe, whose file names are
not known in advance. Only small files are opened: JSON configs and safetensors headers.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from faceme_core.errors import ModelFormatError
from faceme_core.models.headers import read_safetensors_header
from faceme_core.models.verify_files import looks_like_mix
from faceme_core.models.verify_folders import ANTELOPEV2_DETECTOR, ANTELOPEV2_RECOGNIZER, SDXL_SUBFOLDERS

MAX_CONFIG_BYTES = 1024 * 1024
PHOTOMAKER_NAME = "photomaker-v1.bin"
MIX_NAME = "mix.safetensors"


@dataclass(frozen=True)
class Candidates:
    """Every place in a folder that looks like each component, best guesses first."""

    base: tuple[Path, ...] = ()
    controlnet: tuple[Path, ...] = ()
    mix: tuple[Path, ...] = ()
    photomaker: tuple[Path, ...] = ()
    antelopev2: tuple[Path, ...] = ()

    def of(self, name: str) -> tuple[Path, ...]:
        return getattr(self, name)


def discover(root: Path) -> Candidates:
    found: dict[str, list[Path]] = {"base": [], "controlnet": [], "mix": [], "photomaker": [], "antelopev2": []}
    mix_by_header: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        folder = Path(dirpath)
        names = set(filenames)
        if is_sdxl_folder(folder, names):
            found["base"].append(folder)
            dirnames[:] = []  # its unet/config.json etc. are parts of it, not components
            continue
        if "config.json" in names and config_class_name(folder / "config.json") == "ControlNetModel":
            found["controlnet"].append(folder)
        if ANTELOPEV2_RECOGNIZER in names and ANTELOPEV2_DETECTOR in names:
            found["antelopev2"].append(folder)
        for name in sorted(names):
            path = folder / name
            if name == PHOTOMAKER_NAME:
                found["photomaker"].append(path)
            elif name == MIX_NAME:
                found["mix"].append(path)
            elif name.endswith(".safetensors") and _is_mix_by_header(path):
                mix_by_header.append(path)
    found["mix"] += mix_by_header  # renamed copies come after files named mix.safetensors
    return Candidates(**{k: tuple(v) for k, v in found.items()})


def is_sdxl_folder(folder: Path, filenames: set[str] | None = None) -> bool:
    """A diffusers SDXL pipeline folder: its model_index.json says so, or it has all the SDXL subfolders."""
    filenames = filenames if filenames is not None else {p.name for p in folder.iterdir() if p.is_file()}
    if "model_index.json" in filenames:
        return "StableDiffusionXL" in str(config_class_name(folder / "model_index.json") or "")
    return all((folder / name).is_dir() for name in SDXL_SUBFOLDERS)


def config_class_name(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data.get("_class_name") if isinstance(data, dict) else None


def _is_mix_by_header(path: Path) -> bool:
    try:
        return looks_like_mix(set(read_safetensors_header(path).tensors))
    except ModelFormatError:
        return False
