"""FaceMe's identity mixer ("Mix"): fuses a CLIP feature f (2048) and an ArcFace embedding g (512).

Structure and parameter names match the released ``mix.safetensors`` (see the FaceMe reference page):
s = mlp2(norm1(mlp1(concat[f, pro_id(g)]))).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

ARCFACE_DIM = 512
CLIP_FEATURE_DIM = 2048  # visual_projection (768) + visual_projection_2 (1280)
ID_TOKEN_DIM = 2048  # equals SDXL's cross-attention width (768 + 1280)


class MixMLP(nn.Module):
    """LayerNorm -> Linear -> GELU -> Linear, with the input added back when ``residual``."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, residual: bool):
        super().__init__()
        if residual and in_dim != out_dim:
            raise ValueError(f"residual MLP needs in_dim == out_dim, got {in_dim} and {out_dim}")
        self.residual = residual
        self.layernorm = nn.LayerNorm(in_dim)
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, out_dim)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.fc2(self.act(self.fc1(self.layernorm(x))))
        return out + x if self.residual else out


class ArcFaceProjection(nn.Module):
    """``pro_id``: lifts the 512-d ArcFace embedding to the 2048-d CLIP feature width."""

    def __init__(self):
        super().__init__()
        self.mlp1 = MixMLP(ARCFACE_DIM, 1024, 1024, residual=False)
        self.mlp2 = MixMLP(1024, 1024, 1024, residual=True)
        self.mlp3 = MixMLP(1024, 2048, 2048, residual=False)
        self.mlp4 = MixMLP(2048, 2048, 2048, residual=True)

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        return self.mlp4(self.mlp3(self.mlp2(self.mlp1(g))))


class Mix(nn.Module):
    def __init__(self):
        super().__init__()
        self.pro_id = ArcFaceProjection()
        self.mlp1 = MixMLP(CLIP_FEATURE_DIM + 2048, 2048, 2048, residual=False)
        self.norm1 = nn.LayerNorm(2048)
        self.mlp2 = MixMLP(2048, 2048, ID_TOKEN_DIM, residual=True)

    def forward(self, clip_feature: torch.Tensor, arcface: torch.Tensor) -> torch.Tensor:
        """(N, 2048) CLIP features and (N, 512) normalised ArcFace embeddings -> (N, 2048) id tokens."""
        fused = torch.cat([clip_feature, self.pro_id(arcface)], dim=-1)
        return self.mlp2(self.norm1(self.mlp1(fused)))


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]


def expected_mix_tensors() -> list[TensorSpec]:
    """Every tensor ``mix.safetensors`` must hold, built on the meta device (no memory, no I/O)."""
    with torch.device("meta"):
        module = Mix()
    return [TensorSpec(name, tuple(t.shape)) for name, t in module.state_dict().items()]
