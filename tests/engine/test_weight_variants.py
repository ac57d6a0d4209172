"""fp16-variant-only downloads (e.g. `diffusion_pytorch_model.fp16.safetensors`) load, and pickles never do."""

from __future__ import annotations

import numpy as np
import pytest

from faceme_core.engine.options import RestoreOptions
from faceme_core.engine.restorer import FaceRequest, Restorer
from faceme_core.errors import ModelFormatError
from tests.engine.helpers import FACE, smooth_face
from tests.support.tiny_models import build_tiny_model_dir

DIFFUSERS_PARTS = {"unet": "UNet2DConditionModel", "vae": "AutoencoderKL"}
TEXT_PARTS = {"text_encoder": "CLIPTextModel", "text_encoder_2": "CLIPTextModelWithProjection"}


def resave_as_fp16_variant(folder, class_name, module):
    model = getattr(module, class_name).from_pretrained(folder)
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    model.half().save_pretrained(folder, variant="fp16")
    assert [p.name for p in folder.glob("*.safetensors")] and all(".fp16." in p.name for p in folder.glob("*.safetensors"))


def test_a_base_model_with_only_fp16_variant_weights_loads_and_runs(tmp_path, rng):
    import diffusers
    import transformers

    paths = build_tiny_model_dir(tmp_path / "models")
    for part, class_name in DIFFUSERS_PARTS.items():
        resave_as_fp16_variant(paths.base_model / part, class_name, diffusers)
    for part, class_name in TEXT_PARTS.items():
        resave_as_fp16_variant(paths.base_model / part, class_name, transformers)
    resave_as_fp16_variant(paths.controlnet, "ControlNetModel", diffusers)

    restorer = Restorer.load(paths, device="cpu", face_size=FACE, cache_dir=tmp_path / "cache")
    (result,) = restorer([FaceRequest(lq=smooth_face(rng), identity=None)], RestoreOptions(steps=1, seed=0))
    assert result.image.shape == (FACE, FACE, 3) and result.image.dtype == np.uint8


def test_pickled_diffusers_weights_are_never_loaded(tmp_path):
    import torch

    paths = build_tiny_model_dir(tmp_path / "models")
    unet_dir = paths.base_model / "unet"
    (weights,) = unet_dir.glob("*.safetensors")
    from safetensors.torch import load_file

    torch.save(load_file(weights), unet_dir / "diffusion_pytorch_model.bin")
    weights.unlink()
    with pytest.raises(ModelFormatError, match="no file named diffusion_pytorch_model.safetensors"):
        Restorer.load(paths, device="cpu", face_size=FACE, cache_dir=tmp_path / "cache")
