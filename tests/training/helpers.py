"""Tiny training configurations for the tests (64 px, tiny ControlNet embedding and Mix)."""

from __future__ import annotations

from pathlib import Path

from faceme_core.models.layout import BASE_MODEL_DIRNAME
from tests.training.conftest import TRAIN_SIZE
from training.config import TrainConfig, config_from_dict

TINY_MIX = {"id_hidden_dim": 16, "hidden_dim": 32}


def tiny_config_dict(tiny_models: Path, data_root: Path, output_dir: Path, **overrides) -> dict:
    config = {
        "stage": 1, "data_root": str(data_root), "output_dir": str(output_dir),
        "base_model": str(tiny_models / BASE_MODEL_DIRNAME), "resolution": TRAIN_SIZE, "train_batch_size": 2,
        "max_train_steps": 2, "checkpointing_steps": 100, "validation_steps": 0, "dataloader_num_workers": 0,
        "log_every": 1, "controlnet_conditioning_channels": [8, 8, 8, 16], "mix_config": dict(TINY_MIX),
        "max_grad_norm": 1.0,
    }
    config.update(overrides)
    return config


def tiny_config(tiny_models: Path, data_root: Path, output_dir: Path, **overrides) -> TrainConfig:
    return config_from_dict(tiny_config_dict(tiny_models, data_root, output_dir, **overrides))
