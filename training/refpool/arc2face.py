"""Arc2Face as the reference-pool synthesiser (the paper's FFHQRef renders).

Arc2Face is Stable Diffusion 1.5 with its own UNet and CLIP text encoder (Hub: ``FoivosPar/Arc2Face``,
sub-folders ``arc2face`` and ``encoder``). The prompt is "photo of a id person"; the input embedding of
the "id" token is replaced by the ArcFace vector (L2-normalised, zero-padded from 512 to the encoder's
768). Arc2Face's own wrapper subclasses CLIP's text model and calls transformers internals that no
longer exist; here a forward hook on the text encoder's input-embedding layer swaps the token instead,
which uses only public API and works across transformers versions.

Pose and expression: plain Arc2Face is conditioned on identity only, so the pose of a render is
whatever the seed gives. Arc2Face's released ControlNet steers pose/expression from EMOCA normal-map
renders, which need EMOCA (not a pip package); a caller that can make such condition images passes
``condition`` (target + exemplar -> PIL image) and a ControlNet. The builder records each render's
measured pose/expression either way, so what the pool really covers is visible.

Not run in this repository's tests (the weights cannot be downloaded here): tests use a tiny synthesiser.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from training.refpool.synthesis import RenderRequest

ARC2FACE_REPO = "FoivosPar/Arc2Face"
ARC2FACE_UNET_SUBFOLDER = "arc2face"
ARC2FACE_ENCODER_SUBFOLDER = "encoder"
ARC2FACE_CONTROLNET_SUBFOLDER = "controlnet"
SD15_REPO = "stable-diffusion-v1-5/stable-diffusion-v1-5"
ID_PROMPT = "photo of a id person"
ID_WORD = "id"
ARCFACE_DIM = 512


def identity_prompt_embeds(text_encoder, tokenizer, arcface, device=None):
    """Prompt embeddings (B, 77, 768) of "photo of a id person" with the "id" token's input embedding
    replaced by each row of ``arcface`` (B, 512): the few lines Arc2Face needs, on public API only."""
    import torch

    arcface = torch.as_tensor(arcface, dtype=torch.float32)
    if arcface.ndim == 1:
        arcface = arcface[None]
    arcface = torch.nn.functional.normalize(arcface, dim=-1)
    batch = arcface.shape[0]
    ids = tokenizer(ID_PROMPT, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                    return_tensors="pt").input_ids.repeat(batch, 1)
    id_token = tokenizer.encode(ID_WORD, add_special_tokens=False)[0]
    where = ids == id_token
    if int(where.sum()) != batch:
        raise ValueError(f"the tokenizer did not give one {ID_WORD!r} token per prompt")
    embedding_layer = text_encoder.get_input_embeddings()
    device = device or embedding_layer.weight.device
    width = embedding_layer.weight.shape[-1]
    padded = torch.nn.functional.pad(arcface, (0, width - arcface.shape[-1]))

    def swap_id_token(_module, _inputs, output):
        output = output.clone()
        output[where.to(output.device)] = padded.to(output.device, output.dtype)
        return output

    handle = embedding_layer.register_forward_hook(swap_id_token)
    try:
        with torch.no_grad():
            return text_encoder(input_ids=ids.to(device))[0]
    finally:
        handle.remove()


class Arc2FaceSynthesiser:
    """Renders through a diffusers StableDiffusion(ControlNet)Pipeline built by ``load``."""

    name = "arc2face"

    def __init__(self, pipeline, *, steps: int = 25, guidance_scale: float = 3.0,
                 condition: Callable[[RenderRequest], object] | None = None) -> None:
        self.pipeline = pipeline
        self.steps, self.guidance_scale, self.condition = steps, guidance_scale, condition

    @classmethod
    def load(cls, *, device: str = "cuda", dtype: str = "float16", base_model: str = SD15_REPO,
             arc2face: str = ARC2FACE_REPO, with_controlnet: bool = False,
             condition: Callable[[RenderRequest], object] | None = None, **options) -> "Arc2FaceSynthesiser":
        """Download (first use) and load Arc2Face on ``base_model``; ``with_controlnet`` needs ``condition``."""
        import torch
        from diffusers import (
            ControlNetModel,
            DPMSolverMultistepScheduler,
            StableDiffusionControlNetPipeline,
            StableDiffusionPipeline,
            UNet2DConditionModel,
        )
        from transformers import CLIPTextModel

        torch_dtype = getattr(torch, dtype)
        text_encoder = CLIPTextModel.from_pretrained(arc2face, subfolder=ARC2FACE_ENCODER_SUBFOLDER,
                                                     torch_dtype=torch_dtype)
        unet = UNet2DConditionModel.from_pretrained(arc2face, subfolder=ARC2FACE_UNET_SUBFOLDER,
                                                    torch_dtype=torch_dtype)
        common = dict(text_encoder=text_encoder, unet=unet, safety_checker=None, torch_dtype=torch_dtype)
        if with_controlnet:
            if condition is None:
                raise ValueError("with_controlnet=True needs a condition function (target -> condition image)")
            controlnet = ControlNetModel.from_pretrained(arc2face, subfolder=ARC2FACE_CONTROLNET_SUBFOLDER,
                                                         torch_dtype=torch_dtype)
            pipeline = StableDiffusionControlNetPipeline.from_pretrained(base_model, controlnet=controlnet, **common)
        else:
            pipeline = StableDiffusionPipeline.from_pretrained(base_model, **common)
        pipeline.scheduler = DPMSolverMultistepScheduler.from_config(pipeline.scheduler.config)
        return cls(pipeline.to(device), condition=condition, **options)

    def __call__(self, request: RenderRequest) -> np.ndarray:
        import torch

        pipeline = self.pipeline
        embeds = identity_prompt_embeds(pipeline.text_encoder, pipeline.tokenizer, request.arcface)
        extra = {} if self.condition is None else {"image": self.condition(request)}
        generator = torch.Generator("cpu").manual_seed(request.seed)
        image = pipeline(prompt_embeds=embeds, num_inference_steps=self.steps, guidance_scale=self.guidance_scale,
                         generator=generator, output_type="np", **extra).images[0]
        return (np.clip(image, 0.0, 1.0) * 255.0).round().astype(np.uint8)
