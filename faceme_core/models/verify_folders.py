"""Checks of the folder components: the SDXL base, the ControlNet and the antelopev2 pack.

Only config files, safetensors headers and ONNX graph signatures are read. With ``deep=True`` the
weight names and shapes are compared with the model the config describes, built on the meta device.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from faceme_core.models.config_sanity import config_size_problems
from faceme_core.models.headers import TensorInfo, read_onnx_io
from faceme_core.models.report import IGNORABLE_BUFFERS, ReportBuilder, VerifyReport, compare_tensors, format_names
from faceme_core.models.verify_files import check_safetensors_file

SDXL_CROSS_ATTENTION_DIM = 2048  # = the Mix id token width, so the released weights fit together
SDXL_SUBFOLDERS = ("unet", "vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "scheduler")
DIFFUSERS_WEIGHTS = "diffusion_pytorch_model"
TRANSFORMERS_WEIGHTS = "model"


def read_json_config(path: Path, builder: ReportBuilder, *, what: str) -> dict[str, Any] | None:
    if not path.is_file():
        builder.error(f"{what}: {path} not found")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:  # ValueError: bad UTF-8, JSON, 5,000-digit numbers
        detail = "nested too deeply" if isinstance(error, RecursionError) else error
        builder.error(f"{what}: {path} is not readable JSON ({detail})")
        return None
    if not isinstance(data, dict):
        builder.error(f"{what}: {path} is not a JSON object")
        return None
    problems = config_size_problems(data)  # before anything builds a model from it
    for problem in problems:
        builder.error(f"{what}: {path.name}: {problem}")
    return None if problems else data


def find_weight_files(folder: Path, stem: str) -> dict[str | None, list[Path]]:
    """Safetensors weights per variant (None = full precision, "fp16", ...), sharded ones expanded.

    Names as diffusers/transformers write them: ``stem[.variant].safetensors``, shards
    ``stem[.variant]-00001-of-00002.safetensors`` listed by ``stem.safetensors.index[.variant].json``.
    """
    found: dict[str | None, list[Path]] = {}
    for path in sorted(folder.glob(f"{stem}*.safetensors")):
        middle = path.name[len(stem) : -len(".safetensors")]
        if (middle and not middle.startswith(".")) or "-of-" in middle:
            continue  # another file sharing the prefix, or a shard (listed through its index below)
        found[middle.lstrip(".") or None] = [path]
    for index in sorted(folder.glob(f"{stem}.safetensors.index*.json")):
        variant = index.name[len(f"{stem}.safetensors.index") : -len(".json")].lstrip(".") or None
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
        except (OSError, ValueError, AttributeError):
            weight_map = {}
        found[variant] = sorted({folder / name for name in weight_map.values()})
    return found


def index_file(folder: Path, stem: str, variant: str | None) -> Path:
    return folder / f"{stem}.safetensors.index{'.' + variant if variant else ''}.json"


def preferred_variant(variants: dict[str | None, list[Path]]) -> str | None:
    """Full precision when present (what from_pretrained loads without ``variant``), else the first variant."""
    if None in variants or not variants:
        return None
    return sorted(v for v in variants if v is not None)[0]


def weights_variant(folder: Path, stem: str = DIFFUSERS_WEIGHTS) -> str | None:
    """The ``variant`` the engine must pass to from_pretrained for this model folder (None: none).

    For example ``UNet2DConditionModel.from_pretrained(base / "unet", variant=weights_variant(base / "unet"))``
    and ``weights_variant(base / "text_encoder", "model")`` for the text encoders.
    """
    return preferred_variant(find_weight_files(folder, stem))


def check_weights(folder: Path, stem: str, builder: ReportBuilder, *, what: str) -> dict[str, TensorInfo] | None:
    """Headers of one model's weights (the preferred variant), merged over shards."""
    variants = find_weight_files(folder, stem)
    if not variants:
        pickles = sorted(p.name for p in folder.glob(f"{stem}*.bin"))
        hint = f" (only pickle weights found: {', '.join(pickles)}; FaceMe loads safetensors only)" if pickles else ""
        builder.error(f"{what}: no {stem}*.safetensors weights in {folder}{hint}")
        return None
    variant = preferred_variant(variants)
    tensors: dict[str, TensorInfo] = {}
    if not variants[variant]:
        builder.error(f"{what}: {index_file(folder, stem, variant).name} lists no weight files")
        return None
    for shard in variants[variant]:
        if not shard.is_file():
            builder.error(f"{what}: weight shard {shard.name} is missing")
            return None
        shard_tensors = check_safetensors_file(shard, builder, what=what)
        if shard_tensors is None:
            return None
        tensors.update(shard_tensors)
    builder.note(f"{what}: {len(tensors)} tensors" + (f" ({variant} variant)" if variant else ""))
    return tensors


def compare_with_model(
    build: Callable[[], Any], found: dict[str, TensorInfo], builder: ReportBuilder, *, what: str
) -> None:
    """Build the model its config describes on the meta device and compare names and shapes."""
    import torch

    try:
        with torch.device("meta"):
            model = build()
    except Exception as error:  # a user's config can break a constructor in any way; report, don't crash
        builder.error(f"{what}: its config.json does not describe a buildable model ({type(error).__name__}: {error})")
        return
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    builder.extend(compare_tensors(expected, found, where=what, ignorable_unexpected=IGNORABLE_BUFFERS))


# --- ControlNet ------------------------------------------------------------------------------------


def verify_controlnet(folder: Path, *, deep: bool = True) -> VerifyReport:
    builder = ReportBuilder("controlnet", folder)
    if not folder.is_dir():
        builder.error(f"{folder}: folder not found")
        return builder.build()
    config = read_json_config(folder / "config.json", builder, what="controlnet")
    if config is None:
        return builder.build()
    if config.get("_class_name") != "ControlNetModel":
        builder.error(f"controlnet: config.json _class_name is {config.get('_class_name')!r}, expected 'ControlNetModel'")
        return builder.build()
    _expect(config, "cross_attention_dim", SDXL_CROSS_ATTENTION_DIM, builder, what="controlnet")
    _expect(config, "conditioning_channels", 3, builder, what="controlnet", default=3)
    _expect(config, "addition_embed_type", "text_time", builder, what="controlnet (SDXL)")
    tensors = check_weights(folder, DIFFUSERS_WEIGHTS, builder, what="controlnet")
    if deep and tensors is not None and not builder.has_errors:
        from diffusers import ControlNetModel

        compare_with_model(lambda: ControlNetModel.from_config(config), tensors, builder, what="controlnet")
    return builder.build()


def _expect(config: dict, key: str, value: Any, builder: ReportBuilder, *, what: str, default: Any = None) -> None:
    found = config.get(key, default)
    if found != value:
        builder.error(f"{what}: config {key} is {found!r}, expected {value!r}")


# --- SDXL base -------------------------------------------------------------------------------------


def verify_base(folder: Path, *, deep: bool = True) -> VerifyReport:
    builder = ReportBuilder("base", folder)
    if not folder.is_dir():
        builder.error(f"{folder}: folder not found")
        return builder.build()
    index = read_json_config(folder / "model_index.json", builder, what="base")
    if index is not None and "StableDiffusionXL" not in str(index.get("_class_name", "")):
        builder.error(f"base: model_index.json _class_name is {index.get('_class_name')!r}, expected an SDXL pipeline")
    missing = [name for name in SDXL_SUBFOLDERS if not (folder / name).is_dir()]
    if missing:
        builder.error(f"base: missing folder(s): {', '.join(missing)}")
        return builder.build()
    unet_config = read_json_config(folder / "unet" / "config.json", builder, what="base unet")
    vae_config = read_json_config(folder / "vae" / "config.json", builder, what="base vae")
    te1_config = read_json_config(folder / "text_encoder" / "config.json", builder, what="base text_encoder")
    te2_config = read_json_config(folder / "text_encoder_2" / "config.json", builder, what="base text_encoder_2")
    read_json_config(folder / "scheduler" / "scheduler_config.json", builder, what="base scheduler")
    for name in ("tokenizer", "tokenizer_2"):
        tokenizer = folder / name
        if not (tokenizer / "tokenizer.json").is_file() and not (
            (tokenizer / "vocab.json").is_file() and (tokenizer / "merges.txt").is_file()
        ):
            builder.error(f"base {name}: neither tokenizer.json nor vocab.json + merges.txt in {tokenizer}")
    if unet_config is not None:
        _expect(unet_config, "cross_attention_dim", SDXL_CROSS_ATTENTION_DIM, builder, what="base unet")
        _expect(unet_config, "addition_embed_type", "text_time", builder, what="base unet")
    if te1_config is not None and te2_config is not None:
        width = te1_config.get("hidden_size", 0) + te2_config.get("hidden_size", 0)
        if width != SDXL_CROSS_ATTENTION_DIM:
            builder.error(
                f"base: the text encoders' hidden sizes add up to {width}, the UNet needs {SDXL_CROSS_ATTENTION_DIM}"
            )
    weights = {
        "unet": check_weights(folder / "unet", DIFFUSERS_WEIGHTS, builder, what="base unet"),
        "vae": check_weights(folder / "vae", DIFFUSERS_WEIGHTS, builder, what="base vae"),
        "text_encoder": check_weights(folder / "text_encoder", TRANSFORMERS_WEIGHTS, builder, what="base text_encoder"),
        "text_encoder_2": check_weights(
            folder / "text_encoder_2", TRANSFORMERS_WEIGHTS, builder, what="base text_encoder_2"
        ),
    }
    if deep and not builder.has_errors:
        _compare_base_weights(weights, unet_config, vae_config, te1_config, te2_config, builder)
    return builder.build()


def _compare_base_weights(weights, unet_config, vae_config, te1_config, te2_config, builder: ReportBuilder) -> None:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    compare_with_model(lambda: UNet2DConditionModel.from_config(unet_config), weights["unet"], builder, what="base unet")
    vae_weights = with_current_attention_names(weights["vae"])
    compare_with_model(lambda: AutoencoderKL.from_config(vae_config), vae_weights, builder, what="base vae")
    compare_with_model(
        lambda: CLIPTextModel(CLIPTextConfig.from_dict(te1_config)),
        weights["text_encoder"],
        builder,
        what="base text_encoder",
    )
    compare_with_model(
        lambda: CLIPTextModelWithProjection(CLIPTextConfig.from_dict(te2_config)),
        weights["text_encoder_2"],
        builder,
        what="base text_encoder_2",
    )


# Older diffusers saved the VAE's attention as query/key/value/proj_attn; diffusers renames them when
# loading, so they are as good as the current names.
LEGACY_ATTENTION_NAMES = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}


def with_current_attention_names(tensors: dict[str, TensorInfo]) -> dict[str, TensorInfo]:
    renamed = {}
    for name, info in tensors.items():
        parts = name.split(".")
        if len(parts) >= 2 and "attentions" in parts and parts[-2] in LEGACY_ATTENTION_NAMES:
            name = ".".join(parts[:-2] + [LEGACY_ATTENTION_NAMES[parts[-2]], parts[-1]])
        renamed[name] = info
    return renamed


# --- antelopev2 ------------------------------------------------------------------------------------

ANTELOPEV2_DETECTOR = "scrfd_10g_bnkps.onnx"
ANTELOPEV2_RECOGNIZER = "glintr100.onnx"
ANTELOPEV2_OTHERS = ("1k3d68.onnx", "2d106det.onnx", "genderage.onnx")  # insightface extras FaceMe does not need
SCRFD_OUTPUTS_WITH_KEYPOINTS = 9  # scores, boxes and 5-point key points at strides 8, 16, 32
ARCFACE_INPUT = (3, 112, 112)
ARCFACE_DIM = 512


def verify_antelopev2(folder: Path, *, deep: bool = True) -> VerifyReport:
    builder = ReportBuilder("antelopev2", folder)
    if not folder.is_dir():
        builder.error(f"{folder}: folder not found")
        return builder.build()
    for name in (ANTELOPEV2_DETECTOR, ANTELOPEV2_RECOGNIZER):
        if not (folder / name).is_file():
            builder.error(f"antelopev2: {name} not found in {folder}")
    absent = [name for name in ANTELOPEV2_OTHERS if not (folder / name).is_file()]
    if absent:
        builder.warn(f"antelopev2: optional insightface model(s) absent (not used by FaceMe): {format_names(absent)}")
    if deep and not builder.has_errors:
        _check_detector(folder / ANTELOPEV2_DETECTOR, builder)
        _check_recognizer(folder / ANTELOPEV2_RECOGNIZER, builder)
    return builder.build()


def _single_input(path: Path, builder: ReportBuilder, what: str):
    from faceme_core.errors import ModelFormatError

    try:
        io = read_onnx_io(path)
    except ModelFormatError as error:
        builder.error(str(error))
        return None
    if len(io.inputs) != 1:
        builder.error(f"{what}: expected 1 input, found {len(io.inputs)}")
        return None
    return io


def _check_detector(path: Path, builder: ReportBuilder) -> None:
    io = _single_input(path, builder, "antelopev2 detector")
    if io is None:
        return
    (shape,) = io.inputs.values()
    if len(shape) != 4 or shape[1] != 3:
        builder.error(f"antelopev2 detector: input shape {shape}, expected (N, 3, H, W)")
    if len(io.outputs) != SCRFD_OUTPUTS_WITH_KEYPOINTS:
        builder.error(
            f"antelopev2 detector: {len(io.outputs)} outputs, expected {SCRFD_OUTPUTS_WITH_KEYPOINTS} "
            "(scores, boxes and key points at 3 strides)"
        )


def _check_recognizer(path: Path, builder: ReportBuilder) -> None:
    io = _single_input(path, builder, "antelopev2 glintr100")
    if io is None:
        return
    (shape,) = io.inputs.values()
    if len(shape) != 4 or tuple(shape[1:]) != ARCFACE_INPUT:
        builder.error(f"antelopev2 glintr100: input shape {shape}, expected (N, 3, 112, 112)")
    outputs = list(io.outputs.values())
    if len(outputs) != 1 or not outputs[0] or outputs[0][-1] != ARCFACE_DIM:
        builder.error(f"antelopev2 glintr100: output shape(s) {outputs}, expected one (N, {ARCFACE_DIM})")
