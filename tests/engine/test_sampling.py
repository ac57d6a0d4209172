"""The sampling loop: start latent, identity guidance, batching, seeds, cost, progress, cancellation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceme_core.engine.identity import IdentityTokens
from faceme_core.engine.options import SAMPLER_PRESETS, RestoreOptions
from faceme_core.engine.prompt import add_time_ids, splice_identity
from faceme_core.engine.restorer import FaceRequest, ProgressEvent
from faceme_core.engine.samplers import build_scheduler, noising_scheduler
from faceme_core.engine.sampling import Conditioning, denoise, identity_guidance, initial_latents
from faceme_core.tasks import Cancelled
from tests.engine.helpers import FACE, smooth_face

STEPS = 2


@pytest.fixture(scope="module")
def lq_faces():
    rng = np.random.default_rng(7)
    return [smooth_face(rng), smooth_face(rng)]


@pytest.fixture(scope="module")
def identity():
    return IdentityTokens(torch.randn(2, 2048, generator=torch.Generator().manual_seed(3)))


class CallCounter:
    """Counts the rows each UNet call sees (a forward pre-hook, so the real model still runs)."""

    def __init__(self, module):
        self.rows: list[int] = []
        self._handle = module.register_forward_pre_hook(lambda _m, args: self.rows.append(args[0].shape[0]))

    def close(self):
        self._handle.remove()


def run_denoise(restorer, lq, c_text, c_ids, strength, seed=0):
    generators = [torch.Generator().manual_seed(seed + i) for i in range(len(c_ids))]
    schedulers = [build_scheduler(SAMPLER_PRESETS["ddpm-50"], restorer.scheduler_config, STEPS) for _ in c_ids]
    lq_tensor = torch.stack([torch.from_numpy(f).permute(2, 0, 1).float() / 127.5 - 1 for f in lq])
    with torch.inference_mode():
        latents = initial_latents(restorer.vae, lq_tensor, generators, noising_scheduler(restorer.scheduler_config))
        conditioning = Conditioning(c_text, restorer.prompt.pooled, add_time_ids(1)[0], tuple(c_ids))
        return denoise(restorer.unet, restorer.controlnet, latents, lq_tensor, conditioning, schedulers, generators,
                       strength)


def test_identity_guidance_formula():
    text, ident = torch.randn(4, 8), torch.randn(4, 8)
    torch.testing.assert_close(identity_guidance(text, ident, 1.0), ident)
    torch.testing.assert_close(identity_guidance(text, ident, 0.0), text)
    torch.testing.assert_close(identity_guidance(text, ident, 5.0), text + 5 * (ident - text))


def test_guidance_one_is_the_id_branch_and_zero_the_text_branch(tiny_restorer, lq_faces, identity):
    prompt = tiny_restorer.prompt
    c_id = splice_identity(prompt.c_text, prompt.face_index, identity.tokens)
    lq = lq_faces[:1]
    guided_one = run_denoise(tiny_restorer, lq, prompt.c_text, [c_id], strength=1.0)
    id_alone = run_denoise(tiny_restorer, lq, c_id, [None], strength=123.0)  # blind run conditioned on c_id
    torch.testing.assert_close(guided_one, id_alone, rtol=1e-4, atol=1e-4)
    guided_zero = run_denoise(tiny_restorer, lq, prompt.c_text, [c_id], strength=0.0)
    text_alone = run_denoise(tiny_restorer, lq, prompt.c_text, [None], strength=123.0)
    torch.testing.assert_close(guided_zero, text_alone, rtol=1e-4, atol=1e-4)
    assert (guided_one - guided_zero).abs().max() > 1e-3  # the identity tokens do change the result


def test_start_latent_is_the_lq_latent_noised_to_999(tiny_restorer, lq_faces):
    vae = tiny_restorer.vae
    lq = torch.from_numpy(lq_faces[0]).permute(2, 0, 1)[None].float() / 127.5 - 1
    with torch.inference_mode():
        noising = noising_scheduler(tiny_restorer.scheduler_config)
        start = initial_latents(vae, lq, [torch.Generator().manual_seed(5)], noising)
        generator = torch.Generator().manual_seed(5)  # replay the same draws: posterior sample, then noise
        latent = vae.encode(lq).latent_dist.sample(generator=generator) * vae.config.scaling_factor
        noise = torch.randn(latent.shape, generator=generator)
    # scaled_linear betas of the base model's config, computed independently of diffusers
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2
    alpha_bar = torch.cumprod(1 - betas, 0)[999]
    expected = alpha_bar.sqrt() * latent + (1 - alpha_bar).sqrt() * noise
    torch.testing.assert_close(start, expected.float(), rtol=1e-5, atol=1e-5)


def test_batch_of_two_equals_two_single_passes(tiny_restorer, lq_faces, identity):
    requests = [FaceRequest(lq_faces[0], identity), FaceRequest(lq_faces[1], None)]
    together = tiny_restorer(requests, RestoreOptions(steps=STEPS, seed=11, batch_size=2))
    apart = tiny_restorer(requests, RestoreOptions(steps=STEPS, seed=11, batch_size=1))
    for a, b in zip(together, apart):
        assert np.abs(a.image.astype(int) - b.image.astype(int)).max() <= 2


def test_seed_reproducibility(tiny_restorer, lq_faces, identity):
    requests = [FaceRequest(lq_faces[0], identity)]
    first = tiny_restorer(requests, RestoreOptions(steps=STEPS, seed=42))[0].image
    again = tiny_restorer(requests, RestoreOptions(steps=STEPS, seed=42))[0].image
    other = tiny_restorer(requests, RestoreOptions(steps=STEPS, seed=43))[0].image
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_blind_restoration_costs_half(tiny_restorer, lq_faces, identity):
    counter = CallCounter(tiny_restorer.unet)
    try:
        with_id = tiny_restorer([FaceRequest(lq_faces[0], identity)], RestoreOptions(steps=STEPS, seed=1))[0]
        id_rows = sum(counter.rows)
        counter.rows.clear()
        blind = tiny_restorer([FaceRequest(lq_faces[0], None)], RestoreOptions(steps=STEPS, seed=1))[0]
        blind_rows = sum(counter.rows)
    finally:
        counter.close()
    assert (id_rows, blind_rows) == (2 * STEPS, STEPS)
    assert (with_id.model_evaluations, blind.model_evaluations) == (id_rows, blind_rows)
    assert blind.blind and not with_id.blind
    assert not np.array_equal(with_id.image, blind.image)


def test_other_presets_run_and_differ_from_the_reference(tiny_restorer, lq_faces):
    request = [FaceRequest(lq_faces[0], None)]
    reference = tiny_restorer(request, RestoreOptions(steps=STEPS, seed=2))[0]
    for sampler in ("dpmpp-25", "ddim-30"):
        other = tiny_restorer(request, RestoreOptions(sampler=sampler, steps=STEPS, seed=2))[0]
        assert other.steps == STEPS and other.image.shape == (FACE, FACE, 3)
        assert not np.array_equal(reference.image, other.image), sampler
    assert SAMPLER_PRESETS["ddpm-50"].reference and SAMPLER_PRESETS["ddpm-50"].steps == 50
    assert not any(p.reference for name, p in SAMPLER_PRESETS.items() if name != "ddpm-50")
    assert all("ours" in p.description for p in SAMPLER_PRESETS.values() if not p.reference)


def test_progress_events_per_step_and_face(tiny_restorer, lq_faces):
    events: list[ProgressEvent] = []
    requests = [FaceRequest(lq_faces[0], None), FaceRequest(lq_faces[1], None)]
    tiny_restorer(requests, RestoreOptions(steps=STEPS, seed=0, batch_size=1), progress=events.append)
    assert [(e.face_index, e.face_count, e.step, e.step_count) for e in events] == [
        (0, 2, 1, 2), (0, 2, 2, 2), (1, 2, 1, 2), (1, 2, 2, 2)]


def test_cancel_between_steps(tiny_restorer, lq_faces):
    counter = CallCounter(tiny_restorer.unet)
    events: list[ProgressEvent] = []
    try:
        with pytest.raises(Cancelled):
            tiny_restorer([FaceRequest(lq_faces[0], None)], RestoreOptions(steps=5, seed=0),
                          progress=events.append, cancel=lambda: len(events) >= 2)
    finally:
        counter.close()
    assert len(counter.rows) == 2 and [e.step for e in events] == [1, 2]


def test_bad_requests_are_refused(tiny_restorer, lq_faces):
    with pytest.raises(ValueError, match=r"requests\[0\]\.lq"):
        tiny_restorer([FaceRequest(lq_faces[0][:FACE // 2], None)])
    with pytest.raises(ValueError, match="sampler='euler-9'"):
        tiny_restorer([FaceRequest(lq_faces[0], None)], RestoreOptions(sampler="euler-9"))


def test_the_reference_setting_keeps_the_base_schedule_and_every_other_starts_at_999(tiny_restorer):
    config = tiny_restorer.scheduler_config
    first = {name: int(build_scheduler(preset, config, preset.steps).timesteps[0])
             for name, preset in SAMPLER_PRESETS.items()}
    assert first["ddpm-50"] == 981  # FaceMe's run: SDXL's "leading" spacing with steps_offset 1
    assert first["dpmpp-25"] == 999 and first["ddim-30"] == 999
    assert int(build_scheduler(SAMPLER_PRESETS["ddpm-50"], config, 10).timesteps[0]) == 999
    assert config.get("timestep_spacing") == "leading"  # the base config itself is left alone


def test_an_invalid_result_is_an_error_not_a_black_face(tiny_restorer, lq_faces, monkeypatch):
    from faceme_core.engine import restorer as restorer_module

    monkeypatch.setattr(restorer_module, "decode_latents",
                        lambda vae, latents: torch.full((latents.shape[0], 3, FACE, FACE), float("nan")))
    with pytest.raises(restorer_module.EngineError, match="invalid values"):
        tiny_restorer([FaceRequest(lq=lq_faces[0], identity=None)], RestoreOptions(steps=1, seed=0))


def test_the_seed_is_reported_and_reproduces_the_result(tiny_restorer, lq_faces):
    request = [FaceRequest(lq=lq_faces[0], identity=None)]
    (first,) = tiny_restorer(request, RestoreOptions(steps=1))
    (again,) = tiny_restorer(request, RestoreOptions(steps=1, seed=first.seed))
    assert np.array_equal(first.image, again.image)


@pytest.mark.parametrize("field, value", [("identity_strength", float("nan")), ("identity_strength", -0.5),
                                          ("seed", 2**40), ("steps", 1001)])
def test_out_of_range_options_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        RestoreOptions(**{field: value}).validate()
