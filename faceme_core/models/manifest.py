"""Every model component FaceMe needs: where it comes from, which files, how big, under which licence.

Component names (used by ``faceme models ...``): ``base``, ``controlnet``, ``mix``, ``photomaker``,
``antelopev2``. ControlNet and Mix come from the same Hub repository, so ``faceme models download
faceme`` fetches both.

Revisions are ``main``: the commit hashes of these repositories could not be checked from where this
was written. Pinning each to a commit hash (the ``revision`` field) makes downloads reproducible; the
store verifies whatever it gets, so a changed repository is reported, not silently used.
"""

from __future__ import annotations

from dataclasses import dataclass

from faceme_core.errors import FaceMeError

GB = 1024**3
MB = 1024**2


@dataclass(frozen=True)
class Component:
    name: str
    title: str
    source: str  # "hf": Hugging Face Hub; "insightface": insightface's model zoo downloader
    repo_id: str
    revision: str
    allow_patterns: tuple[str, ...]
    approx_bytes: int
    licence: str
    notes: str = ""


# RealVisXL: only the diffusers folders, never the single-file checkpoint at the repository root.
# The weight files are chosen at download time from the repository listing (``base_weight_files``):
# the fp16 variant (``*.fp16.safetensors``, half the size) for each model folder that has one, the
# full-precision safetensors otherwise. Whether RealVisXL_V3.0 ships fp16 variants could not be
# checked from here; either way the engine reads the variant with ``weights_variant()``.
BASE_CONFIG_PATTERNS = (
    "model_index.json",
    "unet/config.json",
    "vae/config.json",
    "text_encoder/config.json",
    "text_encoder_2/config.json",
    "scheduler/*",
    "tokenizer/*",
    "tokenizer_2/*",
)
BASE_WEIGHT_FOLDERS = {
    "unet": "diffusion_pytorch_model",
    "vae": "diffusion_pytorch_model",
    "text_encoder": "model",
    "text_encoder_2": "model",
}
PREFERRED_VARIANT = "fp16"

# The file names inside thomas2modyu/FaceMe are not known: take every config and safetensors file,
# then discover the ControlNet (a config.json with _class_name ControlNetModel) and mix.safetensors.
# Pickled weights (.bin/.ckpt/.pt) are never downloaded: FaceMe does not unpickle them.
FACEME_PATTERNS = ("*.json", "*.safetensors", "*.md", "*.txt")

COMPONENTS: tuple[Component, ...] = (
    Component(
        name="base",
        title="RealVisXL V3.0 (SDXL base model, diffusers folders)",
        source="hf",
        repo_id="SG161222/RealVisXL_V3.0",
        revision="main",
        allow_patterns=BASE_CONFIG_PATTERNS + tuple(f"{folder}/*.safetensors" for folder in BASE_WEIGHT_FOLDERS),
        approx_bytes=7 * GB,  # fp16 variant; about 13 GB in full precision
        licence="CreativeML Open RAIL++-M (see the model card)",
    ),
    Component(
        name="controlnet",
        title="FaceMe ControlNet (diffusers ControlNetModel folder)",
        source="hf",
        repo_id="thomas2modyu/FaceMe",
        revision="main",
        allow_patterns=FACEME_PATTERNS,
        approx_bytes=5 * GB,  # an SDXL ControlNet: about 2.5 GB in fp16, 5 GB in fp32
        licence="not stated on the reference page: read the thomas2modyu/FaceMe model card before use",
        notes="file names inside the repository are discovered, not assumed",
    ),
    Component(
        name="mix",
        title="FaceMe identity mixer (mix.safetensors)",
        source="hf",
        repo_id="thomas2modyu/FaceMe",
        revision="main",
        allow_patterns=FACEME_PATTERNS,
        approx_bytes=160 * MB,  # 39.4 M parameters in fp32
        licence="not stated on the reference page: read the thomas2modyu/FaceMe model card before use",
        notes="downloaded together with controlnet",
    ),
    Component(
        name="photomaker",
        title="PhotoMaker v1 CLIP identity encoder (photomaker-v1.bin)",
        source="hf",
        repo_id="TencentARC/PhotoMaker",
        revision="main",
        allow_patterns=("photomaker-v1.bin",),
        approx_bytes=934 * MB,
        licence="Apache-2.0 (see the model card)",
    ),
    Component(
        name="antelopev2",
        title="insightface antelopev2 pack (SCRFD-10G detector, glintr100 ArcFace)",
        source="insightface",
        repo_id="insightface model zoo: antelopev2.zip",
        revision="model-zoo",
        allow_patterns=("*.onnx",),
        approx_bytes=360 * MB,
        licence="insightface pretrained models: non-commercial research use only",
    ),
)

COMPONENT_NAMES = tuple(c.name for c in COMPONENTS)
# Names accepted by ``faceme models download``: each component, plus "faceme" for its two parts.
DOWNLOAD_GROUPS = {"faceme": ("controlnet", "mix"), "all": COMPONENT_NAMES}


def component(name: str) -> Component:
    for c in COMPONENTS:
        if c.name == name:
            return c
    raise FaceMeError(f"unknown model component {name!r}; known: {', '.join(COMPONENT_NAMES)}")


def expand_names(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Component names with groups expanded, in manifest order; unknown names raise FaceMeError."""
    wanted: set[str] = set()
    for name in names:
        if name in DOWNLOAD_GROUPS:
            wanted.update(DOWNLOAD_GROUPS[name])
        else:
            wanted.add(component(name).name)
    return tuple(n for n in COMPONENT_NAMES if n in wanted)


def base_weight_files(repo_files: list[str], *, prefer_variant: str = PREFERRED_VARIANT) -> list[str]:
    """The base model's files to download, given the repository's file list (a pure function).

    Per model folder: the ``prefer_variant`` safetensors when present, else the full-precision ones
    (sharded weights come with their index). Raises FaceMeError naming a folder with no safetensors.
    """
    chosen = [f for f in repo_files if f in BASE_CONFIG_PATTERNS or _in_folder(f, ("scheduler", "tokenizer", "tokenizer_2"))]
    for folder, stem in BASE_WEIGHT_FOLDERS.items():
        files = [f for f in repo_files if f.startswith(f"{folder}/{stem}") and "/" not in f[len(folder) + 1 :]]
        variant = [f for f in files if f".{prefer_variant}." in f or f".{prefer_variant}-" in f]
        full = [f for f in files if f not in variant and _is_plain_weight(f, stem, folder)]
        pick = [f for f in (variant if _has_safetensors(variant) else full) if ".safetensors" in f]
        if not _has_safetensors(pick):
            raise FaceMeError(f"the base model repository has no safetensors weights in {folder}/")
        chosen += pick
    return chosen


def _in_folder(path: str, folders: tuple[str, ...]) -> bool:
    head, _, rest = path.partition("/")
    return head in folders and bool(rest) and "/" not in rest


def _has_safetensors(files: list[str]) -> bool:
    return any(f.endswith(".safetensors") for f in files)


def _is_plain_weight(path: str, stem: str, folder: str) -> bool:
    """``stem.safetensors``, its shards and index, but no other variant (``stem.fp32.safetensors``...)."""
    middle = path[len(folder) + 1 + len(stem) :]
    return middle.startswith(".safetensors") or middle.startswith("-")
