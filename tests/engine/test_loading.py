"""Strict loading of the identity components: Mix (mix.safetensors) and PhotoMaker's CLIP tower."""

from __future__ import annotations

import pickle

import pytest
import torch
from safetensors.torch import load_file, save_file

from faceme_core.engine.identity import clip_id_encoder_from_state, load_clip_id_encoder, load_mix
from faceme_core.engine.mix import expected_mix_tensors
from faceme_core.errors import ModelFormatError
from tests.support.tiny_models import TINY_CLIP_VISION, tiny_photomaker_state


@pytest.fixture(scope="module")
def mix_state(tiny_paths):
    return load_file(str(tiny_paths.mix))


def test_mix_loads_every_released_tensor(tiny_paths, mix_state):
    mix = load_mix(tiny_paths.mix)
    loaded = mix.state_dict()
    assert sorted(loaded) == sorted(spec.name for spec in expected_mix_tensors())
    assert torch.equal(loaded["pro_id.mlp1.fc1.weight"], mix_state["pro_id.mlp1.fc1.weight"])
    assert torch.equal(loaded["mlp2.fc2.bias"], mix_state["mlp2.fc2.bias"])
    assert loaded["norm1.weight"].device.type == "cpu"  # really materialised, not meta


def test_mix_wrong_shape_names_tensor_expected_and_found(tmp_path, mix_state):
    broken = dict(mix_state)
    broken["mlp1.fc1.weight"] = torch.zeros(2048, 4000)
    path = tmp_path / "mix.safetensors"
    save_file(broken, str(path))
    with pytest.raises(ModelFormatError) as err:
        load_mix(path)
    message = str(err.value)
    assert "mlp1.fc1.weight" in message and "(2048, 4000)" in message and "(2048, 4096)" in message
    assert str(path) in message


def test_mix_missing_and_extra_tensors_are_named(tmp_path, mix_state):
    broken = {k: v for k, v in mix_state.items() if k != "pro_id.mlp3.layernorm.bias"}
    broken["pro_id.mlp5.fc1.weight"] = torch.zeros(2, 2)
    path = tmp_path / "mix.safetensors"
    save_file(broken, str(path))
    expected = r"missing pro_id\.mlp3\.layernorm\.bias.*unexpected pro_id\.mlp5\.fc1\.weight"
    with pytest.raises(ModelFormatError, match=expected):
        load_mix(path)


def test_mix_not_safetensors_is_a_format_error(tmp_path):
    path = tmp_path / "mix.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelFormatError, match="mix.safetensors"):
        load_mix(path)


def test_photomaker_tower_ignores_exactly_fuse_module(tmp_path):
    state = tiny_photomaker_state()
    assert any(k.startswith("fuse_module.") for k in state["id_encoder"])
    path = tmp_path / "photomaker-v1.bin"
    torch.save(state, path)
    encoder = load_clip_id_encoder(path)
    loaded = encoder.state_dict()
    assert not any(k.startswith("fuse_module.") for k in loaded)
    assert torch.equal(loaded["visual_projection_2.weight"], state["id_encoder"]["visual_projection_2.weight"])
    assert torch.equal(loaded["vision_model.encoder.layers.1.mlp.fc2.bias"],
                       state["id_encoder"]["vision_model.encoder.layers.1.mlp.fc2.bias"])
    # Sizes came from the tensors' shapes, not from ViT-L/14's defaults.
    assert encoder.vision_model.config.num_hidden_layers == TINY_CLIP_VISION["num_hidden_layers"]
    assert encoder.vision_model.config.intermediate_size == TINY_CLIP_VISION["intermediate_size"]
    assert encoder.vision_model.config.num_attention_heads == 16


@pytest.mark.parametrize("extra", ["fuse_module_v2.weight", "vision_model.encoder.layers.0.extra.weight",
                                   "visual_projection_3.weight"])
def test_photomaker_other_extra_keys_fail(extra):
    state = tiny_photomaker_state()["id_encoder"]
    state[extra] = torch.zeros(3)
    with pytest.raises(ModelFormatError, match=f"unexpected {extra.replace('.', '[.]')}"):
        clip_id_encoder_from_state(state)


def test_photomaker_missing_or_misshaped_keys_fail():
    state = tiny_photomaker_state()["id_encoder"]
    del state["visual_projection_2.weight"]
    with pytest.raises(ModelFormatError, match="missing visual_projection_2.weight"):
        clip_id_encoder_from_state(dict(state))
    state = tiny_photomaker_state()["id_encoder"]
    state["visual_projection.weight"] = torch.zeros(768, 1000)
    expected = r"visual_projection.weight has shape \(768, 1000\), expected \(768, 1024\)"
    with pytest.raises(ModelFormatError, match=expected):
        clip_id_encoder_from_state(state)


class NotATensor:
    """Any class: unpickling it would run arbitrary code, so the loader must refuse it."""


def test_photomaker_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "photomaker-v1.bin"
    with open(path, "wb") as handle:
        pickle.dump({"id_encoder": {"x": NotATensor()}}, handle, protocol=2)
    with pytest.raises(ModelFormatError, match="photomaker-v1.bin"):
        load_clip_id_encoder(path)


def test_clip_feature_is_both_projections_of_the_pooled_output():
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    state = tiny_photomaker_state()["id_encoder"]
    encoder = clip_id_encoder_from_state(state)
    reference = CLIPVisionModelWithProjection(CLIPVisionConfig(**TINY_CLIP_VISION)).eval()
    reference.load_state_dict({k: v for k, v in state.items() if k.startswith(("vision_model.", "visual_projection."))})
    pixels = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        feature = encoder(pixels)
        out = reference(pixel_values=pixels)
    assert feature.shape == (2, 2048)
    torch.testing.assert_close(feature[:, :768], out.image_embeds, rtol=1e-4, atol=1e-5)
    pooled = reference.vision_model(pixel_values=pixels).pooler_output
    torch.testing.assert_close(feature[:, 768:], pooled @ state["visual_projection_2.weight"].T, rtol=1e-4, atol=1e-5)
