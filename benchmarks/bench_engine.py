"""Engine benchmark: overhead outside the networks, batching, cost per preset; opt-in full-size run.

    python -m benchmarks.bench_engine            # tiny models, about a minute on 2 CPU cores
    python -m benchmarks.bench_engine --full     # SDXL-shaped random weights on the CPU: ~16 GB, minutes

Figures (printed, never asserted):
- share of wall time outside the UNet, ControlNet and VAE calls (target < 10 %);
- seconds per face for batches of 1, 2 and 4 faces (ratios to batch 1, same run);
- model evaluations per face for each preset, counted from the UNet's input rows
  (reference ddpm-50 with identity: 100 = 50 steps x 2 branches);
- --full: seconds per denoising step and peak RSS of the sampling loop (text encoders and the CLIP
  tower are not loaded), target peak < 17 GB in float32.
"""

from __future__ import annotations

import argparse
import functools
import resource
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

from faceme_core.engine.identity import IdentityTokens
from faceme_core.engine.options import SAMPLER_PRESETS, RestoreOptions
from faceme_core.engine.restorer import FaceRequest, Restorer


class NetworkTimer:
    """Wall time spent inside the UNet, ControlNet and VAE calls (hooks; the models run unchanged)."""

    def __init__(self, restorer: Restorer):
        self.seconds = 0.0
        self.unet_rows = 0
        self._started: dict[int, float] = {}
        for module in (restorer.unet, restorer.controlnet):
            module.register_forward_pre_hook(self._pre)
            module.register_forward_hook(self._post)
        restorer.unet.register_forward_pre_hook(self._count_rows)
        for name in ("encode", "decode"):
            setattr(restorer.vae, name, self._timed(getattr(restorer.vae, name)))

    def _pre(self, module, _args):
        self._started[id(module)] = time.perf_counter()

    def _post(self, module, _args, _out):
        self.seconds += time.perf_counter() - self._started.pop(id(module))

    def _count_rows(self, _module, args):
        self.unet_rows += args[0].shape[0]

    def _timed(self, method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began

        return wrapper


def _faces(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    from PIL import Image

    return [np.array(Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).resize((512, 512), Image.BICUBIC))
            for _ in range(count)]


def _identity() -> IdentityTokens:
    return IdentityTokens(torch.randn(2, 2048, generator=torch.Generator().manual_seed(0)))


def bench_tiny(steps: int) -> None:
    from tests.support.tiny_models import cached_tiny_model_paths

    restorer = Restorer.load(cached_tiny_model_paths(), device="cpu", cache_dir=Path(tempfile.mkdtemp()))
    timer = NetworkTimer(restorer)
    faces, identity = _faces(4), _identity()
    restorer([FaceRequest(faces[0], identity)], RestoreOptions(steps=1, seed=0))  # warm-up

    # 1. time outside the networks
    timer.seconds = 0.0
    began = time.perf_counter()
    restorer([FaceRequest(f, identity) for f in faces[:2]], RestoreOptions(steps=steps, seed=0, batch_size=1))
    wall = time.perf_counter() - began
    print(f"overhead: {wall:.2f} s wall, {timer.seconds:.2f} s in UNet/ControlNet/VAE, "
          f"{100 * (wall - timer.seconds) / wall:.1f} % outside (target < 10 %)")

    # 2. batching
    base = None
    for batch in (1, 2, 4):
        began = time.perf_counter()
        restorer([FaceRequest(f, identity) for f in faces], RestoreOptions(steps=steps, seed=0, batch_size=batch))
        per_face = (time.perf_counter() - began) / len(faces)
        base = base or per_face
        print(f"batch {batch}: {per_face:.2f} s per face ({per_face / base:.2f} x batch 1)")

    # 3. model evaluations per face, counted at the UNet
    for name, preset in SAMPLER_PRESETS.items():
        for blind in (False, True) if preset.reference else (False,):
            timer.unet_rows = 0
            request = FaceRequest(faces[0], None if blind else identity)
            result = restorer([request], RestoreOptions(sampler=name, seed=0))[0]
            label = "blind" if blind else "identity"
            mark = " (reference)" if preset.reference else ""
            print(f"{name}{mark} {label}: {timer.unet_rows} UNet rows counted, {result.model_evaluations} reported")


# --- full size ------------------------------------------------------------------------------------------

SDXL_UNET = dict(
    act_fn="silu", addition_embed_type="text_time", addition_embed_type_num_heads=64, addition_time_embed_dim=256,
    attention_head_dim=[5, 10, 20], block_out_channels=[320, 640, 1280], cross_attention_dim=2048,
    down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], flip_sin_to_cos=True,
    freq_shift=0, in_channels=4, layers_per_block=2, mid_block_type="UNetMidBlock2DCrossAttn", norm_eps=1e-5,
    norm_num_groups=32, out_channels=4, projection_class_embeddings_input_dim=2816, sample_size=128,
    transformer_layers_per_block=[1, 2, 10], up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    use_linear_projection=True,
)
SDXL_VAE = dict(
    act_fn="silu", block_out_channels=[128, 256, 512, 512], down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4, in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2,
    norm_num_groups=32, sample_size=1024, scaling_factor=0.13025, force_upcast=True,
)
SDXL_SCHEDULER = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                      prediction_type="epsilon", steps_offset=1, timestep_spacing="leading", clip_sample=False,
                      set_alpha_to_one=False)


def _random_init(module: torch.nn.Module) -> torch.nn.Module:
    """Materialise a meta-built model with small random weights (much faster than its own init)."""
    module = module.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in list(module.named_parameters()) + list(module.named_buffers()):
            if name.endswith("weight") and tensor.ndim > 1:
                tensor.normal_(0.0, 0.02, generator=generator)
            elif "norm" in name and name.endswith("weight"):
                tensor.fill_(1.0)
            else:
                tensor.zero_()
    return module.eval()


def _rss_gb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**30


def bench_full(steps: int) -> None:
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel

    from faceme_core.engine.prompt import PromptEmbeddings

    began = time.perf_counter()
    with torch.device("meta"):
        unet = UNet2DConditionModel(**SDXL_UNET)
        controlnet = ControlNetModel.from_unet(unet, load_weights_from_unet=False)
        vae = AutoencoderKL(**SDXL_VAE)
    unet, controlnet, vae = _random_init(unet), _random_init(controlnet), _random_init(vae)
    params = sum(p.numel() for m in (unet, controlnet, vae) for p in m.parameters())
    print(f"built SDXL-shaped UNet + ControlNet + VAE: {params / 1e9:.2f} B parameters in "
          f"{time.perf_counter() - began:.0f} s, RSS {_rss_gb():.1f} GB")
    prompt = PromptEmbeddings(torch.randn(77, 2048), torch.randn(1280), face_index=4)
    # No text encoders, no CLIP tower, no Mix: the sampling loop never needs them.
    restorer = Restorer(unet, controlnet, vae, SDXL_SCHEDULER, clip_encoder=None, mix=None, prompt=prompt)
    peak = [_rss_gb()]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _rss_gb())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    step_times: list[float] = []
    last = [time.perf_counter()]

    def on_progress(_event) -> None:
        now = time.perf_counter()
        step_times.append(now - last[0])
        last[0] = now

    last[0] = time.perf_counter()
    restorer([FaceRequest(_faces(1)[0], _identity())], RestoreOptions(steps=steps, seed=0), progress=on_progress)
    done.set()
    watcher.join()
    per_step = float(np.median(step_times[1:] or step_times))
    print(f"full size, float32, identity (2 branches): {per_step:.1f} s per denoising step "
          f"(ddpm-50 would take ~{50 * per_step / 60:.1f} min per face on this CPU)")
    print(f"peak RSS during sampling: {peak[0]:.1f} GB (target < 17 GB); process peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="SDXL-shaped random weights (about 16 GB, minutes)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (tiny: 10, full: 3)")
    args = parser.parse_args()
    if args.full:
        bench_full(args.steps or 3)
    else:
        bench_tiny(args.steps or 10)


if __name__ == "__main__":
    main()
