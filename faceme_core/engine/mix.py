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


@dataclass(frozen=True)
class MixConfig:
    """Mix's widths. The defaults are the released ``mix.safetensors``'s (see the reference page):

    pro_id.mlp1 arcface -> id_hidden -> id_hidden; mlp2 id_hidden (residual); mlp3 id_hidden -> hidden ->
    token; mlp4 token -> hidden -> token (residual); mlp1 clip_feature + token -> hidden -> token; norm1;
    mlp2 token -> hidden -> token (residual). ``token_dim`` must equal the UNet's cross-attention width.
    """

    arcface_dim: int = ARCFACE_DIM
    clip_feature_dim: int = CLIP_FEATURE_DIM
    id_hidden_dim: int = 1024
    hidden_dim: int = 2048
    token_dim: int = ID_TOKEN_DIM

    def __post_init__(self):
        for name in ("arcface_dim", "clip_feature_dim", "id_hidden_dim", "hidden_dim", "token_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"MixConfig.{name}={getattr(self, name)!r}: must be at least 1")


class ArcFaceProjection(nn.Module):
    """``pro_id``: lifts the ArcFace embedding to the identity token width."""

    def __init__(self, config: MixConfig = MixConfig()):
        super().__init__()
        self.mlp1 = MixMLP(config.arcface_dim, config.id_hidden_dim, config.id_hidden_dim, residual=False)
        self.mlp2 = MixMLP(config.id_hidden_dim, config.id_hidden_dim, config.id_hidden_dim, residual=True)
        self.mlp3 = MixMLP(config.id_hidden_dim, config.hidden_dim, config.token_dim, residual=False)
        self.mlp4 = MixMLP(config.token_dim, config.hidden_dim, config.token_dim, residual=True)

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        return self.mlp4(self.mlp3(self.mlp2(self.mlp1(g))))


class Mix(nn.Module):
    """Differentiable and mode-agnostic (no dropout): training uses it exactly as inference does."""

    def __init__(self, config: MixConfig = MixConfig()):
        super().__init__()
        self.config = config
        self.pro_id = ArcFaceProjection(config)
        self.mlp1 = MixMLP(config.clip_feature_dim + config.token_dim, config.hidden_dim, config.token_dim,
                           residual=False)
        self.norm1 = nn.LayerNorm(config.token_dim)
        self.mlp2 = MixMLP(config.token_dim, config.hidden_dim, config.token_dim, residual=True)

    def forward(self, clip_feature: torch.Tensor, arcface: torch.Tensor) -> torch.Tensor:
        """(N, clip_feature_dim) CLIP features and (N, arcface_dim) normalised ArcFace embeddings ->
        (N, token_dim) identity tokens (2048 each for the released weights)."""
        fused = torch.cat([clip_feature, self.pro_id(arcface)], dim=-1)
        return self.mlp2(self.norm1(self.mlp1(fused)))


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]


def expected_mix_tensors(config: MixConfig = MixConfig()) -> list[TensorSpec]:
    """Every tensor ``mix.safetensors`` must hold, built on the meta device (no memory, no I/O)."""
    with torch.device("meta"):
        module = Mix(config)
    return [TensorSpec(name, tuple(t.shape)) for name, t in module.state_dict().items()]
