"""The public component API training reuses: loading, one noise prediction, a trainable identity encoder."""

from __future__ import annotations

import pytest
import torch

from faceme_core.engine.components import (
    CONTROLNET_SCALE,
    DiffusionComponents,
    load_diffusion_components,
    load_text_encoders,
    load_vae,
    predict_noise,
)
from faceme_core.engine.identity import clip_id_encoder_from_state, load_mix
from faceme_core.engine.mix import Mix, MixConfig, expected_mix_tensors
from faceme_core.engine.prompt import add_time_ids, encode_prompt, splice_identity
from faceme_core.errors import ModelFormatError, ModelMissingError
from tests.engine.helpers import TINY_MIX

SIZE = 64  # pixels; latents are SIZE / 8


@pytest.fixture(scope="module")
def components(tiny_paths) -> DiffusionComponents:
    return load_diffusion_components(tiny_paths)


@pytest.fixture(scope="module")
def prompt_rows(tiny_paths):
    with torch.inference_mode():
        return encode_prompt(load_text_encoders(tiny_paths.base_model))


def inputs(batch: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    latents = torch.randn(batch, 4, SIZE // 8, SIZE // 8, generator=generator)
    control = torch.rand(batch, 3, SIZE, SIZE, generator=generator) * 2 - 1
    return latents, control


def test_components_load_with_device_and_dtype(tiny_paths):
    from dataclasses import replace

    loaded = load_diffusion_components(tiny_paths, device="cpu", dtype=torch.bfloat16)
    assert loaded.unet.dtype == torch.bfloat16 and loaded.controlnet.dtype == torch.bfloat16
    assert loaded.vae.dtype == torch.bfloat16  # only float16 is upcast (the SDXL VAE overflows there)
    assert loaded.scheduler_config["num_train_timesteps"] == 1000
    assert load_vae(tiny_paths.base_model, dtype=torch.float16).dtype == torch.float32  # force_upcast
    elsewhere = replace(tiny_paths, controlnet=tiny_paths.base_model / "nowhere")
    with pytest.raises(ModelMissingError, match="nowhere"):
        load_diffusion_components(elsewhere)
    assert load_diffusion_components(elsewhere, with_controlnet=False).controlnet is None  # training's case


def test_predict_noise_is_controlnet_then_unet_with_sdxl_conditions(components, prompt_rows):
    unet, controlnet = components.unet, components.controlnet
    latents, control = inputs(2)
    hidden = prompt_rows.c_text.expand(2, -1, -1)
    time_ids = add_time_ids(2, face_size=SIZE)
    with torch.no_grad():
        eps = predict_noise(unet, controlnet, latents, 500, hidden, prompt_rows.pooled, time_ids, control)
        # The same call spelt out as diffusers' SDXL ControlNet pipeline does it, rows given explicitly.
        added = {"text_embeds": prompt_rows.pooled.expand(2, -1), "time_ids": time_ids}
        down, mid = controlnet(latents, 500, encoder_hidden_states=hidden, controlnet_cond=control,
                               conditioning_scale=1.0, added_cond_kwargs=added, return_dict=False)
        expected = unet(latents, 500, encoder_hidden_states=hidden, added_cond_kwargs=added,
                        down_block_additional_residuals=down, mid_block_additional_residual=mid).sample
        no_control = unet(latents, 500, encoder_hidden_states=hidden, added_cond_kwargs=added).sample
        unscaled = predict_noise(unet, controlnet, latents, 500, hidden, prompt_rows.pooled, time_ids, control,
                                 conditioning_scale=0.0)
        other_ids = predict_noise(unet, controlnet, latents, 500, hidden, prompt_rows.pooled,
                                  add_time_ids(2, face_size=512), control)
    assert CONTROLNET_SCALE == 1.0 and eps.shape == latents.shape
    torch.testing.assert_close(eps, expected)
    torch.testing.assert_close(unscaled, no_control)  # scale 0: the ControlNet adds nothing
    assert (eps - no_control).abs().max() > 1e-4  # ... and scale 1 does
    assert (eps - other_ids).abs().max() > 1e-5  # time ids reach the model


def test_a_backward_pass_reaches_mix_and_the_controlnet(components, prompt_rows):
    """Stage I of training: Mix -> c_id -> ControlNet + UNet -> epsilon loss; gradients reach both."""
    unet, controlnet = components.unet, components.controlnet
    mix = Mix(TINY_MIX).train()
    controlnet.train()
    try:
        latents, control = inputs(2, seed=1)
        clip = torch.randn(2, 3, TINY_MIX.clip_feature_dim)  # 3 references per sample
        arcface = torch.nn.functional.normalize(torch.randn(2, 3, TINY_MIX.arcface_dim), dim=-1)
        tokens = mix(clip, arcface)
        assert tokens.shape == (2, 3, 2048)
        c_id = splice_identity(prompt_rows.c_text, prompt_rows.face_index, tokens)
        eps = predict_noise(unet, controlnet, latents, torch.tensor([10, 900]), c_id, prompt_rows.pooled,
                            add_time_ids(2, face_size=SIZE), control)
        torch.nn.functional.mse_loss(eps, torch.zeros_like(eps)).backward()
        for name, parameter in mix.named_parameters():
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
        grads = [p.grad for p in controlnet.parameters() if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads)
    finally:
        controlnet.eval().zero_grad(set_to_none=True)
        unet.zero_grad(set_to_none=True)


def test_the_clip_encoder_trains_too():
    from tests.support.tiny_models import tiny_photomaker_state

    encoder = clip_id_encoder_from_state(tiny_photomaker_state()["id_encoder"]).train()
    assert encoder.training
    feature = encoder(torch.randn(1, 3, 224, 224))
    feature.square().mean().backward()
    assert encoder.visual_projection_2.weight.grad.abs().sum() > 0
    assert encoder.vision_model.embeddings.patch_embedding.weight.grad.abs().sum() > 0


def test_mix_defaults_are_the_released_sizes_and_load_strictly(tiny_paths, tmp_path):
    from safetensors.torch import save_file

    shapes = {spec.name: spec.shape for spec in expected_mix_tensors()}
    assert shapes["pro_id.mlp1.fc1.weight"] == (1024, 512) and shapes["pro_id.mlp3.fc2.weight"] == (2048, 2048)
    assert shapes["mlp1.fc1.weight"] == (2048, 4096) and shapes["norm1.weight"] == (2048,)
    assert shapes["mlp2.fc2.weight"] == (2048, 2048) and len(shapes) == 38
    assert load_mix(tiny_paths.mix).config == MixConfig()

    tiny = Mix(TINY_MIX)
    path = tmp_path / "mix.safetensors"
    save_file({k: v.contiguous() for k, v in tiny.state_dict().items()}, str(path))
    loaded = load_mix(path, TINY_MIX)
    assert torch.equal(loaded.state_dict()["mlp2.fc1.weight"], tiny.state_dict()["mlp2.fc1.weight"])
    with pytest.raises(ModelFormatError, match=r"pro_id\.mlp1\.fc1\.weight has shape"):
        load_mix(path)  # the released sizes are the default and nothing else loads under them
    with pytest.raises(ValueError, match="hidden_dim"):
        MixConfig(hidden_dim=0)
