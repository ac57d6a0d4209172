"""The synthesiser interface: render a new image of one identity in one pose/expression target.

The builder does not care how: Arc2Face (``training.refpool.arc2face``) is the paper's choice; tests
pass a tiny function. A synthesiser gets everything it might condition on and must be deterministic
for a given request (the ``seed`` differs between attempts), so a resumed build renders the same images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from training.refpool.clustering import ClusterTarget


@dataclass(frozen=True)
class RenderRequest:
    identity: str  # the ground truth's path relative to the data root, e.g. "gt/00001.png"
    arcface: np.ndarray  # (512,) L2-normalised ArcFace embedding of the source face
    source: np.ndarray  # the source image, uint8 RGB (for synthesisers that condition on it)
    target: ClusterTarget  # the pose/expression to render
    exemplar: np.ndarray | None  # a real face of the dataset showing the target (uint8 RGB), if loaded
    attempt: int  # 1-based
    seed: int  # derived from (base seed, identity, target, attempt): stable across resumes


class Synthesiser(Protocol):
    name: str

    def __call__(self, request: RenderRequest) -> np.ndarray:
        """A uint8 RGB (H, W, 3) render of the identity; the builder checks its identity."""
        ...
