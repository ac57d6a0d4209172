"""A config.json describing an absurd model is refused before anything builds it (verify, status, restore)."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from faceme_core.errors import ModelFormatError
from faceme_core.models.config_sanity import check_model_config, config_size_problems
from faceme_core.models.verify import verify_path

SDXL_UNET = {"layers_per_block": 2, "block_out_channels": [320, 640, 1280], "attention_head_dim": [5, 10, 20],
             "transformer_layers_per_block": [1, 2, 10], "cross_attention_dim": 2048, "sample_size": 128,
             "projection_class_embeddings_input_dim": 2816, "addition_time_embed_dim": 256, "in_channels": 4,
             "num_attention_heads": None, "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"] * 2}


def test_real_sdxl_sizes_pass():
    assert config_size_problems(SDXL_UNET) == []
    assert config_size_problems({**SDXL_UNET, "transformer_layers_per_block": [[1, 1], [2, 2], [10, 10]]}) == []


@pytest.mark.parametrize("change, words", [
    ({"layers_per_block": 100_000}, "layers_per_block is 100000"),
    ({"block_out_channels": [320, 10**9]}, "block_out_channels"),
    ({"transformer_layers_per_block": [1, 2, 5000]}, "transformer_layers_per_block"),
    ({"layers_per_block": "2"}, "not whole numbers"),
    ({"down_block_types": ["DownBlock2D"] * 1000}, "1000 blocks"),
])
def test_absurd_sizes_are_named(change, words):
    problems = config_size_problems({**SDXL_UNET, **change})
    assert any(words in problem for problem in problems), problems


def _absurd_controlnet(tmp_path, tiny_models):
    folder = shutil.copytree(tiny_models.controlnet, tmp_path / "controlnet")
    config = json.loads((folder / "config.json").read_text())
    config["layers_per_block"] = 100_000
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_verify_refuses_an_absurd_controlnet_at_once(tmp_path, tiny_models):
    folder = _absurd_controlnet(tmp_path, tiny_models)
    started = time.perf_counter()
    report = verify_path(folder)  # deep: would build 100,000 layers per block on the meta device
    assert time.perf_counter() - started < 10
    assert not report.ok and any("layers_per_block is 100000" in error for error in report.errors)


def test_the_engine_refuses_it_before_building(tmp_path, tiny_models):
    from faceme_core.engine.components import _from_pretrained

    folder = _absurd_controlnet(tmp_path, tiny_models)
    with pytest.raises(ModelFormatError) as caught:
        _from_pretrained(object, folder, None)  # the class is never reached
    assert caught.value.details == ("layers_per_block is 100000, outside 1..16",)
    with pytest.raises(ModelFormatError, match="not readable JSON"):
        (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
        check_model_config(tmp_path / "deep.json")
