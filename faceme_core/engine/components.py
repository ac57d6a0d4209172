"""The diffusion components FaceMe runs, loaded from a model folder, and one noise prediction.

Shared by the ``Restorer`` (inference) and ``training/`` (which must never keep a second copy):

- ``load_unet``, ``load_controlnet``, ``load_vae``, ``load_scheduler_config`` and
  ``load_diffusion_components`` read the released layout (diffusers folders, safetensors only);
- ``load_text_encoders`` gives SDXL's two tokenizers and text encoders (see ``prompt.encode_prompt``);
- ``predict_noise`` is one ControlNet + UNet evaluation with SDXL's added conditions.

Nothing here switches modes or gradients: diffusers' ``from_pretrained`` returns modules in eval mode
(call ``.train()`` to train them) and ``predict_noise`` is differentiable; callers that only infer wrap
it in ``torch.inference_mode()`` themselves, as the Restorer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from faceme_core.errors import ModelFormatError, ModelMissingError
from faceme_core.models.layout import ModelPaths

CONTROLNET_SCALE = 1.0  # FaceMe's ControlNet conditioning scale (the SDXL ControlNet pipeline's default)


@dataclass(frozen=True)
class DiffusionComponents:
    """UNet, ControlNet and VAE as loaded (their devices and dtypes are the modules' own)."""

    unet: torch.nn.Module
    controlnet: torch.nn.Module | None  # None when not asked for (training builds its own from the UNet)
    vae: torch.nn.Module
    scheduler_config: dict


@dataclass(frozen=True)
class TextEncoders:
    """SDXL's two tokenizers and text encoders, in the order their outputs are concatenated."""

    tokenizer: object
    tokenizer_2: object
    text_encoder: torch.nn.Module
    text_encoder_2: torch.nn.Module


# --- loading -----------------------------------------------------------------------------------------

def load_unet(base_model: Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32):
    from diffusers import UNet2DConditionModel

    return _from_pretrained(UNet2DConditionModel, _need(Path(base_model) / "unet"), dtype).to(device)


def load_controlnet(controlnet: Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32):
    """The FaceMe ControlNet folder (training builds a fresh one with ``ControlNetModel.from_unet``)."""
    from diffusers import ControlNetModel

    folder = Path(controlnet)
    _need(folder / "config.json")
    return _from_pretrained(ControlNetModel, folder, dtype).to(device)


def vae_dtype_for(base_model: Path, dtype: torch.dtype) -> torch.dtype:
    """The SDXL VAE overflows in float16: float32 instead, unless its config says it is fp16-safe."""
    from diffusers import AutoencoderKL

    force_upcast = AutoencoderKL.load_config(Path(base_model) / "vae").get("force_upcast", True)
    return torch.float32 if dtype == torch.float16 and force_upcast else dtype


def load_vae(base_model: Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32):
    """The VAE in ``vae_dtype_for(dtype)`` (float32 when float16 would overflow)."""
    from diffusers import AutoencoderKL

    folder = _need(Path(base_model) / "vae")
    return _from_pretrained(AutoencoderKL, folder, vae_dtype_for(base_model, dtype)).to(device)


def load_scheduler_config(base_model: Path) -> dict:
    """The base model's scheduler config; the engine builds its DDPM/DPM++/DDIM schedulers from it."""
    from diffusers import DDPMScheduler

    return dict(DDPMScheduler.load_config(_need(Path(base_model) / "scheduler")))


def load_diffusion_components(paths: ModelPaths, device: str | torch.device = "cpu",
                              dtype: torch.dtype = torch.float32, with_controlnet: bool = True
                              ) -> DiffusionComponents:
    """UNet, FaceMe ControlNet (unless ``with_controlnet`` is False) and VAE from ``paths`` (a
    ``ModelPaths``; only ``base_model`` and ``controlnet`` are read), on ``device`` in ``dtype``
    (the VAE as ``load_vae`` says)."""
    base = Path(paths.base_model)
    return DiffusionComponents(unet=load_unet(base, device, dtype),
                               controlnet=load_controlnet(paths.controlnet, device, dtype) if with_controlnet else None,
                               vae=load_vae(base, device, dtype),
                               scheduler_config=load_scheduler_config(base))


def load_text_encoders(base_model: Path, device: str | torch.device = "cpu",
                       dtype: torch.dtype = torch.float32) -> TextEncoders:
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer
    from transformers.utils import logging as transformers_logging

    from faceme_core.models.verify_folders import weights_variant

    transformers_logging.disable_progress_bar()  # one-off loads: their per-tensor bars are noise to users
    base_model = Path(base_model)
    for part in ("text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2"):
        if not (base_model / part).is_dir():
            raise ModelMissingError(f"{base_model}: the base model has no {part}/ folder")
    tokenizers = [CLIPTokenizer.from_pretrained(base_model / part) for part in ("tokenizer", "tokenizer_2")]
    # Safetensors only (nothing unpickles); fp16-only downloads need their variant named.
    encoders = [
        model_class.from_pretrained(base_model / part, torch_dtype=dtype, use_safetensors=True,
                                    variant=weights_variant(base_model / part, "model")).to(device)
        for model_class, part in ((CLIPTextModel, "text_encoder"), (CLIPTextModelWithProjection, "text_encoder_2"))
    ]
    return TextEncoders(tokenizers[0], tokenizers[1], encoders[0], encoders[1])


def check_cross_attention_width(width: int, *models) -> None:
    """The prompt rows (and the identity tokens spliced into them) must be as wide as cross-attention."""
    for model in models:
        found = model.config.cross_attention_dim
        if found != width:
            raise ModelFormatError(f"{type(model).__name__}: cross_attention_dim {found}, but the prompt "
                                   f"embeddings are {width}-d (FaceMe needs SDXL's 2048)")


def _need(path: Path) -> Path:
    if not path.exists():
        raise ModelMissingError(f"{path} is missing: install the FaceMe models first")
    return path


def _from_pretrained(model_class, folder: Path, torch_dtype: torch.dtype):
    """A diffusers model from safetensors only (nothing unpickles); fp16-only downloads name their variant."""
    from faceme_core.models.verify_folders import weights_variant

    try:
        return model_class.from_pretrained(folder, torch_dtype=torch_dtype, use_safetensors=True,
                                           variant=weights_variant(folder))
    except (OSError, ValueError) as error:
        raise ModelFormatError(f"{folder}: cannot load {model_class.__name__}: {error}") from error


# --- one noise prediction ----------------------------------------------------------------------------

def predict_noise(
    unet,
    controlnet,
    noisy_latents: torch.Tensor,
    timesteps: torch.Tensor | int,
    encoder_hidden_states: torch.Tensor,
    pooled: torch.Tensor,
    time_ids: torch.Tensor,
    control_image: torch.Tensor,
    conditioning_scale: float = CONTROLNET_SCALE,
) -> torch.Tensor:
    """epsilon for each row: ControlNet on the control image, then the UNet with its residuals.

    noisy_latents (B, 4, h, w); timesteps a scalar or (B,); encoder_hidden_states (B, 77, 2048) (c_text
    or c_id rows); pooled (B, P) or (P,) and time_ids (B, 6) or (6,): SDXL's added conditions
    (``text_embeds`` and ``time_ids``), broadcast to B rows; control_image (B, 3, H, W) in [-1, 1] (the
    degraded face, the range FaceMe was trained with). Inputs are cast to the UNet's dtype and the
    ControlNet's; the result is in the UNet's dtype. Differentiable (training calls it as is).
    """
    rows = noisy_latents.shape[0]
    dtype = unet.dtype
    added = {"text_embeds": _rows(pooled, rows).to(dtype), "time_ids": _rows(time_ids, rows).to(dtype)}
    hidden = encoder_hidden_states.to(dtype)
    down, mid = controlnet(noisy_latents.to(controlnet.dtype), timesteps, encoder_hidden_states=hidden.to(controlnet.dtype),
                           controlnet_cond=control_image.to(controlnet.dtype), conditioning_scale=conditioning_scale,
                           added_cond_kwargs=added, return_dict=False)
    return unet(noisy_latents.to(dtype), timesteps, encoder_hidden_states=hidden, added_cond_kwargs=added,
                down_block_additional_residuals=down, mid_block_additional_residual=mid, return_dict=False)[0]


def _rows(tensor: torch.Tensor, rows: int) -> torch.Tensor:
    return tensor.expand(rows, -1) if tensor.ndim == 1 else tensor
