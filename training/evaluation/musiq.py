"""MUSIQ (no-reference quality) through pyiqa, an optional extra (``pip install 'faceme-desktop[musiq]'``):
pyiqa pulls many packages (and torchvision), so the evaluation runs without it and reports MUSIQ as
missing. Its weights download on first use. The scorer is injectable: uint8 (H, W, 3) -> score."""

from __future__ import annotations

from typing import Callable

import numpy as np

from faceme_core.errors import ModelMissingError

QualityScorer = Callable[[np.ndarray], float]


def pyiqa_musiq(device: str = "cpu") -> QualityScorer:
    import torch

    try:
        import pyiqa
    except Exception as error:
        raise ModelMissingError(f"MUSIQ needs pyiqa (pip install 'faceme-desktop[musiq]'): {error}") from error
    metric = pyiqa.create_metric("musiq", device=torch.device(device))

    def score(image: np.ndarray) -> float:
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float().div(255.0).to(device)
        with torch.no_grad():
            return float(metric(tensor).reshape(-1)[0])

    return score
