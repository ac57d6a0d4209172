"""Picking the compute device: CUDA, then Apple MPS, then the CPU, unless the user says otherwise."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cuda", "cuda:1", "mps" or "cpu"
    dtype_name: str  # "float16" on CUDA, "float32" elsewhere

    @property
    def torch_dtype(self):
        import torch

        return getattr(torch, self.dtype_name)


def pick_device(requested: str | None = None, dtype: str | None = None) -> DeviceChoice:
    """``requested`` is "auto"/None, "cpu", "cuda[:N]" or "mps"; fp16 only where it is fast and safe."""
    import torch

    name = (requested or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    elif name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={requested!r}: CUDA is not available on this machine")
    elif name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device={requested!r}: Apple MPS is not available on this machine")
    elif not (name == "cpu" or name.startswith("cuda") or name == "mps"):
        raise ValueError(f"device={requested!r}: expected auto, cpu, cuda[:N] or mps")
    default_dtype = "float16" if name.startswith("cuda") else "float32"
    return DeviceChoice(device=name, dtype_name=dtype or default_dtype)
