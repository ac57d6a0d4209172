"""Checks of the two single-file components: mix.safetensors and photomaker-v1.bin (headers only)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from faceme_core.errors import ModelFormatError
from faceme_core.models.headers import TensorInfo, read_safetensors_header, read_torch_pickle_shapes
from faceme_core.models.report import IGNORABLE_BUFFERS, ReportBuilder, VerifyReport, compare_tensors, format_names

FLOAT_DTYPES = {"F16", "BF16", "F32", "F64", "float16", "bfloat16", "float32", "float64"}


def check_safetensors_file(path: Path, builder: ReportBuilder, *, what: str) -> dict[str, TensorInfo] | None:
    """Header of one safetensors file, with truncation reported; None (and an error) when unreadable."""
    try:
        header = read_safetensors_header(path)
    except ModelFormatError as error:
        builder.error(str(error))
        return None
    if header.data_bytes_on_disk < header.data_bytes_declared:
        builder.error(
            f"{what}: {path.name} is truncated: its header declares {header.data_bytes_declared} bytes of tensor "
            f"data but the file holds {header.data_bytes_on_disk} (an interrupted download or copy?)"
        )
    elif header.data_bytes_on_disk > header.data_bytes_declared:  # safetensors refuses to load such files
        builder.error(
            f"{what}: {path.name} has {header.data_bytes_on_disk - header.data_bytes_declared} bytes more than its "
            "header declares (damaged, or not written by safetensors)"
        )
    return header.tensors


# --- mix.safetensors -------------------------------------------------------------------------------


def verify_mix(path: Path) -> VerifyReport:
    from faceme_core.engine.mix import expected_mix_tensors

    builder = ReportBuilder("mix", path)
    if not path.is_file():
        builder.error(f"{path}: file not found" if not path.exists() else f"{path}: is a folder, expected mix.safetensors")
        return builder.build()
    found = check_safetensors_file(path, builder, what="mix")
    if found is None:
        return builder.build()
    expected = {spec.name: spec.shape for spec in expected_mix_tensors()}
    builder.extend(compare_tensors(expected, found, where="mix"))
    not_float = [name for name, info in found.items() if info.dtype not in FLOAT_DTYPES]
    if not_float:
        builder.error(f"mix: non-floating-point tensor(s): {format_names(not_float)}")
    dtypes = sorted({info.dtype for info in found.values()})
    builder.note(f"{len(found)} tensors, dtype {'/'.join(dtypes) or '-'}")
    return builder.build()


def looks_like_mix(tensor_names: set[str]) -> bool:
    return any(name.startswith("pro_id.") for name in tensor_names) and any(n.startswith("mlp1.") for n in tensor_names)


# --- photomaker-v1.bin -----------------------------------------------------------------------------

# ``id_encoder`` is PhotoMaker's CLIP ViT-L/14 vision tower plus two projections; FaceMe ignores its
# fusion module (the reference loads with strict=False), nothing else.
IGNORED_PREFIX = "fuse_module."
PROJECTION_2 = "visual_projection_2.weight"
PROJECTION_2_DIM = 1280  # 768 + 1280 = the 2048-d CLIP feature Mix expects


@dataclass(frozen=True)
class VisionTowerSize:
    hidden_size: int = 1024
    intermediate_size: int = 4096
    num_hidden_layers: int = 24
    patch_size: int = 14
    image_size: int = 224
    projection_dim: int = 768


RELEASED_TOWER = VisionTowerSize()


def infer_tower_size(tensors: dict[str, TensorInfo]) -> VisionTowerSize:
    """Read the tower's size from its tensor shapes; anything not readable keeps the released value."""
    values: dict[str, int] = {}
    patch = tensors.get("vision_model.embeddings.patch_embedding.weight")
    if patch is not None and len(patch.shape) == 4:
        values["hidden_size"], values["patch_size"] = patch.shape[0], patch.shape[2]
    positions = tensors.get("vision_model.embeddings.position_embedding.weight")
    if positions is not None and positions.shape:
        side = round((positions.shape[0] - 1) ** 0.5)
        values["image_size"] = side * values.get("patch_size", RELEASED_TOWER.patch_size)
    fc1 = tensors.get("vision_model.encoder.layers.0.mlp.fc1.weight")
    if fc1 is not None and fc1.shape:
        values["intermediate_size"] = fc1.shape[0]
    layers = {int(m.group(1)) for name in tensors if (m := re.match(r"vision_model\.encoder\.layers\.(\d+)\.", name))}
    if layers:
        values["num_hidden_layers"] = max(layers) + 1
    projection = tensors.get("visual_projection.weight")
    if projection is not None and projection.shape:
        values["projection_dim"] = projection.shape[0]
    return VisionTowerSize(**values)


def expected_tower_tensors(size: VisionTowerSize) -> dict[str, tuple[int, ...]]:
    """Names and shapes of transformers' CLIPVisionModelWithProjection at ``size`` (meta device: no memory)."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    heads = 16 if size.hidden_size % 16 == 0 else 1  # head count does not change any shape
    config = CLIPVisionConfig(
        hidden_size=size.hidden_size,
        intermediate_size=size.intermediate_size,
        num_hidden_layers=size.num_hidden_layers,
        num_attention_heads=heads,
        patch_size=size.patch_size,
        image_size=size.image_size,
        projection_dim=size.projection_dim,
    )
    with torch.device("meta"):
        model = CLIPVisionModelWithProjection(config)
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    expected[PROJECTION_2] = (PROJECTION_2_DIM, size.hidden_size)
    return expected


def verify_photomaker(path: Path) -> VerifyReport:
    """Always the full check: only the pickle's small data.pkl is read (tensors stay mapped, untouched)."""
    builder = ReportBuilder("photomaker", path)
    if not path.is_file():
        builder.error(f"{path}: file not found" if not path.exists() else f"{path}: is a folder, expected photomaker-v1.bin")
        return builder.build()
    try:
        content = read_torch_pickle_shapes(path)
    except ModelFormatError as error:
        builder.error(str(error))
        return builder.build()
    if not isinstance(content, dict):
        builder.error(f"photomaker: expected a dict with 'id_encoder' and 'lora_weights', found {type(content).__name__}")
        return builder.build()
    _check_id_encoder(content.get("id_encoder"), builder)
    _check_lora(content.get("lora_weights"), builder)
    others = sorted(set(content) - {"id_encoder", "lora_weights"})
    if others:
        builder.warn(f"photomaker: extra top-level entries ignored: {format_names(others)}")
    return builder.build()


def _check_id_encoder(id_encoder: Any, builder: ReportBuilder) -> None:
    if not isinstance(id_encoder, dict) or not id_encoder:
        builder.error("photomaker: no 'id_encoder' state dict")
        return
    tensors = {k: v for k, v in id_encoder.items() if isinstance(v, TensorInfo)}
    ignored = [k for k in tensors if k.startswith(IGNORED_PREFIX)]
    used = {k: v for k, v in tensors.items() if not k.startswith(IGNORED_PREFIX)}
    size = infer_tower_size(used)
    # The engine tolerates the legacy position_ids buffer (older transformers saved it): so does verify.
    builder.extend(compare_tensors(expected_tower_tensors(size), used, where="photomaker id_encoder",
                                   ignorable_unexpected=IGNORABLE_BUFFERS))
    if size.projection_dim != RELEASED_TOWER.projection_dim:
        builder.error(
            f"photomaker id_encoder: visual_projection gives {size.projection_dim} features, Mix needs "
            f"{RELEASED_TOWER.projection_dim} (+{PROJECTION_2_DIM} from visual_projection_2)"
        )
    differences = [
        f"{f.name} {getattr(size, f.name)} (released {getattr(RELEASED_TOWER, f.name)})"
        for f in fields(VisionTowerSize)
        if f.name != "projection_dim" and getattr(size, f.name) != getattr(RELEASED_TOWER, f.name)
    ]
    if differences:
        builder.warn("photomaker id_encoder: not the released size: " + ", ".join(differences))
    builder.note(
        f"vision tower: {size.num_hidden_layers} layers, hidden {size.hidden_size}, MLP {size.intermediate_size}, "
        f"patch {size.patch_size}, image {size.image_size}; {len(ignored)} fuse_module tensors ignored"
    )


def _check_lora(lora: Any, builder: ReportBuilder) -> None:
    if not isinstance(lora, dict) or not any(isinstance(v, TensorInfo) for v in lora.values()):
        builder.error("photomaker: no 'lora_weights' tensors (the file is not photomaker-v1.bin)")
        return
    # Not merged by the engine (see the reference page), so only its presence is checked.
    builder.note(f"lora_weights: {len(lora)} tensors (not merged)")
