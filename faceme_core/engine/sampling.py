"""FaceMe's sampling loop: start latent from the LQ face, ControlNet + UNet each step, identity guidance.

Faces in one batch run as rows of one model call: every face has a c_text row, faces with references
also a c_id row (paper Eq. 5 needs both), so blind faces cost half. Each face owns its scheduler and
its torch.Generator: results do not depend on how faces were batched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from faceme_core.engine.components import CONTROLNET_SCALE, predict_noise
from faceme_core.engine.samplers import START_TIMESTEP
from faceme_core.tasks import Cancelled

__all__ = ["CONTROLNET_SCALE", "Conditioning", "decode_latents", "denoise", "identity_guidance", "initial_latents"]


def identity_guidance(out_text: torch.Tensor, out_id: torch.Tensor, strength: float) -> torch.Tensor:
    """Paper Eq. 5: out(c_text) + lambda * (out(c_id) - out(c_text))."""
    return out_text + strength * (out_id - out_text)


def initial_latents(vae, lq: torch.Tensor, generators: Sequence[torch.Generator], noising_scheduler) -> torch.Tensor:
    """VAE-encode the LQ faces ([-1, 1], on the execution device), scale, and noise to t = 999 with
    ``add_noise`` (float32). Works with the VAE behind offload hooks (its own device may be meta)."""
    from diffusers.utils.torch_utils import randn_tensor

    posterior = vae.encode(lq.to(dtype=vae.dtype)).latent_dist
    latents = posterior.sample(generator=list(generators)).float() * vae.config.scaling_factor
    noise = randn_tensor(latents.shape, generator=list(generators), device=latents.device, dtype=latents.dtype)
    timesteps = torch.full((latents.shape[0],), START_TIMESTEP, dtype=torch.long, device=latents.device)
    return noising_scheduler.add_noise(latents, noise, timesteps)


def decode_latents(vae, latents: torch.Tensor) -> torch.Tensor:
    """Latents -> images in [-1, 1], float32 (the VAE runs in its own dtype, float32 for the SDXL VAE)."""
    images = vae.decode(latents.to(dtype=vae.dtype) / vae.config.scaling_factor).sample
    return images.float()


@dataclass(frozen=True)
class Conditioning:
    """What the model calls see for a batch of faces (rows built once, reused every step)."""

    c_text: torch.Tensor  # (77, D)
    pooled: torch.Tensor  # (P,)
    time_ids: torch.Tensor  # (6,)
    c_ids: tuple[torch.Tensor | None, ...]  # per face: (77, D) spliced c_id, or None for blind restoration

    def row_faces(self) -> list[int]:
        """Face index of each model row: [f0 text, (f0 id), f1 text, (f1 id), ...]."""
        rows = []
        for face, c_id in enumerate(self.c_ids):
            rows += [face] if c_id is None else [face, face]
        return rows

    def encoder_rows(self) -> torch.Tensor:
        rows = []
        for c_id in self.c_ids:
            rows += [self.c_text] if c_id is None else [self.c_text, c_id]
        return torch.stack(rows)


def denoise(
    unet,
    controlnet,
    latents: torch.Tensor,
    control: torch.Tensor,
    conditioning: Conditioning,
    schedulers: Sequence,
    generators: Sequence[torch.Generator],
    strength: float,
    on_step: Callable[[int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> torch.Tensor:
    """Run every scheduler step; ``latents`` (B, 4, h, w) float32 and ``control`` (B, 3, H, W) in [-1, 1],
    both on the execution device (the models may sit behind offload hooks)."""
    device = latents.device
    # 1. rows of the batched model call
    row_faces = conditioning.row_faces()
    index = torch.tensor(row_faces, device=device)
    encoder_states = conditioning.encoder_rows().to(device)
    pooled, time_ids = conditioning.pooled.to(device), conditioning.time_ids.to(device)
    control_rows = control.to(device)[index]
    text_row, id_row = _branch_rows(conditioning.c_ids)
    latents = latents.to(dtype=torch.float32)
    timesteps = schedulers[0].timesteps

    for step, t in enumerate(timesteps):
        # 2. cancellation is honoured between steps
        if cancel is not None and cancel():
            raise Cancelled("restoration cancelled")
        # 3. ControlNet + UNet on all rows at once
        model_in = torch.cat([s.scale_model_input(latents[f:f + 1], t) for f, s in enumerate(schedulers)])
        eps = predict_noise(unet, controlnet, model_in[index], t, encoder_states, pooled, time_ids, control_rows,
                            CONTROLNET_SCALE).float()
        # 4. identity guidance and one scheduler step per face (its own generator)
        stepped = []
        for face, scheduler in enumerate(schedulers):
            guided = eps[text_row[face]]
            if id_row[face] is not None:
                guided = identity_guidance(guided, eps[id_row[face]], strength)
            stepped.append(scheduler.step(guided[None], t, latents[face:face + 1], generator=generators[face],
                                          return_dict=False)[0])
        latents = torch.cat(stepped)
        if on_step is not None:
            on_step(step + 1)
    return latents


def _branch_rows(c_ids: Sequence[torch.Tensor | None]) -> tuple[list[int], list[int | None]]:
    text_row, id_row, row = [], [], 0
    for c_id in c_ids:
        text_row.append(row)
        id_row.append(None if c_id is None else row + 1)
        row += 1 if c_id is None else 2
    return text_row, id_row
