"""``python -m training.prepare DATA_ROOT``: identity features for every ground truth and reference.

For each image listed in ``DATA_ROOT/pools.jsonl`` it finds the face and computes the ArcFace
embedding and the CLIP feature with the engine's own functions, as FaceMe's reference prepared its
training data: the insightface backend's ``faceme_identity`` (detector at 512 first, the reference's
colour order, the LARGEST face, as its data preparation picked) and ``clip_pixels`` + ``ClipIdEncoder``
(same box crop and preprocessing as inference), so Mix is trained on exactly what it will see. Results
go to ``prepared/features/`` (safetensors) and ``prepared/manifest.jsonl`` (see ``training/layout.py``).

Resumable: feature files are written atomically one by one and skipped when present; images without
a usable face are listed in ``prepared/no_face.jsonl`` and not retried (delete that file to retry).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from faceme_core.engine.identity import ReferenceFace
from faceme_core.errors import FaceMeError, ModelMissingError
from faceme_core.tasks import CancelToken, ProgressCallback, TaskProgress, ignore_progress
from training.features import IdentityFeatures, load_features, save_features
from training.layout import (
    DataLayout,
    ManifestEntry,
    NoFaceEntry,
    TrainingDataError,
    read_pools,
    write_lines,
)

CLIP_BATCH = 8
PROGRESS_SECONDS = 5.0


@dataclass(frozen=True)
class PrepareResult:
    computed: int  # feature files written by this run
    reused: int  # already present (an earlier, interrupted run)
    no_face: tuple[NoFaceEntry, ...]  # every image without a usable face, this run's and earlier ones
    samples: int  # lines in the manifest


def prepare(layout: DataLayout, analyzer, clip_encoder, device: str = "cpu",
            progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> PrepareResult:
    """Compute the missing feature files, then (re)write the manifest. ``analyzer``: a FaceAnalyzer on
    insightface (antelopev2); ``clip_encoder``: the engine's ``ClipIdEncoder``."""
    progress = progress or ignore_progress
    cancel = cancel or CancelToken.never()
    check_data_root(layout)
    if not callable(getattr(analyzer.backend, "faceme_identity", None)):
        raise ModelMissingError("training features need the insightface antelopev2 pack (FaceMe's detector and "
                                f"ArcFace), not the {analyzer.name} backend")
    # 1. what is there to do
    pools = read_pools(layout.pools)
    images = list(dict.fromkeys(name for entry in pools for name in (entry.gt, *entry.references)))
    absent = [name for name in images if not layout.image(name).is_file()]
    if absent:  # a wrong path in pools.jsonl, not a faceless image: fix it rather than train without it
        raise TrainingDataError(f"{layout.pools}: {len(absent)} listed image(s) not found under {layout.root}: "
                                + ", ".join(absent[:3]) + (" ..." if len(absent) > 3 else ""))
    no_face = _read_no_face(layout.no_face)
    todo = [name for name in images
            if name not in no_face and not _usable(layout.features(layout.features_relative(name)))]
    reused = sum(1 for name in images if name not in no_face) - len(todo)
    # 2. features, a batch of CLIP crops at a time
    began, computed = time.monotonic(), 0
    clip_encoder = clip_encoder.to(device).eval()
    for start in range(0, len(todo), CLIP_BATCH):
        cancel.raise_if_cancelled("preparation cancelled")
        batch = todo[start:start + CLIP_BATCH]
        found, missing = _detect(layout, batch, analyzer)
        for name, reason in missing:
            no_face[name] = NoFaceEntry(name, reason)
            _append_line(layout.no_face, no_face[name])
        if found:
            for name, features in zip(found, _encode(found.values(), clip_encoder, device)):
                save_features(layout.features(layout.features_relative(name)), features)
                computed += 1
        done = start + len(batch)
        rate = done / max(time.monotonic() - began, 1e-9)
        progress(TaskProgress("preparing", done, len(todo), item=batch[-1], eta_seconds=(len(todo) - done) / rate,
                              message=f"{computed} computed, {len(no_face)} without a face"))
    # 3. the manifest: own features first, then each reference with a face
    entries = []
    for entry in pools:
        pool = [layout.features_relative(name) for name in (entry.gt, *entry.references) if name not in no_face]
        pool = list(dict.fromkeys(pool))  # a reference listed twice counts once
        if pool:
            entries.append(ManifestEntry(entry.gt, tuple(pool)))
    write_lines(layout.manifest, entries)
    return PrepareResult(computed, reused, tuple(no_face.values()), len(entries))


def check_data_root(layout: DataLayout) -> None:
    """The data root and its pools.jsonl exist (checked before any model is loaded)."""
    if not layout.root.is_dir():
        raise TrainingDataError(f"{layout.root}: no such data folder")
    if not layout.pools.is_file():
        raise TrainingDataError(f"{layout.pools}: not found (write it, or build it with python -m training.build_refs "
                                f"--data-root {layout.root}; see training/layout.py)")


def _detect(layout: DataLayout, names: Sequence[str], analyzer):
    """{name: ReferenceFace} for images with a usable face, and (name, reason) for the others."""
    found, missing = {}, []
    for name in names:
        try:
            found[name] = training_face(layout.image(name), analyzer)
        except FaceMeError as error:  # no face, a face too small, an unreadable image: listed, not fatal
            missing.append((name, str(error)))
    return found, missing


def training_face(path: Path, analyzer) -> ReferenceFace:
    """The image's face as the reference's data preparation chose and encoded it: the largest face found
    by the detector at 512 (then other sizes), the image handed to insightface in the reference's colour
    order; refused when its eyes are closer than the smallest face FaceMe restores."""
    from faceme_core.faces.analyzer import skip_reason
    from faceme_core.faces.types import Detection
    from faceme_core.imageio import load_photo

    rgb = load_photo(path).rgb8()
    identity = analyzer.backend.faceme_identity(rgb, largest=True)
    if identity is None:
        raise FaceMeError(f"{path}: no face found")
    too_small = skip_reason(Detection(identity.box, identity.points, 1.0).eye_distance)
    if too_small is not None:
        raise FaceMeError(f"{path}: no face large enough to use (the largest is {too_small})")
    return ReferenceFace(image=rgb, box=identity.box, arcface=identity.arcface)


def _encode(references, clip_encoder, device: str) -> list[IdentityFeatures]:
    from faceme_core.engine.identity import arcface_tensor, clip_pixels

    references = list(references)
    pixels = torch.stack([clip_pixels(r.image, r.box) for r in references]).to(device)
    with torch.inference_mode():
        clip = clip_encoder(pixels.to(next(clip_encoder.parameters()).dtype)).float().cpu()
    return [IdentityFeatures(arcface_tensor(r), feature.clone()) for r, feature in zip(references, clip)]


def _usable(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        load_features(path)
        return True
    except TrainingDataError:  # a damaged file from a crash: compute it again
        return False


def _read_no_face(path: Path) -> dict[str, NoFaceEntry]:
    entries = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                entries[record["image"]] = NoFaceEntry(record["image"], record["reason"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut short by a crash: that image is simply tried again
    return entries


def _append_line(path: Path, entry) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(entry.to_json() + "\n")


# --- command line -------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.prepare", description=__doc__.split("\n\n")[0])
    parser.add_argument("data_root", type=Path, help="folder holding pools.jsonl and the images it names")
    parser.add_argument("--models-dir", "--models", dest="models", metavar="DIR", type=Path, default=None,
                        help="FaceMe model folder holding antelopev2 and photomaker-v1.bin (default: the app's)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    try:
        check_data_root(DataLayout(args.data_root))
        analyzer, clip_encoder = load_feature_models(args.models)
        result = prepare(DataLayout(args.data_root), analyzer, clip_encoder, args.device, progress=ThrottledPrinter())
    except FaceMeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{result.samples} training samples; {result.computed} feature files computed, {result.reused} reused, "
          f"{len(result.no_face)} images without a face (listed in {DataLayout(args.data_root).no_face})",
          file=sys.stderr)
    if result.samples == 0:
        print("error: no ground truth has a usable face, so there is nothing to train on "
              f"(the reasons are in {DataLayout(args.data_root).no_face})", file=sys.stderr)
        return 2
    return 0


def load_feature_models(models_dir: Path | None):
    """The insightface analyzer and the CLIP identity tower, found where the app finds them."""
    from faceme_core.engine.identity import load_clip_id_encoder
    from faceme_core.faces.analyzer import create_analyzer
    from faceme_core.models.store import component_status
    from faceme_core.paths import models_dir as default_models_dir

    models_dir = models_dir or default_models_dir()
    photomaker = component_status("photomaker", models_dir)
    if photomaker.state != "installed" or photomaker.path is None:
        raise ModelMissingError(f"photomaker-v1.bin is not installed in {models_dir} (faceme models download photomaker)")
    analyzer = create_analyzer("insightface", models_dir)  # refuses clearly when antelopev2 is missing
    return analyzer, load_clip_id_encoder(photomaker.path)


class ThrottledPrinter:
    """Progress on stderr, one line every few seconds and the last one (a dataset of hundreds of
    thousands of images would otherwise print as many lines)."""

    def __init__(self, every_seconds: float = PROGRESS_SECONDS):
        self.every_seconds, self.last = every_seconds, float("-inf")

    def __call__(self, event: TaskProgress) -> None:
        now = time.monotonic()
        if event.done != event.total and now - self.last < self.every_seconds:
            return
        self.last = now
        eta = f", about {event.eta_seconds:.0f} s left" if event.eta_seconds is not None else ""
        print(f"[{event.done}/{event.total}] {event.message}{eta}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
