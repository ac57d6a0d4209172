"""The example configurations: the training YAMLs load and state the paper's recipe; accelerate's load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from training.config import load_config

CONFIGS = Path(__file__).resolve().parents[2] / "training" / "configs"


def test_stage_yamls_state_the_papers_recipe():
    stage1, stage2 = load_config(CONFIGS / "stage1.yaml"), load_config(CONFIGS / "stage2.yaml")
    assert (stage1.stage, stage1.max_train_steps, stage1.drop_probability) == (1, 130_000, 0.0)
    assert (stage2.stage, stage2.max_train_steps, stage2.drop_probability) == (2, 210_000, 0.5)
    for config in (stage1, stage2):
        assert config.learning_rate == 5e-5 and config.train_batch_size == 4 and config.resolution == 512
        assert (config.min_references, config.max_references) == (1, 4)
    assert stage2.mix_path == (stage1.output_dir / "weights" / "mix" / "mix.safetensors")


@pytest.mark.parametrize("name, processes, machines", [
    ("1_gpu.yaml", 1, 1), ("8_gpus.yaml", 8, 1), ("2_machines_16_gpus.yaml", 16, 2),
    ("deepspeed_zero2_8_gpus.yaml", 8, 1),
])
def test_accelerate_configs_load_with_accelerate(name, processes, machines):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(CONFIGS / "accelerate" / name))
    assert (config.num_processes, config.num_machines) == (processes, machines)


def test_deepspeed_config_agrees_with_the_training_yaml():
    deepspeed = yaml.safe_load((CONFIGS / "accelerate" / "deepspeed_zero2_8_gpus.yaml").read_text())
    stage1 = load_config(CONFIGS / "stage1.yaml")
    assert deepspeed["deepspeed_config"]["zero_stage"] == 2
    assert deepspeed["deepspeed_config"]["gradient_accumulation_steps"] == stage1.gradient_accumulation_steps
    assert deepspeed["deepspeed_config"]["gradient_clipping"] == stage1.max_grad_norm
