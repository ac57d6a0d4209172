"""``python -m training.build_refs --data-root ROOT``: the FFHQRef-style reference pool, resumable.

Reads ``ROOT/gt/`` and writes ``ROOT/refs/``, ``ROOT/pools.jsonl`` (what ``training.prepare`` reads)
and the work files in ``ROOT/refpool/`` (see ``training.refpool.builder``). Run it again after an
interruption: it continues where it stopped. Needs the antelopev2 pack (detector, ArcFace, 1k3d68).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from faceme_core.errors import FaceMeError, ModelMissingError
from faceme_core.tasks import Cancelled, CancelToken
from training.console import print_progress
from training.refpool.builder import (
    DEFAULT_ATTEMPTS,
    DEFAULT_THRESHOLD,
    BuildConfig,
    ReferencePoolBuilder,
    ground_truth_names,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.build_refs", description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, required=True, help="the training data root (gt/ inside)")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="FaceMe model folder holding the antelopev2 pack (default: the app's)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help="keep a render only when its ArcFace similarity to the source is above this")
    parser.add_argument("--attempts", type=int, default=DEFAULT_ATTEMPTS, help="renders tried per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pose-clusters", type=int, default=3, help="k of the pose k-means (paper: 3)")
    parser.add_argument("--expression-clusters", type=int, default=3,
                        help="k of the expression k-means inside each pose cluster (paper: 3)")
    parser.add_argument("--synthesiser", default="arc2face",
                        help="'arc2face', or 'package.module:factory' returning a Synthesiser")
    parser.add_argument("--device", default=None, help="Arc2Face's device (default: cuda when available, else cpu)")
    parser.add_argument("--dtype", default=None, choices=("float16", "bfloat16", "float32"),
                        help="Arc2Face's dtype (default: float16 on cuda, float32 on the cpu)")
    parser.add_argument("--steps", type=int, default=25, help="Arc2Face sampling steps")
    parser.add_argument("--guidance-scale", type=float, default=3.0, help="Arc2Face guidance scale")
    return parser.parse_args(argv)


def load_synthesiser(args: argparse.Namespace):
    if args.synthesiser == "arc2face":
        from training.refpool.arc2face import ARC2FACE_REPO, SD15_REPO, Arc2FaceSynthesiser

        import torch

        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = args.dtype or ("float16" if device.startswith("cuda") else "float32")
        try:
            return Arc2FaceSynthesiser.load(device=device, dtype=dtype, steps=args.steps,
                                            guidance_scale=args.guidance_scale)
        except OSError as error:  # not downloaded and no network, a damaged cache: say so in one line
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ModelMissingError(f"Arc2Face ({ARC2FACE_REPO} on {SD15_REPO}) could not be loaded: {first_line}",
                                    hint="download it once with network access (it goes to the Hugging Face "
                                         "cache), or pass --synthesiser package.module:factory") from error
    module_name, _, factory = args.synthesiser.partition(":")
    if not factory:
        raise FaceMeError(f"--synthesiser {args.synthesiser!r}: expected 'arc2face' or 'package.module:factory'")
    try:
        make = getattr(importlib.import_module(module_name), factory)
    except (ImportError, AttributeError) as error:
        raise FaceMeError(f"--synthesiser {args.synthesiser!r}: cannot import it ({error})") from None
    return make()


def open_face_models(models_dir: Path | None):
    """The analyzer and the 3D-landmark attribute extractor, both from the antelopev2 pack."""
    from faceme_core.errors import ModelMissingError
    from faceme_core.faces.analyzer import FaceAnalyzer
    from faceme_core.faces.insightface_backend import InsightFaceBackend, pack_is_installed
    from faceme_core.models.layout import ANTELOPEV2_DIRNAME
    from faceme_core.paths import models_dir as default_models_dir
    from training.refpool.attributes import Landmark3DExtractor

    pack = (models_dir or default_models_dir()) / ANTELOPEV2_DIRNAME
    if not pack_is_installed(pack):
        raise ModelMissingError(f"the antelopev2 pack is not installed in {pack}: "
                                "run `faceme models download antelopev2`")
    return FaceAnalyzer(InsightFaceBackend(pack)), Landmark3DExtractor(pack)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cancel = CancelToken()
    try:
        config = BuildConfig(threshold=args.threshold, max_attempts=args.attempts, seed=args.seed,
                             pose_clusters=args.pose_clusters, expression_clusters=args.expression_clusters)
        ground_truth_names(args.data_root)  # a wrong data root is named before any model loads
        analyzer, extractor = open_face_models(args.models_dir)
        builder = ReferencePoolBuilder(args.data_root, analyzer, extractor, load_synthesiser(args), config)
        summary = builder.build(progress=print_progress, cancel=cancel)
    except (FaceMeError, ValueError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 2
    except (Cancelled, KeyboardInterrupt):
        print("\ninterrupted: run the same command again to continue", file=sys.stderr)
        return 130
    print(f"\n{summary.identities} identities ({summary.without_face} without a face), {summary.targets} targets: "
          f"{summary.kept} renders kept, {summary.exhausted} targets out of attempts, {summary.attempts} renders "
          f"this run; pools written to {summary.pools}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
