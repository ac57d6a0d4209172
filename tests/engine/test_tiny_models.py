"""The tiny model builder writes every component where default_layout says, in loadable formats."""

from __future__ import annotations

import json

from faceme_core.models.layout import default_layout
from tests.support.tiny_models import build_tiny_model_dir


def test_build_writes_the_real_layout(tmp_path):
    paths = build_tiny_model_dir(tmp_path, with_antelopev2=True)
    layout = default_layout(tmp_path)
    assert (paths.base_model, paths.controlnet, paths.mix, paths.photomaker) == (
        layout.base_model, layout.controlnet, layout.mix, layout.photomaker)
    for part in ("unet", "vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "scheduler"):
        assert (paths.base_model / part).is_dir(), part
    index = json.loads((paths.base_model / "model_index.json").read_text())
    assert index["unet"] == ["diffusers", "UNet2DConditionModel"]
    assert json.loads((paths.controlnet / "config.json").read_text())["_class_name"] == "ControlNetModel"
    assert paths.mix.stat().st_size > 150e6  # real size: ~39M float32 parameters
    assert not list(tmp_path.glob(".faceme-tiny-*"))  # the cache marker stays in the cache
    assert paths.antelopev2 == layout.antelopev2
    pack_files = list(paths.antelopev2.iterdir())
    assert pack_files and all(p.suffix == ".onnx" for p in pack_files)
