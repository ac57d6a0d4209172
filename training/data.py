"""The training dataset: a ground truth, its degraded copy, 1..4 references from its pool, the drop flag.

Every random choice of a sample is a function of (seed, epoch, index): the degradation
(``training.degradation``), the number of references and which ones, and Stage II's identity drop.
So samples are the same whichever process or data-loader worker builds them, a resumed run sees the
data an uninterrupted one would, and nothing depends on a worker's RNG state. Items hold only CPU
tensors (the reference code kept text-encoder outputs on the GPU inside its dataset, which breaks
with worker processes); the cached prompt embeddings live with the model, not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from training.degradation import degrade, sample_degradation
from training.features import IdentityFeatures, load_features
from training.layout import DataLayout, ManifestEntry, TrainingDataError, read_manifest

# Streams of one sample's random draws, kept apart so adding a draw to one never shifts another.
_REFERENCES_STREAM = 1
_DROP_STREAM = 2


@dataclass(frozen=True)
class SampleChoices:
    """What the references and the identity drop of one sample are (the degradation is separate)."""

    reference_indices: tuple[int, ...]  # positions in the pool (the ground truth's own features are 0)
    drop_identity: bool


def sample_choices(seed: int, epoch: int, index: int, pool_size: int, min_refs: int, max_refs: int,
                   drop_probability: float) -> SampleChoices:
    """1..4 references drawn from the pool (distinct while the pool has enough), and the drop flag.

    With a pool smaller than the count drawn, references repeat (as the reference code's padding did).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, epoch, index, _REFERENCES_STREAM]))
    count = int(rng.integers(min_refs, max_refs + 1))
    chosen = rng.choice(pool_size, size=count, replace=pool_size < count)
    drop = np.random.default_rng(np.random.SeedSequence([seed, epoch, index, _DROP_STREAM])).random() < drop_probability
    return SampleChoices(tuple(int(i) for i in chosen), bool(drop))


class EpochSampler(Sampler):
    """A shuffled pass over the dataset per epoch, yielding (epoch, index) so items know their epoch.

    The order depends only on (seed, epoch): identical on every process, which is what accelerate's
    batch sharding expects before it hands each process its own batches.
    """

    def __init__(self, size: int, seed: int):
        self.size, self.seed, self.epoch = size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[int, int]]:
        order = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch])).permutation(self.size)
        return iter([(self.epoch, int(i)) for i in order])

    def __len__(self) -> int:
        return self.size


class FaceMeDataset(Dataset):
    def __init__(self, layout: DataLayout, resolution: int, seed: int, min_references: int = 1,
                 max_references: int = 4, drop_probability: float = 0.0, entries: list[ManifestEntry] | None = None):
        self.layout = layout
        self.entries = entries if entries is not None else read_manifest(layout)
        self.resolution, self.seed = resolution, seed
        self.min_references, self.max_references = min_references, max_references
        self.drop_probability = drop_probability

    def __len__(self) -> int:
        return len(self.entries)

    def choices(self, epoch: int, index: int) -> SampleChoices:
        return sample_choices(self.seed, epoch, index, len(self.entries[index].pool), self.min_references,
                              self.max_references, self.drop_probability)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        epoch, index = key
        entry = self.entries[index]
        gt = load_ground_truth(self.layout, entry.gt, self.resolution)
        lq = degrade(gt, sample_degradation(self.seed, epoch, index))
        choices = self.choices(epoch, index)
        features = [self.features_of(entry.pool[i]) for i in choices.reference_indices]
        count = len(features)
        pad = self.max_references - count  # padded to a fixed shape; ``reference_count`` says what is real
        clip = torch.stack([f.clip for f in features] + [torch.zeros_like(features[0].clip)] * pad)
        arcface = torch.stack([f.arcface for f in features] + [torch.zeros_like(features[0].arcface)] * pad)
        return {
            "pixels": to_model_range(gt),
            "control": to_model_range(lq),
            "clip": clip,
            "arcface": arcface,
            "reference_count": torch.tensor(count),
            "drop_identity": torch.tensor(choices.drop_identity),
            "index": torch.tensor(index),
            "epoch": torch.tensor(epoch),
        }

    def features_of(self, relative: str) -> IdentityFeatures:
        return load_features(self.layout.features(relative))  # a few KB: read per access, nothing grows


def load_ground_truth(layout: DataLayout, relative: str, resolution: int) -> np.ndarray:
    """uint8 RGB at ``resolution`` x ``resolution`` (area-averaged down, bicubic up), read by the core's
    loader as ``prepare`` read it (EXIF orientation and colour profile applied), so the pixels trained on
    are the ones its features came from."""
    from PIL import Image

    from faceme_core.errors import FaceMeError
    from training.imagefiles import read_rgb8

    path = layout.image(relative)
    try:
        rgb = read_rgb8(path)
    except FaceMeError as error:
        raise TrainingDataError(f"{path}: cannot read this ground-truth image ({error})") from error
    if rgb.shape[:2] == (resolution, resolution):
        return rgb
    image = Image.fromarray(rgb)
    smaller = image.width > resolution
    return np.array(image.resize((resolution, resolution), Image.BOX if smaller else Image.BICUBIC), dtype=np.uint8)


def to_model_range(image: np.ndarray) -> torch.Tensor:
    """uint8 HWC RGB -> float32 CHW in [-1, 1]: the VAE's input and the ControlNet's condition."""
    return torch.from_numpy(image).permute(2, 0, 1).float() / 127.5 - 1.0
