"""Device choice: CUDA, then Apple MPS, then the CPU; float16 only on CUDA; unavailable devices refused."""

from __future__ import annotations

import pytest
import torch

from faceme_core.devices import pick_device


@pytest.fixture
def available(monkeypatch):
    def set_available(cuda: bool, mps: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return set_available


@pytest.mark.parametrize("cuda, mps, device, dtype", [
    (True, True, "cuda", "float16"),
    (True, False, "cuda", "float16"),
    (False, True, "mps", "float32"),
    (False, False, "cpu", "float32"),
])
def test_auto_prefers_cuda_then_mps_then_cpu(available, cuda, mps, device, dtype):
    available(cuda, mps)
    for requested in ("auto", None, "AUTO"):
        choice = pick_device(requested)
        assert (choice.device, choice.dtype_name) == (device, dtype)
    assert pick_device("auto").torch_dtype == getattr(torch, dtype)


def test_an_explicit_choice_is_kept_and_checked(available):
    available(True, True)
    assert pick_device("cuda:1").device == "cuda:1" and pick_device("cpu").device == "cpu"
    assert pick_device("mps").device == "mps"
    assert pick_device("cuda", "bfloat16").torch_dtype == torch.bfloat16
    available(False, False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        pick_device("cuda")
    with pytest.raises(ValueError, match="MPS is not available"):
        pick_device("mps")
    with pytest.raises(ValueError, match="expected auto, cpu"):
        pick_device("tpu")
