"""The restoration engine's public face: ``Restorer.load(paths)`` then ``restorer(requests, options)``.

The constructor takes built components and does no I/O; ``load`` reads the released weights
(diffusers style). c_text comes from the disk cache (text encoders are never kept loaded).
"""

from __future__ import annotations

import gc
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from faceme_core.engine.color import to_uint8_rounded, wavelet_color_fix_uint8
from faceme_core.engine.components import (
    check_cross_attention_width,
    load_controlnet,
    load_scheduler_config,
    load_unet,
    load_vae,
)
from faceme_core.engine.identity import (
    IdentityCache,
    IdentityTokens,
    ReferenceFace,
    arcface_tensor,
    clip_pixels,
    file_fingerprint,
    load_clip_id_encoder,
    load_mix,
)
from faceme_core.engine.offload import check_offload_mode, place_modules
from faceme_core.engine.options import RestoreOptions
from faceme_core.engine.prompt import FACE_SIZE, PromptEmbeddings, add_time_ids, load_prompt_embeddings, splice_identity
from faceme_core.engine.samplers import build_scheduler, noising_scheduler
from faceme_core.engine.sampling import Conditioning, decode_latents, denoise, initial_latents
from faceme_core.errors import FaceMeError, ModelMissingError
from faceme_core.models.layout import ModelPaths


class EngineError(FaceMeError):
    """A restoration could not produce a valid result."""

__all__ = ["EngineError", "FaceRequest", "FaceResult", "IdentityTokens", "ProgressEvent", "ReferenceFace", "Restorer"]


@dataclass(frozen=True)
class FaceRequest:
    lq: np.ndarray  # (S, S, 3) uint8 RGB degraded face aligned to the FFHQ template, S = the restorer's face_size
    identity: IdentityTokens | None  # None: blind restoration (c_text only, one branch, half the compute)


@dataclass(frozen=True)
class FaceResult:
    image: np.ndarray  # (S, S, 3) uint8 RGB restored face
    blind: bool
    steps: int
    model_evaluations: int  # ControlNet+UNet evaluations spent on this face: steps x branches
    seconds: float  # wall time of its batch divided by the faces in it
    seed: int  # the run's seed (face i uses seed + i): the same seed and options reproduce the result


@dataclass(frozen=True)
class ProgressEvent:
    face_index: int
    face_count: int
    step: int  # 1-based
    step_count: int


def offload_mode(offload: str | bool) -> str:
    """The old boolean ``offload`` meant "keep idle parts off the GPU": accelerate's model offload."""
    if isinstance(offload, bool):
        return "model" if offload else "none"
    return check_offload_mode(offload)


class Restorer:
    """``face_size`` is the aligned face's side (512 for the released weights; tests run tiny models at
    64). ``offload`` is one of ``offload.OFFLOAD_MODES`` (see that module for the memory each needs)."""

    def __init__(self, unet, controlnet, vae, scheduler_config: dict, clip_encoder, mix, prompt: PromptEmbeddings,
                 device: str = "cpu", dtype: torch.dtype = torch.float32, offload: str | bool = "none",
                 identity_cache: IdentityCache | None = None, clip_loader: Callable[[], object] | None = None,
                 face_size: int = FACE_SIZE):
        if face_size < 8 or face_size % 8:
            raise ValueError(f"face_size={face_size!r}: must be a positive multiple of 8 (the VAE's factor)")
        self.unet, self.controlnet, self.vae = unet, controlnet, vae
        self.scheduler_config = dict(scheduler_config)
        # With a loader, the CLIP tower (ViT-L, ~1.2 GB in fp32) is loaded only to encode new references
        # and released right after, so it never sits in memory during sampling.
        self.clip_encoder, self.clip_loader, self.mix = clip_encoder, clip_loader, mix
        self.prompt = prompt
        self.device, self.dtype, self.offload = device, dtype, offload_mode(offload)
        self.face_size = face_size
        self.identity_cache = identity_cache or IdentityCache(None, "")
        self._place()

    # --- loading --------------------------------------------------------------------------------------

    @classmethod
    def load(cls, paths: ModelPaths, device: str | None = "auto", dtype: str | None = None,
             offload: str | bool = "none", cache_dir: Path | None = None, face_size: int = FACE_SIZE) -> "Restorer":
        from faceme_core.devices import pick_device
        from faceme_core.paths import cache_dir as default_cache_dir

        # 1. everything present?
        base = Path(paths.base_model)
        for needed in (base / "unet", base / "vae", base / "scheduler", Path(paths.controlnet) / "config.json",
                       Path(paths.mix), Path(paths.photomaker)):
            if not needed.exists():
                raise ModelMissingError(f"{needed} is missing: install the FaceMe models first (faceme models)")
        choice = pick_device(device, dtype)
        torch_dtype = choice.torch_dtype
        cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "engine"
        # 2. c_text (text encoders only on a cache miss, released right after)
        prompt = load_prompt_embeddings(base, cache_dir)
        # 3. diffusion components, on the CPU: _place puts them on the device or behind offload hooks
        unet, controlnet = load_unet(base, dtype=torch_dtype), load_controlnet(Path(paths.controlnet), dtype=torch_dtype)
        vae = load_vae(base, dtype=torch_dtype)
        check_cross_attention_width(prompt.c_text.shape[-1], unet, controlnet)
        # 4. identity encoder: Mix now; the CLIP tower on demand (see __init__)
        mix = load_mix(Path(paths.mix)).to(torch_dtype)
        photomaker = Path(paths.photomaker)
        return cls(unet, controlnet, vae, load_scheduler_config(base), None, mix, prompt,
                   device=choice.device, dtype=torch_dtype, offload=offload,
                   identity_cache=IdentityCache(cache_dir / "identity", file_fingerprint(photomaker)),
                   clip_loader=lambda: load_clip_id_encoder(photomaker), face_size=face_size)

    def _place(self) -> None:
        """On the device, or behind the offload mode's hooks, in the order the modules run."""
        for module in (self.clip_encoder, self.mix):
            if module is not None:
                module.to(dtype=self.dtype)
        modules = [m for m in (self.clip_encoder, self.mix, self.vae, self.controlnet, self.unet) if m is not None]
        self._hooks = place_modules(modules, self.offload, self.device)

    def _release_device(self) -> None:
        """Model offload: nothing stays on the device between restores (a no-op in other modes)."""
        for hook in self._hooks:
            hook.offload()
        if str(self.device).startswith("cuda"):
            torch.cuda.empty_cache()

    # --- identity -------------------------------------------------------------------------------------

    def encode_identity(self, references: Sequence[ReferenceFace]) -> IdentityTokens:
        """One 2048-d token per reference (any N >= 1), cached per reference ``cache_key``."""
        if not references:
            raise ValueError("references: need at least one reference face")
        tokens: list[torch.Tensor | None] = [self.identity_cache.token(r) for r in references]
        todo = [i for i, token in enumerate(tokens) if token is None]
        if todo:
            with torch.inference_mode():
                features = [self.identity_cache.clip_feature(references[i].cache_key) for i in todo]
                missing = [i for i, feature in zip(todo, features) if feature is None]
                if missing:
                    pixels = torch.stack([clip_pixels(references[i].image, references[i].box) for i in missing])
                    computed = self._clip_features(pixels)
                    for i, feature in zip(missing, computed):
                        self.identity_cache.store_clip_feature(references[i].cache_key, feature)
                    found = dict(zip(missing, computed))
                    features = [found[i] if f is None else f for i, f in zip(todo, features)]
                clip = torch.stack(features).to(self.device, self.dtype)
                arcface = torch.stack([arcface_tensor(references[i]) for i in todo]).to(self.device, self.dtype)
                mixed = self.mix(clip, arcface).float().cpu()
            self._release_device()
            for i, token in zip(todo, mixed):
                tokens[i] = token.clone()
                self.identity_cache.store_token(references[i], tokens[i])
        return IdentityTokens(torch.stack(tokens))

    def _clip_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """CLIP features (N, 2048) on the CPU; a tower loaded on demand is released afterwards."""
        encoder, hooks = self.clip_encoder, []
        if encoder is None:
            if self.clip_loader is None:
                raise ModelMissingError("this restorer has no CLIP identity encoder")
            encoder = self.clip_loader().to(dtype=self.dtype)
            hooks = place_modules([encoder], self.offload, self.device)
        features = encoder(pixels.to(self.device, self.dtype)).float().cpu()
        if self.clip_loader is not None:
            for hook in hooks:
                hook.remove()
            self.clip_encoder = None
            del encoder
            gc.collect()
        return features

    # --- restoration ----------------------------------------------------------------------------------

    def __call__(self, requests: Sequence[FaceRequest], options: RestoreOptions = RestoreOptions(),
                 progress: Callable[[ProgressEvent], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> list[FaceResult]:
        # 1. check inputs
        options.validate()
        for i, request in enumerate(requests):
            size = self.face_size
            if request.lq.shape != (size, size, 3) or request.lq.dtype != np.uint8:
                raise ValueError(f"requests[{i}].lq: expected uint8 ({size}, {size}, 3), "
                                 f"got {request.lq.dtype} {request.lq.shape}")
        seed = options.seed if options.seed is not None else secrets.randbits(31)
        batch_size = options.batch_size or self.auto_batch_size()
        results: list[FaceResult] = []
        try:
            with torch.inference_mode():
                for start in range(0, len(requests), batch_size):
                    batch = list(range(start, min(start + batch_size, len(requests))))
                    results += self._restore_batch(requests, batch, options, seed, progress, cancel)
        finally:
            self._release_device()
        return results

    def auto_batch_size(self) -> int:
        """1 on CPU and MPS (no speed-up there) and when offloading (free memory is measured before the
        UNet and ControlNet move in, so it would overestimate); on CUDA as many as free memory holds."""
        if not str(self.device).startswith("cuda") or self.offload != "none":
            return 1
        free, _ = torch.cuda.mem_get_info(torch.device(self.device))
        return max(1, min(4, int(free // (3 * 2**30))))  # ~3 GB of activations per face (both branches)

    def _restore_batch(self, requests, batch: list[int], options: RestoreOptions, seed: int, progress, cancel):
        began = time.perf_counter()
        steps = options.step_count()
        preset = options.preset()
        # 2. per-face generators and schedulers (results independent of batching)
        generators = [torch.Generator("cpu").manual_seed(seed + i) for i in batch]
        schedulers = [build_scheduler(preset, self.scheduler_config, steps, self.device) for _ in batch]
        # 3. conditioning: c_text for every face, c_id for faces with references
        c_text = self.prompt.c_text
        c_ids = tuple(None if requests[i].identity is None else
                      splice_identity(c_text, self.prompt.face_index, requests[i].identity.tokens.float())
                      for i in batch)
        time_ids = add_time_ids(1, face_size=self.face_size)[0]
        conditioning = Conditioning(c_text, self.prompt.pooled, time_ids, c_ids)
        lq_uint8 = torch.stack([torch.tensor(requests[i].lq).permute(2, 0, 1) for i in batch])  # a copy
        lq = _to_model_range(lq_uint8).to(self.device)
        # 4. start latent, denoising loop, decode
        latents = initial_latents(self.vae, lq, generators, noising_scheduler(self.scheduler_config))

        def on_step(step: int) -> None:
            if progress is not None:
                for i in batch:
                    progress(ProgressEvent(i, len(requests), step, steps))

        latents = denoise(self.unet, self.controlnet, latents, lq, conditioning, schedulers, generators,
                          options.identity_strength, on_step, cancel)
        for hook in self._hooks[-2:]:  # model offload: UNet and ControlNet leave before the VAE decodes
            hook.offload()
        images = decode_latents(self.vae, latents).cpu()
        if not torch.isfinite(images).all():  # e.g. an fp16 overflow: never paste a black square as a result
            raise EngineError("the restoration produced invalid values (NaN or infinity); try again with "
                              "--device cpu (float32) or another --sampler")
        # 5. 8 bits, then colour correction, exactly as the reference run (see color.py)
        images = to_uint8_rounded(images)
        if options.color_correction:
            images = wavelet_color_fix_uint8(images, lq_uint8)
        seconds = (time.perf_counter() - began) / len(batch)
        return [FaceResult(image=image.permute(1, 2, 0).numpy(), blind=requests[i].identity is None, steps=steps,
                           model_evaluations=steps * (1 if requests[i].identity is None else 2), seconds=seconds,
                           seed=seed)
                for i, image in zip(batch, images)]


def _to_model_range(faces: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float32 in [-1, 1] (the VAE's and the ControlNet's input range)."""
    return faces.float() / 127.5 - 1.0
