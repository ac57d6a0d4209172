"""Offloading for GPUs too small to hold FaceMe, through accelerate's and diffusers' own hooks.

Weights live in CPU memory and the hooks bring them to the execution device when a module runs; our
code never moves whole components itself. Weight sizes, from the SDXL shapes (UNet 2.57 B parameters,
ControlNet 1.25 B, both float16 on a GPU: 7.1 GiB; VAE 84 M, kept float32: 0.3 GiB; Mix 39 M: 0.07
GiB; the CLIP tower, 0.3 B, is loaded only to encode new references and released). Activations come
on top: roughly 1-2 GiB per face of a batch (both guidance branches, 512 px), an estimate until
``bench_engine --full`` measures it on a GPU (it prints the peak).

| mode | on the device while sampling | for | speed |
| --- | --- | --- | --- |
| ``none`` | all weights, ~7.5 GiB, + activations | 12 GB GPUs and larger | fastest |
| ``model`` | UNet + ControlNet, 7.1 GiB, + activations; VAE, Mix and CLIP only while they run, nothing between restores | a GPU shared with other work | ~ none, plus one copy of each component per restore |
| ``group`` | a few layers at a time (the largest is 55 MiB), the next one prefetched on a CUDA stream, + activations | GPUs under 8 GB | slower: all weights cross the bus each step, overlapped with compute |
| ``sequential`` | one layer at a time, + activations | the smallest GPUs, or no CUDA streams (MPS) | slowest: each layer waits for its weights |

``model`` is accelerate's ``cpu_offload_with_hook`` chain (what diffusers' ``enable_model_cpu_offload``
does), ``sequential`` accelerate's ``cpu_offload``, ``group`` diffusers' leaf-level group offloading
(block level would hold a whole SDXL block, up to 2.2 GiB, and prefetch the next). On the CPU the
hooks run with the CPU as execution device, which is how the tests check that every mode gives the
same result as ``none``.
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
    """diffusers' leaf-level group offloading; on CUDA the next layer is prefetched on a side stream.

    Applied through ``apply_group_offloading``, so it also works on modules that are not diffusers
    models (Mix, the CLIP tower).
    """
    from diffusers.hooks import apply_group_offloading

    apply_group_offloading(module, onload_device=device, offload_device=torch.device("cpu"),
                           offload_type="leaf_level", use_stream=device.type == "cuda")
