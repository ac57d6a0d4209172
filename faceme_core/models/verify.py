"""``verify_path``: check any component file or folder against what the engine expects (headers only)."""

from __future__ import annotations

from pathlib import Path

from faceme_core.errors import FaceMeError, ModelFormatError
from faceme_core.models.discover import config_class_name, is_sdxl_folder
from faceme_core.models.headers import read_safetensors_header
from faceme_core.models.manifest import COMPONENT_NAMES, component
from faceme_core.models.report import VerifyReport
from faceme_core.models.verify_files import looks_like_mix, verify_mix, verify_photomaker
from faceme_core.models.verify_folders import (
    ANTELOPEV2_RECOGNIZER,
    verify_antelopev2,
    verify_base,
    verify_controlnet,
    weights_variant,
)

__all__ = ["VerifyReport", "detect_component", "verify_component", "verify_path", "weights_variant"]


def verify_component(name: str, path: Path, *, deep: bool = True) -> VerifyReport:
    """``deep=False`` skips the costlier checks (meta-model comparisons, ONNX parsing)."""
    component(name)  # unknown names raise FaceMeError
    if name == "mix":
        return verify_mix(path)
    if name == "photomaker":
        return verify_photomaker(path)
    if name == "controlnet":
        return verify_controlnet(path, deep=deep)
    if name == "base":
        return verify_base(path, deep=deep)
    return verify_antelopev2(path, deep=deep)


def detect_component(path: Path) -> str | None:
    """Which component a file or folder looks like, from its content; None when it looks like none."""
    if path.is_file():
        if path.suffix == ".safetensors":
            try:
                names = set(read_safetensors_header(path).tensors)
            except ModelFormatError:
                return "mix" if path.name == "mix.safetensors" else None
            return "mix" if looks_like_mix(names) or path.name == "mix.safetensors" else None
        if path.suffix in (".bin", ".pt", ".pth"):
            return "photomaker"  # the only pickle FaceMe reads, and only with weights_only=True
        if path.name == "config.json":
            return detect_component(path.parent)
        return None
    if path.is_dir():
        if is_sdxl_folder(path):
            return "base"
        if (path / "config.json").is_file() and config_class_name(path / "config.json") == "ControlNetModel":
            return "controlnet"
        if (path / ANTELOPEV2_RECOGNIZER).is_file() or any(path.glob("*.onnx")):
            return "antelopev2"
    return None


def verify_path(path: Path, component_name: str | None = None) -> VerifyReport:
    if not path.exists():
        raise FaceMeError(f"{path}: no such file or folder")
    if component_name is not None:
        component(component_name)  # unknown names raise with the list of names
    if path.is_dir():  # a folder holding just one of the single-file components
        for filename in ("mix.safetensors", "photomaker-v1.bin"):
            if (path / filename).is_file() and detect_component(path) is None:
                path = path / filename
                break
    name = component_name or detect_component(path)
    if name is None:
        raise FaceMeError(
            "cannot tell which model component this is", subject=path, setting="component",
            hint=f"say which component it is ({', '.join(COMPONENT_NAMES)})",
        )
    if path.is_file() and path.name == "config.json" and name in ("base", "controlnet"):
        path = path.parent
    return verify_component(name, path, deep=True)
