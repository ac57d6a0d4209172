"""One image's identity features on disk: its ArcFace embedding and its CLIP feature (safetensors).

Written by ``training.prepare`` exactly as inference computes them, read by the training dataset.
Safetensors both ways (the reference code wrote ``np.save`` files and read them with ``torch.load``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from faceme_core.engine.mix import ARCFACE_DIM, CLIP_FEATURE_DIM
from training.layout import ARCFACE_KEY, CLIP_KEY, TrainingDataError


@dataclass(frozen=True)
class IdentityFeatures:
    arcface: torch.Tensor  # (512,) float32, L2-normalised
    clip: torch.Tensor  # (2048,) float32: CLIP feature of the face's box crop

    def __post_init__(self):
        if tuple(self.arcface.shape) != (ARCFACE_DIM,) or tuple(self.clip.shape) != (CLIP_FEATURE_DIM,):
            raise ValueError(f"IdentityFeatures: expected arcface ({ARCFACE_DIM},) and clip ({CLIP_FEATURE_DIM},), "
                             f"got {tuple(self.arcface.shape)} and {tuple(self.clip.shape)}")


def save_features(path: Path, features: IdentityFeatures) -> None:
    from safetensors.torch import save

    from faceme_core.imageio.atomic import write_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, save({ARCFACE_KEY: features.arcface.float().contiguous(),
                                 CLIP_KEY: features.clip.float().contiguous()}))


def load_features(path: Path) -> IdentityFeatures:
    """Read and validate one feature file (shapes, finite values); TrainingDataError names the file."""
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except Exception as error:
        raise TrainingDataError(f"{path}: not a readable safetensors feature file ({error})") from error
    if set(state) != {ARCFACE_KEY, CLIP_KEY}:
        raise TrainingDataError(f"{path}: expected tensors {ARCFACE_KEY!r} and {CLIP_KEY!r}, found {sorted(state)}")
    try:
        features = IdentityFeatures(state[ARCFACE_KEY].float(), state[CLIP_KEY].float())
    except ValueError as error:
        raise TrainingDataError(f"{path}: {error}") from None
    if not (torch.isfinite(features.arcface).all() and torch.isfinite(features.clip).all()):
        raise TrainingDataError(f"{path}: holds NaN or infinite values")
    return features
