"""Restore a test set blind and with references, score every face, and summarise as Table 1.

Restorations are written to ``OUT/restored/<method>/<identity>/<file>.png`` and reused when present, so
an interrupted evaluation resumes (use a fresh OUT when the weights or settings change). FID is a set
metric: it is computed per method over all faces, not per face or identity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from faceme_core.engine.restorer import ReferenceFace
from faceme_core.library.eta import EtaClock
from faceme_core.tasks import CancelToken, ProgressCallback, TaskProgress, ignore_progress
from training.evaluation.fid import FeatureNetwork, features_of, fid
from training.evaluation.metrics import IdentityEmbedder, Landmarker, identity_similarity, landmark_distance, psnr, ssim
from training.evaluation.musiq import QualityScorer
from training.evaluation.restorers import FaceRestorer
from training.evaluation.testset import TestFace, load_pair
from training.imagefiles import read_rgb8, write_png

INPUT, BLIND, REFERENCES = "input", "blind", "references"
METHODS = (INPUT, BLIND, REFERENCES)
METRICS = ("psnr", "ssim", "lpips", "musiq", "fid", "lmd", "ids")

ReferenceLoader = Callable[[Sequence[Path]], Sequence[ReferenceFace]]


@dataclass(frozen=True)
class Scorers:
    """The networks behind the metrics; None leaves that column empty (the report says why)."""

    identity: IdentityEmbedder  # ArcFace (antelopev2) of an aligned face: IDS
    landmarks: Landmarker | None = None  # 68 landmarks (1k3d68): LMD
    lpips: Callable[[np.ndarray, np.ndarray], float] | None = None
    fid_features: FeatureNetwork | None = None
    musiq: QualityScorer | None = None
    missing: dict[str, str] = field(default_factory=dict)  # metric -> why it is not computed


@dataclass(frozen=True)
class EvaluationConfig:
    degradation_seed: int = 0  # inputs made from (seed, 0, face index) when no LQ images are given
    max_references: int = 4  # the paper uses 1-4 references per identity


@dataclass(frozen=True)
class FaceScores:
    method: str
    identity: str
    name: str
    psnr: float
    ssim: float
    lpips: float | None
    musiq: float | None
    lmd: float | None
    ids: float


@dataclass(frozen=True)
class SummaryRow:
    label: str  # a method, or "<method> / <identity>" for per-identity rows
    method: str
    identity: str | None
    faces: int
    values: dict[str, float | None]  # METRICS -> mean (fid: over the set; None when not computed)


@dataclass(frozen=True)
class Evaluation:
    methods: list[SummaryRow]
    identities: list[SummaryRow]
    faces: list[FaceScores]
    images: Path  # OUT/: lq/, restored/<method>/, gt/


def restored_path(out_dir: Path, method: str, face: TestFace) -> Path:
    folder = "lq" if method == INPUT else f"restored/{method}"
    return Path(out_dir) / folder / Path(face.name).with_suffix(".png")


def run_evaluation(faces: Sequence[TestFace], restorer: FaceRestorer, load_references: ReferenceLoader,
                   scorers: Scorers, out_dir: Path, config: EvaluationConfig = EvaluationConfig(),
                   progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> Evaluation:
    progress = progress or ignore_progress
    cancel = cancel or CancelToken.never()
    out_dir = Path(out_dir)
    references: dict[str, Sequence[ReferenceFace]] = {}
    scores: list[FaceScores] = []
    outputs: dict[str, list[np.ndarray]] = defaultdict(list)
    truths: list[np.ndarray] = []
    clock = EtaClock(len(faces))
    for done, face in enumerate(faces):
        cancel.raise_if_cancelled()
        progress(TaskProgress("evaluating", done, len(faces), item=face.name, eta_seconds=clock.eta(done)))
        lq, gt = load_pair(face, config.degradation_seed)
        write_png(out_dir / "gt" / Path(face.name).with_suffix(".png"), gt)
        truths.append(gt)
        for method in METHODS:
            path = restored_path(out_dir, method, face)
            if method == INPUT:
                image = lq
                write_png(path, lq)
            elif path.is_file():
                image = read_rgb8(path)  # resumed: restored by an earlier run
            else:
                refs: Sequence[ReferenceFace] = ()
                if method == REFERENCES:
                    if face.identity not in references:
                        references[face.identity] = load_references(face.references[: config.max_references])
                    refs = references[face.identity]
                image = restorer(lq, refs)
                write_png(path, image)
            outputs[method].append(image)
            scores.append(score_face(method, face, image, gt, scorers))
    progress(TaskProgress("scoring", len(faces), len(faces), message="FID over the whole set"))
    set_fid = {m: _set_fid(scorers.fid_features, outputs[m], truths) for m in METHODS}
    return Evaluation(methods=summarise(scores, set_fid), identities=summarise(scores, None, per_identity=True),
                      faces=scores, images=out_dir)


def score_face(method: str, face: TestFace, image: np.ndarray, gt: np.ndarray, scorers: Scorers) -> FaceScores:
    return FaceScores(
        method=method, identity=face.identity, name=face.name,
        psnr=psnr(image, gt), ssim=ssim(image, gt),
        lpips=None if scorers.lpips is None else float(scorers.lpips(image, gt)),
        musiq=None if scorers.musiq is None else float(scorers.musiq(image)),
        lmd=None if scorers.landmarks is None else landmark_distance(scorers.landmarks, image, gt),
        ids=identity_similarity(scorers.identity, image, gt),
    )


def summarise(scores: Sequence[FaceScores], set_fid: dict[str, float | None] | None,
              per_identity: bool = False) -> list[SummaryRow]:
    groups: dict[tuple[str, str | None], list[FaceScores]] = defaultdict(list)
    for s in scores:
        groups[(s.method, s.identity if per_identity else None)].append(s)
    rows = []
    for (method, identity), members in sorted(groups.items(), key=lambda kv: (kv[0][1] or "", METHODS.index(kv[0][0]))):
        values: dict[str, float | None] = {}
        for metric in METRICS:
            if metric == "fid":
                values[metric] = None if set_fid is None else set_fid.get(method)
                continue
            column = [getattr(s, metric) for s in members]
            values[metric] = None if any(v is None for v in column) else float(np.mean(column))
        rows.append(SummaryRow(label=method if identity is None else f"{method} / {identity}", method=method,
                               identity=identity, faces=len(members), values=values))
    return rows


def _set_fid(network: FeatureNetwork | None, images: list[np.ndarray], truths: list[np.ndarray]) -> float | None:
    if network is None or len(images) < 2:
        return None
    return fid(features_of(network, images), features_of(network, truths))


FACE_SCORE_FIELDS = tuple(f.name for f in fields(FaceScores))
