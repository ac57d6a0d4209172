"""The one trainable module of both stages: FaceMe's ControlNet and Mix, and what their forward does.

Wrapping both in one ``nn.Module`` lets accelerate prepare a single model (DeepSpeed prepares exactly
one) and keeps the step logic in one place. The frozen UNet is held outside the module's parameters
(it is neither trained, nor saved in checkpoints, nor wrapped by DDP) but is called in ``forward``,
so gradients flow through it into the ControlNet, as in diffusers' ControlNet training.

Forward = the engine's own pieces: Mix (identity tokens) -> ``splice_identity`` (c_id) ->
``predict_noise`` (ControlNet then UNet with SDXL's added conditions). Nothing is re-implemented here.
"""

from __future__ import annotations

import torch
from torch import nn

from faceme_core.engine.components import predict_noise
from faceme_core.engine.prompt import PromptEmbeddings, splice_identity


class FaceMeTrainable(nn.Module):
    def __init__(self, controlnet: nn.Module, mix: nn.Module, unet: nn.Module, prompt: PromptEmbeddings,
                 time_ids: torch.Tensor, train_mix: bool):
        super().__init__()
        self.controlnet = controlnet
        self.mix = mix
        self.train_mix = train_mix
        mix.requires_grad_(train_mix)
        self._frozen = {"unet": unet}  # a plain dict: not a submodule, so not trained, saved or wrapped
        # The cached prompt embeddings travel with the module (buffers follow .to(device)), never in the data.
        self.register_buffer("c_text", prompt.c_text.float().clone(), persistent=False)
        self.register_buffer("pooled", prompt.pooled.float().clone(), persistent=False)
        self.register_buffer("time_ids", time_ids.float().clone(), persistent=False)
        self.face_index = prompt.face_index

    @property
    def unet(self) -> nn.Module:
        return self._frozen["unet"]

    def train(self, mode: bool = True) -> "FaceMeTrainable":
        super().train(mode)
        if not self.train_mix:
            self.mix.eval()  # Stage II: Mix is a fixed function (it has no dropout; eval keeps it so)
        return self

    def encoder_states(self, clip: torch.Tensor, arcface: torch.Tensor, reference_count: torch.Tensor,
                       drop_identity: torch.Tensor) -> torch.Tensor:
        """(B, 77, D): c_id for each sample (its first ``reference_count`` references), or c_text where
        ``drop_identity`` is set (Stage II's replacement by the plain text prompt)."""
        batch, slots = clip.shape[:2]
        valid = torch.arange(slots, device=clip.device)[None] < reference_count[:, None].to(clip.device)
        dtype = next(self.mix.parameters()).dtype  # float32, or float16 when DeepSpeed casts the module
        with torch.set_grad_enabled(self.train_mix and torch.is_grad_enabled()):
            tokens = self.mix(clip[valid].to(dtype), arcface[valid].to(dtype))  # one Mix call for the batch
        rows, start = [], 0
        for sample in range(batch):
            count = int(reference_count[sample])
            c_id = splice_identity(self.c_text, self.face_index, tokens[start:start + count])
            start += count
            rows.append(self.c_text.to(c_id.dtype) if bool(drop_identity[sample]) else c_id)
        return torch.stack(rows)

    def forward(self, noisy_latents: torch.Tensor, timesteps: torch.Tensor, control: torch.Tensor,
                clip: torch.Tensor, arcface: torch.Tensor, reference_count: torch.Tensor,
                drop_identity: torch.Tensor) -> torch.Tensor:
        """The predicted noise (epsilon) for each sample."""
        batch = noisy_latents.shape[0]
        states = self.encoder_states(clip, arcface, reference_count, drop_identity)
        return predict_noise(self.unet, self.controlnet, noisy_latents, timesteps, states,
                             self.pooled.expand(batch, -1), self.time_ids.expand(batch, -1), control)
