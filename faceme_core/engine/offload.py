"""Offloading for GPUs too small to hold FaceMe, through accelerate's and diffusers' own hooks.

Weights live in CPU memory and the hooks bring them to the execution device when a module runs; our
code never moves whole components itself. Weight sizes, from the SDXL parameter counts (UNet 2.57 B,
ControlNet 1.25 B, VAE 84 M in float32, Mix 39 M; the CLIP tower, 0.3 B, is loaded only to encode new
references): about 7.8 GB in float16 on the device with ``none``. Activations come on top: about 1-2 GB
per face (both guidance branches) at 512 px, an estimate until ``bench_engine --full`` measures it on
a GPU (it prints the peak).

| mode | device memory during sampling | speed |
| --- | --- | --- |
| ``none`` | everything resident: ~7.8 GB + activations (GPUs with 12 GB or more) | fastest |
| ``model`` | UNet + ControlNet resident while denoising (~7.6 GB), VAE and Mix only while they run: ~7.6 GB + activations (10-12 GB GPUs) | ~ none, plus a copy per component per restore |
| ``group`` | one UNet/ControlNet block at a time, the next prefetched on a CUDA stream: ~1-2 GB + activations (6-8 GB GPUs) | slower: weights cross the bus every step |
| ``sequential`` | one layer at a time: well under 1 GB + activations (4 GB GPUs) | slowest: every layer's weights cross the bus every call |

``model`` is accelerate's ``cpu_offload_with_hook`` chain (what diffusers' ``enable_model_cpu_offload``
does), ``sequential`` accelerate's ``cpu_offload``, ``group`` diffusers' block-level group offloading.
On the CPU the hooks run with the CPU as execution device, which is how the tests check that every
mode gives the same result as ``none``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from faceme_core.engine.options import OFFLOAD_MODES

__all__ = ["OFFLOAD_MODES", "check_offload_mode", "offload_in_groups", "place_modules"]


def check_offload_mode(mode: str) -> str:
    if mode not in OFFLOAD_MODES:
        raise ValueError(f"offload={mode!r}: expected one of {', '.join(OFFLOAD_MODES)}")
    return mode


def place_modules(modules: Sequence[torch.nn.Module], mode: str, device: str | torch.device) -> list:
    """Put ``modules`` (in the order they run) on ``device`` or behind offload hooks; returns the hooks
    whose ``offload()`` frees the device once a restore is done (empty unless ``mode`` is ``model``)."""
    check_offload_mode(mode)
    device = torch.device(device)
    if mode == "none":
        for module in modules:
            module.to(device)
        return []
    if mode == "model":
        from accelerate import cpu_offload_with_hook

        hooks, previous = [], None
        for module in modules:
            module.to("cpu")
            _, previous = cpu_offload_with_hook(module, device, prev_module_hook=previous)
            hooks.append(previous)
        return hooks
    if mode == "group":
        for module in modules:
            module.to("cpu")
            offload_in_groups(module, device)
        return []
    from accelerate import cpu_offload

    for module in modules:
        module.to("cpu")
        cpu_offload(module, execution_device=device)
    return []


def offload_in_groups(module: torch.nn.Module, device: torch.device) -> None:
    """diffusers' block-level group offloading; on CUDA the next block is prefetched on a side stream.

    Modules that are not diffusers models (Mix, the CLIP tower) go through the same function applied
    directly (``apply_group_offloading``).
    """
    from diffusers.hooks import apply_group_offloading

    apply_group_offloading(module, onload_device=device, offload_device=torch.device("cpu"),
                           offload_type="block_level", num_blocks_per_group=1,
                           use_stream=device.type == "cuda")
