"""``python -m training.evaluate --gt GT --refs REFS --out OUT``: the paper's Table 1 for given weights.

Restores every ground truth's degraded input (given with ``--lq``, else made with the shared degradation)
blind and with up to 4 references of its identity, then writes ``OUT/table1.csv``, ``per_identity.csv``,
``per_face.csv``, ``report.md`` and ``contact_sheet.png``. Re-running with the same OUT reuses the
restorations already written (use a new OUT for new weights or settings).

Metric networks: IDS (ArcFace) and LMD (1k3d68) come from the antelopev2 pack; LPIPS (AlexNet) and FID
(InceptionV3, needs the ``eval`` extra) DOWNLOAD THEIR WEIGHTS ON FIRST USE; MUSIQ needs the ``musiq``
extra (pyiqa). A metric whose network cannot be had is reported as n/a, with the reason in report.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faceme_core.engine.options import REFERENCE_SAMPLER, SAMPLER_PRESETS, RestoreOptions
from faceme_core.errors import FaceMeError, ModelFormatError, ModelMissingError
from faceme_core.tasks import Cancelled, CancelToken
from training.console import print_progress
from training.evaluation.report import write_contact_sheet, write_reports
from training.evaluation.runner import EvaluationConfig, Scorers, run_evaluation
from training.evaluation.testset import discover


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--gt", type=Path, required=True, help="ground truths: GT/<identity>/<image>")
    parser.add_argument("--refs", type=Path, required=True, help="references: REFS/<identity>/<image>")
    parser.add_argument("--lq", type=Path, default=None, help="given degraded inputs, same paths as --gt")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--models-dir", type=Path, default=None, help="FaceMe model folder (default: the app's)")
    parser.add_argument("--weights", type=Path, default=None,
                        help="FaceMe weights to evaluate instead of the model folder's: a folder holding controlnet/ "
                             "and mix/mix.safetensors, e.g. a training run's OUTPUT/weights")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--sampler", default=REFERENCE_SAMPLER, choices=sorted(SAMPLER_PRESETS))
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--identity-strength", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0, help="restoration seed (face i uses seed + i)")
    parser.add_argument("--degradation-seed", type=int, default=0)
    parser.add_argument("--max-references", type=int, default=4)
    parser.add_argument("--no-lpips", action="store_true", help="skip LPIPS (no weight download)")
    parser.add_argument("--no-fid", action="store_true", help="skip FID (no weight download)")
    parser.add_argument("--musiq", action="store_true", help="compute MUSIQ (needs pyiqa: the musiq extra)")
    parser.add_argument("--contact-identities", type=int, default=4)
    return parser.parse_args(argv)


def build_scorers(pack: Path, args: argparse.Namespace, device: str = "cpu") -> Scorers:
    from faceme_core.faces.insightface_backend import InsightFaceBackend
    from training.evaluation.metrics import antelopev2_identity_embedder, antelopev2_landmarker
    from training.refpool.attributes import LANDMARK_FILE, Landmark3DExtractor

    missing: dict[str, str] = {}
    landmarks = None
    if (pack / LANDMARK_FILE).is_file():
        landmarks = antelopev2_landmarker(Landmark3DExtractor(pack))
    else:
        missing["lmd"] = f"{pack / LANDMARK_FILE} is missing"
    lpips = fid_features = musiq = None
    if args.no_lpips:
        missing["lpips"] = "skipped (--no-lpips)"
    else:
        lpips = _optional("lpips", missing, lambda: _lpips_distance(device))
    if args.no_fid:
        missing["fid"] = "skipped (--no-fid)"
    else:
        from training.evaluation.fid import inception_features

        fid_features = _optional("fid", missing, lambda: inception_features(device))
    if args.musiq:
        from training.evaluation.musiq import pyiqa_musiq

        musiq = _optional("musiq", missing, lambda: pyiqa_musiq(device))
    else:
        missing["musiq"] = "not requested (--musiq, needs the musiq extra)"
    return Scorers(identity=antelopev2_identity_embedder(InsightFaceBackend(pack)), landmarks=landmarks, lpips=lpips,
                   fid_features=fid_features, musiq=musiq, missing=missing)


def _lpips_distance(device: str):
    from training.evaluation.lpips import load_alex_lpips

    return load_alex_lpips(device).distance


def _optional(metric: str, missing: dict[str, str], load):
    """Load a metric network; when it cannot be had (no network, no package), say why and go on."""
    try:
        return load()
    except (FaceMeError, OSError, ImportError, RuntimeError) as error:
        missing[metric] = f"unavailable: {error}"
        print(f"warning: {metric.upper()} not computed: {error}", file=sys.stderr)
        return None


def evaluation_model_paths(models_dir: Path | None, weights: Path | None):
    """The model folder's components; with ``weights``, its ControlNet and Mix instead (verified as
    ``faceme models verify`` does), so a training run's export is evaluated without importing it."""
    from faceme_core.models.layout import ModelPaths
    from faceme_core.models.store import component_status, resolve_model_paths
    from faceme_core.models.verify import verify_component

    if weights is None:
        return resolve_model_paths(models_dir)
    given = {"controlnet": weights / "controlnet", "mix": weights / "mix" / "mix.safetensors"}
    for name, path in given.items():
        if not path.exists():
            raise ModelMissingError(f"--weights {weights}: no {path.relative_to(weights)} (expected a training run's "
                                    "weights/ folder: controlnet/ and mix/mix.safetensors)")
        report = verify_component(name, path)
        if not report.ok:
            raise ModelFormatError(f"--weights {weights}: {path} is not a usable FaceMe {name}: {report.errors[0]}")
    found = {}
    for name in ("base", "photomaker", "antelopev2"):
        status = component_status(name, models_dir)
        if status.state != "installed" or status.path is None:
            where = models_dir or "the app's model folder"
            raise ModelMissingError(f"{name}: not usable in {where} ({status.state}); evaluation needs it besides "
                                    f"--weights (faceme models download {name})")
        found[name] = status.path
    return ModelPaths(base_model=found["base"], photomaker=found["photomaker"], antelopev2=found["antelopev2"],
                      **given)


def reference_loader(analyzer, skipped: list[str]):
    """Load an identity's references, leaving out (and noting) photos without a usable face."""
    from faceme_core.restore.reference_set import load_reference

    def load(paths):
        faces = []
        for path in paths:
            try:
                faces.append(load_reference(Path(path), analyzer)[0])
            except FaceMeError as error:
                skipped.append(str(error))
        if not faces:
            raise FaceMeError(f"no usable reference among {', '.join(str(p) for p in paths)}")
        return faces

    return load


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        from faceme_core.faces.analyzer import FaceAnalyzer
        from faceme_core.faces.insightface_backend import InsightFaceBackend
        from training.evaluation.restorers import EngineFaceRestorer

        faces = discover(args.gt, args.refs, args.lq)
        options = RestoreOptions(sampler=args.sampler, steps=args.steps, identity_strength=args.identity_strength,
                                 seed=args.seed)
        options.validate()
        paths = evaluation_model_paths(args.models_dir, args.weights)
        if paths.antelopev2 is None:
            raise ModelMissingError("evaluation needs the antelopev2 pack: run `faceme models download antelopev2`")
        analyzer = FaceAnalyzer(InsightFaceBackend(paths.antelopev2))
        import torch

        metric_device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        scorers = build_scorers(paths.antelopev2, args, device=metric_device)  # LPIPS/FID/MUSIQ beside the engine
        restorer = EngineFaceRestorer.open(paths, options, device=args.device)
        skipped: list[str] = []
        evaluation = run_evaluation(
            faces, restorer, reference_loader(analyzer, skipped), scorers, args.out,
            EvaluationConfig(degradation_seed=args.degradation_seed, max_references=args.max_references),
            progress=print_progress, cancel=CancelToken())
        notes = [f"{metric.upper()}: {why}" for metric, why in sorted(scorers.missing.items())]
        notes += [f"reference left out: {reason}" for reason in skipped]
        notes.append(f"settings: sampler {options.sampler}, steps {options.step_count()}, identity strength "
                     f"{options.identity_strength:g}, seed {options.seed}, degradation seed {args.degradation_seed}"
                     + (" (given LQ images)" if args.lq else ""))
        files = write_reports(evaluation, args.out, notes)
        sheet = write_contact_sheet(faces, args.out, identities=args.contact_identities)
    except (FaceMeError, ValueError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 2
    except (Cancelled, KeyboardInterrupt):
        print("\ninterrupted: run the same command again to continue", file=sys.stderr)
        return 130
    print("\n" + files["markdown"].read_text(encoding="utf-8").split("\n## Per identity")[0])
    print(f"written: {', '.join(str(p) for p in files.values())}, {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
