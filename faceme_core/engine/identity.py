"""FaceMe's identity encoder: PhotoMaker's CLIP tower + both projections, then Mix, one token per reference.

f = concat[visual_projection(pooled), visual_projection_2(pooled)] (768 + 1280 = 2048) from the CLIP
ViT of the reference's face BOX crop; g = the normalised ArcFace embedding; s = Mix(f, g) (2048).
Both modules work on batches and are differentiable, so training reuses them as they are.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from faceme_core.engine.mix import ARCFACE_DIM, Mix, MixConfig, expected_mix_tensors
from faceme_core.errors import ModelFormatError

CLIP_IMAGE_SIZE = 224
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CLIP_HEAD_DIM = 64  # ViT-L/14: 1024 hidden / 16 heads
PROJECTION_2_DIM = 1280
IGNORED_PHOTOMAKER_PREFIX = "fuse_module."  # PhotoMaker's own fusion, unused by FaceMe
# A buffer (not a weight) that transformers < 4.31 saved in state dicts; recomputed, so tolerated.
LEGACY_POSITION_IDS = "vision_model.embeddings.position_ids"


@dataclass(frozen=True)
class ReferenceFace:
    image: np.ndarray  # uint8 RGB (H, W, 3): the reference photo (or any image containing the face)
    box: tuple[float, float, float, float]  # the detected face box in that image (x0, y0, x1, y1)
    arcface: np.ndarray  # (512,) L2-normalised ArcFace (glintr100) embedding of that face
    cache_key: str | None = None  # e.g. "<file sha256>:<face index>": encoded once, then cached


@dataclass(frozen=True)
class IdentityTokens:
    tokens: torch.Tensor  # (N, 2048) float32 on the CPU, one row per reference

    def __post_init__(self):
        if self.tokens.ndim != 2 or self.tokens.shape[0] < 1:
            raise ValueError(f"IdentityTokens.tokens: expected (N >= 1, D), got {tuple(self.tokens.shape)}")


class ClipIdEncoder(nn.Module):
    """PhotoMaker's id_encoder minus its fuse_module: (N, 3, 224, 224) CLIP pixels -> (N, 2048) f."""

    def __init__(self, config):
        super().__init__()
        from transformers import CLIPVisionModelWithProjection

        tower = CLIPVisionModelWithProjection(config)
        # Same attribute names as PhotoMaker's IDEncoder, so the released keys load as they are.
        self.vision_model = tower.vision_model
        self.visual_projection = tower.visual_projection
        self.visual_projection_2 = nn.Linear(config.hidden_size, PROJECTION_2_DIM, bias=False)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        pooled = self.vision_model(pixel_values=pixel_values).pooler_output
        return torch.cat([self.visual_projection(pooled), self.visual_projection_2(pooled)], dim=-1)


# --- loading ------------------------------------------------------------------------------------------

def clip_vision_config_from_state(state: dict[str, torch.Tensor]):
    """ViT-L/14's config, with the sizes read from the tensors' shapes so tests can use a small tower.

    Heads are hidden / 64 (true of every OpenAI CLIP ViT); the model store compares the result with
    the released numbers (hidden 1024, MLP 4096, 24 layers, patch 14, image 224, projection 768).
    """
    from transformers import CLIPVisionConfig

    def shape(key: str) -> tuple[int, ...]:
        if key not in state:
            raise ModelFormatError(f"photomaker id_encoder: missing tensor {key}")
        return tuple(state[key].shape)

    hidden = shape("vision_model.embeddings.class_embedding")[0]
    patch = shape("vision_model.embeddings.patch_embedding.weight")[-1]
    positions = shape("vision_model.embeddings.position_embedding.weight")[0]
    layer_ids = {int(m.group(1)) for k in state if (m := re.match(r"vision_model\.encoder\.layers\.(\d+)\.", k))}
    if not layer_ids:
        raise ModelFormatError("photomaker id_encoder: no vision_model.encoder.layers.* tensors")
    intermediate = shape("vision_model.encoder.layers.0.mlp.fc1.weight")[0]
    projection = shape("visual_projection.weight")[0]
    grid = round((positions - 1) ** 0.5)
    if grid * grid != positions - 1 or hidden % CLIP_HEAD_DIM:
        raise ModelFormatError(f"photomaker id_encoder: {positions} position embeddings / hidden size {hidden} "
                               "do not describe a CLIP ViT")
    return CLIPVisionConfig(hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=max(layer_ids) + 1,
                            num_attention_heads=hidden // CLIP_HEAD_DIM, patch_size=patch, image_size=grid * patch,
                            projection_dim=projection, hidden_act="quick_gelu")


def check_state_dict(what: str, expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]]) -> None:
    """ModelFormatError naming every missing, unexpected or wrongly shaped tensor."""
    problems = []
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        problems.append(f"missing {_names(missing)}")
    if extra:
        problems.append(f"unexpected {_names(extra)}")
    for name in sorted(set(expected) & set(found)):
        if tuple(expected[name]) != tuple(found[name]):
            problems.append(f"{name} has shape {tuple(found[name])}, expected {tuple(expected[name])}")
    if problems:
        raise ModelFormatError(f"{what}: " + "; ".join(problems))


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def clip_id_encoder_from_state(id_encoder: dict[str, torch.Tensor],
                               what: str = "photomaker id_encoder") -> ClipIdEncoder:
    """Strict load that ignores exactly the fuse_module.* keys (and the legacy position_ids buffer).

    Returned in eval mode like diffusers' loaders; nothing else is forced: ``.train()`` and gradients work.
    """
    state = {k: v for k, v in id_encoder.items() if not k.startswith(IGNORED_PHOTOMAKER_PREFIX)}
    legacy_ids = state.pop(LEGACY_POSITION_IDS, None)
    config = clip_vision_config_from_state(state)
    with torch.device("meta"):
        encoder = ClipIdEncoder(config)
    expected = {k: tuple(v.shape) for k, v in encoder.state_dict().items()}
    check_state_dict(what, expected, {k: tuple(v.shape) for k, v in state.items()})
    if legacy_ids is not None and not torch.equal(legacy_ids.flatten().long(), torch.arange(legacy_ids.numel())):
        raise ModelFormatError(f"{what}: {LEGACY_POSITION_IDS} is not 0..{legacy_ids.numel() - 1}")
    encoder.load_state_dict({k: v.float() for k, v in state.items()}, strict=True, assign=True)
    positions = encoder.vision_model.embeddings.position_embedding.weight.shape[0]
    encoder.vision_model.embeddings.position_ids = torch.arange(positions).unsqueeze(0)  # non-persistent buffer
    return encoder.eval()


def load_clip_id_encoder(photomaker_path: Path) -> ClipIdEncoder:
    """Read ``photomaker-v1.bin`` safely (plain tensors only) and build the CLIP identity tower.

    Its ``lora_weights`` are deliberately not merged into the UNet. The reference code means to, but in
    inference its copy loop only rebinds a local variable (``param = lora_state_dict[name]``), so the
    adapters keep their initial all-zero "up" matrices and add nothing; in training its keys, in the old
    attention-processor naming (``unet.<block>.attn1.processor.to_k_lora.down.weight``), never match the
    model's. The released Mix and ControlNet were therefore trained and run on the unmodified base UNet,
    and merging the LoRA would change what they were evaluated with.
    """
    try:
        checkpoint = torch.load(photomaker_path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling refused / truncated file: both are format problems to the user
        raise ModelFormatError(f"{photomaker_path}: not a readable PhotoMaker checkpoint ({exc})") from exc
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("id_encoder"), dict):
        raise ModelFormatError(f"{photomaker_path}: expected a dict with an 'id_encoder' state dict")
    return clip_id_encoder_from_state(checkpoint["id_encoder"], what=str(photomaker_path))


def load_mix(mix_path: Path, config: MixConfig = MixConfig()) -> Mix:
    """Strictly load ``mix.safetensors``: every name and shape of ``config`` (the released sizes by
    default), nothing else. Returned in eval mode like diffusers' loaders; ``.train()`` to train it."""
    from safetensors import safe_open

    try:
        with safe_open(str(mix_path), framework="pt", device="cpu") as handle:
            state = {name: handle.get_tensor(name) for name in handle.keys()}
    except Exception as exc:
        raise ModelFormatError(f"{mix_path}: not a readable safetensors file ({exc})") from exc
    expected = {spec.name: spec.shape for spec in expected_mix_tensors(config)}
    check_state_dict(str(mix_path), expected, {k: tuple(v.shape) for k, v in state.items()})
    with torch.device("meta"):
        mix = Mix(config)
    mix.load_state_dict({k: v.float() for k, v in state.items()}, strict=True, assign=True)
    return mix.eval()


# --- preprocessing ------------------------------------------------------------------------------------

def clip_pixels(image: np.ndarray, box: tuple[float, float, float, float]) -> torch.Tensor:
    """CLIP preprocessing of the face's box crop: shorter side to 224 (bicubic), centre crop, mean/std.

    The crop is PIL's, as in the reference code: coordinates rounded, parts of the box outside the
    image are black (detector boxes often overhang the photo's edge).
    """
    from PIL import Image

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"ReferenceFace.image: expected uint8 (H, W, 3), got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    if min(x1, width) - max(x0, 0) < 2 or min(y1, height) - max(y0, 0) < 2:
        raise ValueError(f"ReferenceFace.box={box}: (nearly) empty inside a {width}x{height} image")
    crop = Image.fromarray(image).crop((x0, y0, x1, y1))
    short, long_ = sorted(crop.size)
    scaled_long = int(CLIP_IMAGE_SIZE * long_ / short)  # as transformers' CLIPImageProcessor rounds
    size = (CLIP_IMAGE_SIZE, scaled_long) if crop.width <= crop.height else (scaled_long, CLIP_IMAGE_SIZE)
    resized = np.asarray(crop.resize(size, Image.BICUBIC), dtype=np.float32) / 255.0
    top = (resized.shape[0] - CLIP_IMAGE_SIZE) // 2
    left = (resized.shape[1] - CLIP_IMAGE_SIZE) // 2
    patch = resized[top:top + CLIP_IMAGE_SIZE, left:left + CLIP_IMAGE_SIZE]
    patch = (patch - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    return torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1)))


def arcface_tensor(reference: ReferenceFace) -> torch.Tensor:
    vector = np.asarray(reference.arcface, dtype=np.float32).reshape(-1)
    if vector.shape != (ARCFACE_DIM,):
        raise ValueError(f"ReferenceFace.arcface: expected ({ARCFACE_DIM},), got {reference.arcface.shape}")
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("ReferenceFace.arcface: all zero or not finite")
    return torch.from_numpy(vector / norm)  # the reference code normalises again; harmless when already unit


# --- caching ------------------------------------------------------------------------------------------

class IdentityCache:
    """Per-reference caches: final tokens in memory, CLIP features (the costly part) on disk.

    Disk entries are keyed on the reference's cache_key and the CLIP weights' fingerprint; Mix is cheap
    and reruns, so a different ArcFace vector for the same key is never served a stale token.
    """

    def __init__(self, folder: Path | None, weights_fingerprint: str):
        self._folder = folder
        self._fingerprint = weights_fingerprint
        self._tokens: dict[tuple[str, bytes], torch.Tensor] = {}

    def token(self, reference: ReferenceFace) -> torch.Tensor | None:
        if reference.cache_key is None:
            return None
        return self._tokens.get(self._memory_key(reference))

    def store_token(self, reference: ReferenceFace, token: torch.Tensor) -> None:
        if reference.cache_key is not None:
            self._tokens[self._memory_key(reference)] = token

    def clip_feature(self, cache_key: str | None) -> torch.Tensor | None:
        path = self._disk_path(cache_key)
        if path is None or not path.exists():
            return None
        from safetensors.torch import load_file

        try:
            return load_file(str(path))["clip_feature"]
        except Exception:  # a corrupt cache entry is just a miss
            return None

    def store_clip_feature(self, cache_key: str | None, feature: torch.Tensor) -> None:
        path = self._disk_path(cache_key)
        if path is None:
            return
        from safetensors.torch import save

        from faceme_core.imageio.atomic import write_atomically

        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, save({"clip_feature": feature.detach().float().cpu().contiguous()}))

    def _memory_key(self, reference: ReferenceFace) -> tuple[str, bytes]:
        return reference.cache_key, np.asarray(reference.arcface, np.float32).tobytes()

    def _disk_path(self, cache_key: str | None) -> Path | None:
        if self._folder is None or cache_key is None:
            return None
        digest = hashlib.sha256(f"{self._fingerprint}\0{cache_key}".encode()).hexdigest()
        return self._folder / f"{digest}.safetensors"


def file_fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
