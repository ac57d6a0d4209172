"""A real two-process run: `accelerate launch` with two CPU processes on gloo, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.training.helpers import tiny_config_dict

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_processes_train_write_one_set_of_weights_and_draw_different_degradations(
        tiny_models, prepared_data, tmp_path):
    output = tmp_path / "run"
    settings = tiny_config_dict(tiny_models, prepared_data.root, output, train_batch_size=1, max_train_steps=2,
                                checkpointing_steps=2, log_samples=True)
    config = tmp_path / "stage1.yaml"
    config.write_text(yaml.safe_dump(settings))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    accelerate = Path(sys.executable).with_name("accelerate")
    # `--cpu --num_processes 2` alone starts ONE process; --multi_gpu without CUDA gives two on gloo.
    result = subprocess.run(
        [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29531",
         "-m", "training.train", "--config", str(config)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # one set of weights, no leftovers of a second writer
    assert sorted(p.name for p in output.iterdir() if p.name.startswith((".weights", "weights"))) == ["weights"]
    assert (output / "weights" / "controlnet" / "config.json").is_file()
    assert (output / "weights" / "mix" / "mix.safetensors").is_file()
    # every process saved its part of the checkpoint (accelerate writes one RNG file per process)
    checkpoint = output / "checkpoints" / "checkpoint-2"
    assert sorted(p.name for p in checkpoint.glob("random_states_*.pkl")) == ["random_states_0.pkl",
                                                                             "random_states_1.pkl"]
    # a device-specific seed: after the same number of draws the processes' torch generators differ, so
    # their noise and timesteps did too (the reference code seeded every process alike)
    import torch

    states = [torch.load(checkpoint / f"random_states_{rank}.pkl", weights_only=False) for rank in (0, 1)]
    assert not torch.equal(states[0]["torch_manual_seed"], states[1]["torch_manual_seed"])
    # each process trained on its own samples, so on its own degradations
    samples = {rank: [json.loads(line) for line in (output / "samples" / f"rank-{rank}.jsonl").read_text().splitlines()]
               for rank in (0, 1)}
    assert all(len(lines) == 2 for lines in samples.values())  # 2 steps x batch 1 on each process
    indices = [{(s["epoch"], s["index"]) for s in samples[rank]} for rank in (0, 1)]
    assert not indices[0] & indices[1]
    degradations = [[json.dumps(s["degradation"], sort_keys=True) for s in samples[rank]] for rank in (0, 1)]
    assert not set(degradations[0]) & set(degradations[1])
    assert result.stderr.count("trained 2 steps; weights in") == 1
