"""Tiny models and a tiny prepared dataset built from the test faces, shared by the training tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ALBUM_DIR, FACES_DIR
from tests.support.tiny_models import build_tiny_model_dir
from training.layout import DataLayout, PoolEntry, write_lines

TRAIN_SIZE = 64  # pixels: the tiny VAE's 8x downsampling gives 8x8 latents


@pytest.fixture(scope="package")
def tiny_models(tmp_path_factory) -> Path:
    models_dir = tmp_path_factory.mktemp("models")
    build_tiny_model_dir(models_dir, with_antelopev2=True)
    return models_dir


def write_raw_dataset(root: Path) -> DataLayout:
    """gt/ (the four test faces, 512 px like FFHQ; training resizes to its resolution), refs/ (the other photo of each person, an album photo, and a
    16 px thumbnail with a face too small to use) and pools.jsonl."""
    layout = DataLayout(root)
    people = {"Hepburn01": ["Hepburn02"], "Hepburn02": ["Hepburn01"], "Einstein01": ["Einstein02"],
              "Einstein02": ["Einstein01"]}
    (root / "gt").mkdir(parents=True)
    (root / "refs").mkdir()
    for name in people:
        shutil.copy(FACES_DIR / f"{name}.png", root / "gt" / f"{name}.png")
        shutil.copy(FACES_DIR / f"{name}.png", root / "refs" / f"{name}.png")
    shutil.copy(ALBUM_DIR / "hepburn_portrait_lowres.jpg", root / "refs" / "hepburn_portrait.jpg")
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(root / "refs" / "tiny.png")
    entries = []
    for name, others in people.items():
        refs = [f"refs/{other}.png" for other in others] + ["refs/tiny.png"]
        if name.startswith("Hepburn"):
            refs.append("refs/hepburn_portrait.jpg")
        entries.append(PoolEntry(f"gt/{name}.png", tuple(refs)))
    write_lines(layout.pools, entries)
    return layout


@pytest.fixture(scope="package")
def prepared_data(tmp_path_factory, tiny_models) -> DataLayout:
    """The raw dataset, prepared once with the tiny insightface pack and tiny CLIP tower."""
    from training.prepare import load_feature_models, prepare

    layout = write_raw_dataset(tmp_path_factory.mktemp("data"))
    analyzer, clip_encoder = load_feature_models(tiny_models)
    prepare(layout, analyzer, clip_encoder)
    return layout
