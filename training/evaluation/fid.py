"""FID: the Fréchet distance between Gaussian fits of two sets of image features.

FID = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)). The feature network is injectable: any
callable mapping a (N, H, W, 3) uint8 batch to (N, D) features. ``inception_features()`` gives the
standard one, the 2048-d pool features of the TF-ported InceptionV3 through torch-fidelity (the
``eval`` extra); its weights DOWNLOAD ON FIRST USE. torch-fidelity imports torchvision, which must be
a build that matches your torch (PyPI's torchvision did not import with torch 2.13 here).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import linalg

from faceme_core.errors import ModelMissingError

FeatureNetwork = Callable[[np.ndarray], np.ndarray]


def frechet_distance(mu_a: np.ndarray, sigma_a: np.ndarray, mu_b: np.ndarray, sigma_b: np.ndarray) -> float:
    diff = np.asarray(mu_a, np.float64) - np.asarray(mu_b, np.float64)
    covmean = linalg.sqrtm(sigma_a @ sigma_b)
    if not np.isfinite(covmean).all():  # singular product: nudge both (as pytorch-fid does)
        offset = np.eye(sigma_a.shape[0]) * 1e-6
        covmean = linalg.sqrtm((sigma_a + offset) @ (sigma_b + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * np.trace(covmean))


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"FID needs at least 2 feature vectors, got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b))


def features_of(network: FeatureNetwork, images: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
    return np.concatenate([np.asarray(network(np.stack(images[i:i + batch_size])), np.float64)
                           for i in range(0, len(images), batch_size)])


def inception_features(device: str = "cpu") -> FeatureNetwork:
    """torch-fidelity's InceptionV3 (the FID standard), 2048-d; downloads its weights on first use."""
    import torch

    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except Exception as error:  # ImportError, or torchvision failing to load with this torch
        raise ModelMissingError(f"FID needs torch-fidelity (pip install 'faceme-desktop[eval]') and a torchvision "
                                f"matching your torch: {error}") from error
    network = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"]).to(device).eval()

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            tensor = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).to(device)
            return network(tensor)[0].cpu().numpy()

    return run
