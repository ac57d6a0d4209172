"""What evaluation restores with: the engine on an aligned face, blind or with a person's references."""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from faceme_core.engine.options import RestoreOptions
from faceme_core.engine.restorer import FaceRequest, ReferenceFace, Restorer
from faceme_core.models.layout import ModelPaths


class FaceRestorer(Protocol):
    def __call__(self, lq: np.ndarray, references: Sequence[ReferenceFace]) -> np.ndarray:
        """The restored 512x512 uint8 RGB face; no references means blind restoration."""
        ...


class EngineFaceRestorer:
    """The FaceMe engine with given weights and settings (``RestoreOptions``: sampler, steps, lambda, seed)."""

    def __init__(self, restorer: Restorer, options: RestoreOptions) -> None:
        self.restorer, self.options = restorer, options

    @classmethod
    def open(cls, paths: ModelPaths, options: RestoreOptions, device: str | None = "auto") -> "EngineFaceRestorer":
        return cls(Restorer.load(paths, device=device), options)

    def __call__(self, lq: np.ndarray, references: Sequence[ReferenceFace]) -> np.ndarray:
        identity = self.restorer.encode_identity(references) if references else None
        return self.restorer([FaceRequest(lq=lq, identity=identity)], self.options)[0].image
