"""LPIPS (Zhang et al. 2018) with the network injectable, in plain torch (no torchvision needed).

LPIPS(x, y) = sum over layers l of mean over positions of  w_l . (f_l(x)/|f_l(x)| - f_l(y)/|f_l(y)|)^2,
with f_l the backbone's feature maps (unit-normalised over channels) and w_l learned non-negative
channel weights. Inputs are RGB in [-1, 1], shifted and scaled as the LPIPS package does.

``load_alex_lpips()`` builds the standard "alex" variant: AlexNet's convolutional layers (the torchvision
layout, so its ImageNet weights load by name) and the LPIPS v0.1 linear weights. Both files DOWNLOAD ON
FIRST USE into torch's hub cache (``$TORCH_HOME``); nothing else is installed for them. Tests pass a
tiny backbone instead.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

ALEXNET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
LPIPS_ALEX_URL = "https://raw.githubusercontent.com/richzhang/PerceptualSimilarity/master/lpips/weights/v0.1/alex.pth"
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
EPSILON = 1e-10


class LPIPS(nn.Module):
    """``backbone(x)`` returns a list of (N, C_l, H_l, W_l) maps; ``channel_weights[l]`` has C_l entries."""

    def __init__(self, backbone: nn.Module, channel_weights: Sequence[torch.Tensor]) -> None:
        super().__init__()
        self.backbone = backbone
        self.channel_weights = nn.ParameterList(
            nn.Parameter(torch.as_tensor(w, dtype=torch.float32).reshape(1, -1, 1, 1), requires_grad=False)
            for w in channel_weights)
        self.register_buffer("shift", torch.tensor(SHIFT).reshape(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).reshape(1, 3, 1, 1))

    @torch.no_grad()
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(N,) distances of two (N, 3, H, W) batches in [-1, 1]."""
        features_x = self.backbone((x - self.shift) / self.scale)
        features_y = self.backbone((y - self.shift) / self.scale)
        if len(features_x) != len(self.channel_weights):
            raise ValueError(f"backbone gave {len(features_x)} feature maps for {len(self.channel_weights)} weights")
        total = torch.zeros(x.shape[0], device=x.device)
        for fx, fy, weight in zip(features_x, features_y, self.channel_weights):
            fx = fx / (fx.pow(2).sum(dim=1, keepdim=True).sqrt() + EPSILON)
            fy = fy / (fy.pow(2).sum(dim=1, keepdim=True).sqrt() + EPSILON)
            total = total + ((fx - fy).pow(2) * weight).sum(dim=1).mean(dim=(1, 2))
        return total

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        """LPIPS of two uint8 RGB (H, W, 3) images."""
        return float(self(_to_tensor(a), _to_tensor(b))[0])


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    device = torch.device("cpu")
    return torch.tensor(np.asarray(image), device=device).permute(2, 0, 1)[None].float() / 127.5 - 1.0


class AlexNetFeatures(nn.Module):
    """AlexNet's convolutional part, torchvision's layout (``features.N``), returning relu1..relu5."""

    SLICES = ((0, 2), (2, 5), (5, 8), (8, 10), (10, 12))

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=False), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=False), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=False),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=False),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=False),
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for start, stop in self.SLICES:
            for layer in self.features[start:stop]:
                x = layer(x)
            outputs.append(x)
        return outputs


def load_alex_lpips(device: str = "cpu") -> LPIPS:
    """The standard LPIPS-alex; downloads AlexNet's and LPIPS's weights on first use (torch hub cache)."""
    from torch.hub import load_state_dict_from_url

    backbone = AlexNetFeatures()
    alexnet = load_state_dict_from_url(ALEXNET_URL, map_location="cpu", progress=True)
    backbone.load_state_dict({k: v for k, v in alexnet.items() if k.startswith("features.")}, strict=True)
    linear = load_state_dict_from_url(LPIPS_ALEX_URL, map_location="cpu", progress=True)
    weights = [linear[f"lin{i}.model.1.weight"].reshape(-1) for i in range(5)]
    return LPIPS(backbone.eval(), weights).to(device).eval()
