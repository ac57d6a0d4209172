"""Engine benchmark: overhead outside the networks, batching, cost per preset; opt-in full-size run.

    python -m benchmarks.bench_engine            # tiny models, about a minute on 2 CPU cores
    python -m benchmarks.bench_engine --full     # SDXL-shaped random weights on the best device

Figures (printed, never asserted):
- share of wall time outside the UNet, ControlNet and VAE calls (target < 10 %);
- seconds per face for batches of 1, 2 and 4 faces (ratios to batch 1, same run);
- model evaluations per face for each preset, counted from the UNet's input rows
  (reference ddpm-50 with identity: 100 = 50 steps x 2 branches);
- --full on CUDA or MPS: float16, each offload mode (none, model, group, sequential) and batches of
  1, 2 and 4 faces: seconds per face, faces per second and peak device memory, with the ratio of each
  mode's speed to "none" in the same run. A mode or batch whose estimated need exceeds the device's free
  memory is skipped with the figures, and an out-of-memory error is reported as such, never a traceback.
- --full on the CPU: float32, no offloading (it only helps a GPU): seconds per denoising step and peak
  RSS of the sampling loop (text encoders and the CLIP tower are not loaded), target < 17 GB; refused
  when the machine has less memory available than that.
- --full --shapes tiny runs the same code with tiny SDXL-shaped networks, to check the benchmark itself
  on any machine (the figures then mean nothing).
"""

from __future__ import annotations

import argparse
import functools
import gc
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


def _available_ram_gb() -> float:
    with open("/proc/meminfo") as handle:
        fields = dict(line.split(":", 1) for line in handle)
    return int(fields["MemAvailable"].split()[0]) / 2**20


TINY_SHAPES = dict(block_out_channels=[32, 64], down_block_types=["DownBlock2D", "CrossAttnDownBlock2D"],
                   up_block_types=["CrossAttnUpBlock2D", "UpBlock2D"], attention_head_dim=[2, 4],
                   transformer_layers_per_block=[1, 1], layers_per_block=1, addition_time_embed_dim=8,
                   projection_class_embeddings_input_dim=6 * 8 + 1280, norm_num_groups=32)
TINY_VAE = dict(block_out_channels=[32, 32, 32, 32], layers_per_block=1, norm_num_groups=32)
# Device memory beyond the weights, per face of a batch (both guidance branches, 512 px, float16), and
# what each offload mode keeps resident: estimates for skipping what cannot fit; the printed peak is
# the measurement.
ACTIVATIONS_GB_PER_FACE = 1.5
OFFLOAD_RESIDENT_GB = {"group": 0.3, "sequential": 0.2}


def _build_components(shapes: str, dtype: torch.dtype):
    """SDXL-shaped (or tiny) UNet, ControlNet and VAE with random weights; the VAE in float32 as the
    engine keeps it for float16 runs. Deterministic, so every offload mode gets the same weights."""
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel

    unet_config = {**SDXL_UNET, **(TINY_SHAPES if shapes == "tiny" else {})}
    vae_config = {**SDXL_VAE, **(TINY_VAE if shapes == "tiny" else {})}
    with torch.device("meta"):
        unet = UNet2DConditionModel(**unet_config)
        controlnet = ControlNetModel.from_unet(unet, load_weights_from_unet=False)
        vae = AutoencoderKL(**vae_config)
    unet, controlnet, vae = _random_init(unet), _random_init(controlnet), _random_init(vae)
    if dtype != torch.float32:
        unet, controlnet = unet.to(dtype), controlnet.to(dtype)
    return unet, controlnet, vae


def _gb(modules) -> float:
    return sum(p.numel() * p.element_size() for m in modules for p in m.parameters()) / 2**30


def _prompt():
    from faceme_core.engine.prompt import PromptEmbeddings

    return PromptEmbeddings(torch.randn(77, 2048), torch.randn(1280), face_index=4)


def bench_full(steps: int, device: str, shapes: str, modes: list[str], batches: list[int],
               max_memory_gb: float | None) -> None:
    if device == "cpu" and shapes == "sdxl":
        bench_full_cpu(steps, shapes, max_memory_gb)
    else:  # a GPU; or the CPU with tiny shapes, to run the GPU benchmark's own code anywhere
        bench_full_accelerator(steps, device, shapes, modes, batches, max_memory_gb)


def bench_full_cpu(steps: int, shapes: str, max_memory_gb: float | None) -> None:
    need = 17.0 if shapes == "sdxl" else 1.0
    available = _available_ram_gb() if max_memory_gb is None else max_memory_gb
    if available < need:
        raise SystemExit(f"refused: the full-size CPU run needs about {need:.0f} GB of RAM, "
                         f"{available:.1f} GB is available")
    began = time.perf_counter()
    unet, controlnet, vae = _build_components(shapes, torch.float32)
    params = sum(p.numel() for m in (unet, controlnet, vae) for p in m.parameters())
    print(f"built {shapes} UNet + ControlNet + VAE: {params / 1e9:.2f} B parameters in "
          f"{time.perf_counter() - began:.0f} s, RSS {_rss_gb():.1f} GB")
    # No text encoders, no CLIP tower, no Mix: the sampling loop never needs them.
    restorer = Restorer(unet, controlnet, vae, SDXL_SCHEDULER, clip_encoder=None, mix=None, prompt=_prompt())
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


class DeviceMemory:
    """Free memory and peak use of a CUDA or MPS device (MPS has no peak counter: sampled per step; the
    CPU, for checking this benchmark with tiny shapes, reports available RAM and sampled RSS)."""

    def __init__(self, device: str):
        self.device = device
        self.peak = 0

    def free_gb(self) -> float:
        if self.device.startswith("cuda"):
            free, _ = torch.cuda.mem_get_info(torch.device(self.device))
            return free / 2**30
        if self.device == "mps":
            return (torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory()) / 2**30
        return _available_ram_gb()

    def reset(self) -> None:
        self.peak = 0
        if self.device.startswith("cuda"):
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)

    def sample(self) -> None:
        if self.device == "mps":
            self.peak = max(self.peak, torch.mps.driver_allocated_memory())
        elif self.device == "cpu":
            self.peak = max(self.peak, int(_rss_gb() * 2**30))

    def peak_gb(self) -> float:
        if self.device.startswith("cuda"):
            return torch.cuda.max_memory_allocated(self.device) / 2**30
        return self.peak / 2**30

    def synchronize(self) -> None:
        if self.device.startswith("cuda"):
            torch.cuda.synchronize(self.device)
        elif self.device == "mps":
            torch.mps.synchronize()

    def empty_cache(self) -> None:
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()
        elif self.device == "mps":
            torch.mps.empty_cache()


def _out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error).lower()


def bench_full_accelerator(steps: int, device: str, shapes: str, modes: list[str], batches: list[int],
                           max_memory_gb: float | None) -> None:
    memory = DeviceMemory(device)
    dtype = torch.float32 if device == "cpu" else torch.float16
    print(f"device {device}, {str(dtype)[6:]}, {shapes} shapes, {steps} steps per face, identity (2 branches)")
    base_speed = None
    ran = 0
    for mode in modes:
        unet, controlnet, vae = _build_components(shapes, dtype)
        weights = {"unet+controlnet": _gb((unet, controlnet)), "vae": _gb((vae,))}
        resident = {"none": sum(weights.values()), "model": weights["unet+controlnet"]}.get(
            mode, OFFLOAD_RESIDENT_GB[mode] if shapes == "sdxl" else 0.1)
        free = memory.free_gb() if max_memory_gb is None else max_memory_gb
        if resident + ACTIVATIONS_GB_PER_FACE > free:
            print(f"  {mode:10s} skipped: needs about {resident + ACTIVATIONS_GB_PER_FACE:.1f} GB "
                  f"({resident:.1f} GB weights resident + {ACTIVATIONS_GB_PER_FACE} GB per face), "
                  f"{free:.1f} GB free on {device}")
            continue
        try:  # placing the weights may already exhaust the device
            restorer = Restorer(unet, controlnet, vae, SDXL_SCHEDULER, clip_encoder=None, mix=None,
                                prompt=_prompt(), device=device, dtype=dtype, offload=mode)
            restorer([FaceRequest(_faces(1)[0], _identity())], RestoreOptions(steps=1, seed=0))  # warm-up
        except RuntimeError as error:
            if not _out_of_memory(error):
                raise
            print(f"  {mode:10s} out of memory on {device} even for one face; skipped")
            restorer = None
            del restorer, unet, controlnet, vae
            gc.collect()
            memory.empty_cache()
            continue
        for batch in batches:
            need = resident + ACTIVATIONS_GB_PER_FACE * batch
            if need > free:
                print(f"  {mode:10s} batch {batch}: skipped, needs about {need:.1f} GB, {free:.1f} GB free")
                continue
            faces = [FaceRequest(face, _identity()) for face in _faces(batch)]
            memory.reset()
            began = time.perf_counter()
            try:
                restorer(faces, RestoreOptions(steps=steps, seed=0, batch_size=batch),
                         progress=lambda _event: memory.sample())
                memory.synchronize()
            except RuntimeError as error:
                if not _out_of_memory(error):
                    raise
                print(f"  {mode:10s} batch {batch}: out of memory on {device}")
                memory.empty_cache()
                continue
            wall = time.perf_counter() - began
            speed = batch / wall
            base_speed = base_speed or (speed if mode == "none" else None)
            ratio = f", {speed / base_speed:.2f} x none" if base_speed else ""
            print(f"  {mode:10s} batch {batch}: {wall / batch:.2f} s per face, {speed:.3f} faces/s{ratio}, "
                  f"peak {memory.peak_gb():.2f} GB")
            ran += 1
        del restorer, unet, controlnet, vae
        gc.collect()
        memory.empty_cache()
    if not ran:
        raise SystemExit(f"refused: no offload mode fits in the memory of {device}")


def main() -> None:
    from faceme_core.devices import pick_device
    from faceme_core.engine.options import OFFLOAD_MODES

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="SDXL-shaped random weights (GPU: fp16, every mode)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (tiny: 10, full: 3)")
    parser.add_argument("--device", default="auto", help="--full: auto (CUDA, then MPS, then CPU), cuda[:N], mps, cpu")
    parser.add_argument("--shapes", choices=("sdxl", "tiny"), default="sdxl",
                        help="--full: tiny runs the same code with tiny networks (checks the benchmark itself)")
    parser.add_argument("--modes", default=",".join(OFFLOAD_MODES), help="--full on a GPU: offload modes to run")
    parser.add_argument("--batches", default="1,2,4", help="--full on a GPU: batch sizes")
    parser.add_argument("--max-memory-gb", type=float, default=None,
                        help="--full: pretend the device has this much free memory (default: measure it)")
    args = parser.parse_args()
    if args.full:
        device = pick_device(args.device).device
        modes = [mode for mode in args.modes.split(",") if mode]
        unknown = sorted(set(modes) - set(OFFLOAD_MODES))
        if unknown:
            parser.error(f"--modes: unknown {', '.join(unknown)} (expected {', '.join(OFFLOAD_MODES)})")
        bench_full(args.steps or 3, device, args.shapes, modes, [int(b) for b in args.batches.split(",")],
                   args.max_memory_gb)
    else:
        bench_tiny(args.steps or 10)


if __name__ == "__main__":
    main()
