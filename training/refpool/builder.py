"""Build an FFHQRef-style reference pool in the data root that ``training.prepare`` reads.

Input: ``ROOT/gt/`` (one aligned photo per identity, e.g. FFHQ). Output: ``ROOT/refs/<gt name>/<target>.png``
renders and ``ROOT/pools.jsonl`` (``training.layout``). Work files in ``ROOT/refpool/``:

- ``attributes.jsonl``: per ground truth, the largest face's box, ArcFace, pose and expression (or why none);
- ``clusters.json``: the pose/expression targets (computed once; a resumed or extended build keeps them);
- ``decisions.jsonl``: one line per render attempt: kept, rejected (similarity <= threshold) or failed.

Each (identity, target) gets up to ``max_attempts`` renders, each with its own seed; the first whose
ArcFace similarity to the source is above ``threshold`` is kept. Resuming skips every analysis and
every pair already decided (kept, or out of attempts) and redoes only what has no complete line.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
import numpy as np

from faceme_core.errors import FaceMeError
from faceme_core.faces.analyzer import FaceAnalyzer
from faceme_core.faces.boxes import box_area
from faceme_core.faces.types import Detection, Embedding, Face
from faceme_core.imageio.atomic import write_atomically
from faceme_core.library.eta import EtaClock
from faceme_core.tasks import CancelToken, ProgressCallback, TaskProgress, ignore_progress
from training.imagefiles import list_images, read_rgb8, write_png
from training.layout import GT_DIRNAME, REFS_DIRNAME, DataLayout, PoolEntry, TrainingDataError, write_lines
from training.refpool.attributes import AttributeExtractor, FaceAttributes
from training.refpool.clustering import ClusterTarget, cluster_targets
from training.refpool.decisions import FAILED, KEPT, REJECTED, JsonLines, RenderDecision
from training.refpool.synthesis import RenderRequest, Synthesiser

WORK_DIRNAME = "refpool"
ATTRIBUTES_FILENAME = "attributes.jsonl"
CLUSTERS_FILENAME = "clusters.json"
DECISIONS_FILENAME = "decisions.jsonl"
# The paper names a threshold delta without giving its value; 0.5 is a common "same person" ArcFace cut.
DEFAULT_THRESHOLD = 0.5
DEFAULT_ATTEMPTS = 3  # the paper's "up to three attempts"


@dataclass(frozen=True)
class BuildConfig:
    threshold: float = DEFAULT_THRESHOLD  # keep a render only when its similarity is above this
    max_attempts: int = DEFAULT_ATTEMPTS
    pose_clusters: int = 3
    expression_clusters: int = 3
    seed: int = 0  # base of every render's seed and of the clustering
    measure_renders: bool = True  # record each render's own pose and nearest target

    def __post_init__(self):
        if not -1.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold={self.threshold}: a cosine similarity lies in [-1, 1]")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts={self.max_attempts}: must be at least 1")


@dataclass(frozen=True)
class SourceFace:
    """A ground truth's analysed face (one line of attributes.jsonl)."""

    identity: str  # "gt/..." relative to the data root
    box: tuple[float, float, float, float] | None
    arcface: np.ndarray | None
    attributes: FaceAttributes | None
    reason: str = ""  # why there is no face

    def to_json(self) -> str:
        if self.attributes is None or self.arcface is None or self.box is None:
            return json.dumps({"identity": self.identity, "face": None, "reason": self.reason})
        return json.dumps({"identity": self.identity, "face": {
            "box": list(self.box), "arcface": _encode_vector(self.arcface), **self.attributes.to_json()}})

    @classmethod
    def from_json(cls, record: dict) -> "SourceFace":
        face = record.get("face")
        if face is None:
            return cls(record["identity"], None, None, None, record.get("reason", ""))
        return cls(record["identity"], tuple(face["box"]), _decode_vector(face["arcface"]),
                   FaceAttributes.from_json(face))


@dataclass(frozen=True)
class BuildSummary:
    identities: int
    without_face: int
    targets: int
    kept: int
    exhausted: int  # (identity, target) pairs that used every attempt without a keeper
    attempts: int  # renders made in this run (0 when everything was already decided)
    pools: Path



def ground_truth_names(root: Path) -> list[str]:
    """The images under ``root/gt/`` (relative to ``root``); an error naming the folder when there are none."""
    gt_dir = Path(root) / GT_DIRNAME
    if not gt_dir.is_dir():
        raise TrainingDataError(f"{gt_dir}: not found (put one aligned photo per identity there)")
    names = [p.relative_to(root).as_posix() for p in list_images(gt_dir)]
    if not names:
        raise TrainingDataError(f"{gt_dir}: no images")
    return names

class ReferencePoolBuilder:
    def __init__(self, root: Path, analyzer: FaceAnalyzer, extractor: AttributeExtractor, synthesiser: Synthesiser,
                 config: BuildConfig = BuildConfig()) -> None:
        self.layout = DataLayout(Path(root))
        self.analyzer, self.extractor, self.synthesiser, self.config = analyzer, extractor, synthesiser, config
        work = self.layout.root / WORK_DIRNAME
        self.attributes_log = JsonLines(work / ATTRIBUTES_FILENAME)
        self.decisions_log = JsonLines(work / DECISIONS_FILENAME)
        self.clusters_path = work / CLUSTERS_FILENAME

    # --- the whole build ------------------------------------------------------------------------------

    def build(self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> BuildSummary:
        progress = progress or ignore_progress
        cancel = cancel or CancelToken.never()
        sources = self.analyse_sources(progress, cancel)
        faces = [s for s in sources if s.attributes is not None]
        targets = self.targets(faces)
        attempts = self.render_all(faces, targets, progress, cancel)
        decided = self._decided()
        kept = sum(1 for d in decided.values() if d.outcome == KEPT)
        self.write_pools(sources, targets)
        return BuildSummary(identities=len(sources), without_face=len(sources) - len(faces), targets=len(targets),
                            kept=kept, exhausted=len(decided) - kept, attempts=attempts, pools=self.layout.pools)

    # --- 1. analysis ------------------------------------------------------------------------------------

    def identities(self) -> list[str]:
        return ground_truth_names(self.layout.root)

    def analyse_sources(self, progress: ProgressCallback, cancel: CancelToken) -> list[SourceFace]:
        done = {r["identity"]: SourceFace.from_json(r) for r in self.attributes_log.read()}
        names = self.identities()
        clock = EtaClock(sum(1 for n in names if n not in done))
        fresh = 0
        for index, name in enumerate(names):
            if name in done:
                continue
            cancel.raise_if_cancelled()
            progress(TaskProgress("analysing", index, len(names), item=name, eta_seconds=clock.eta(fresh)))
            done[name] = self.analyse(name)
            self.attributes_log.append(done[name].to_json())
            fresh += 1
        progress(TaskProgress("analysing", len(names), len(names)))
        return [done[name] for name in names]

    def analyse(self, identity: str) -> SourceFace:
        try:
            rgb = read_rgb8(self.layout.image(identity))
        except FaceMeError as error:
            return SourceFace(identity, None, None, None, reason=str(error))
        face = _largest(self.analyzer.analyze_rgb(rgb).faces)
        if face is None:
            return SourceFace(identity, None, None, None, reason="no face large enough was found")
        return SourceFace(identity, tuple(float(v) for v in face.box), face.embedding.vector,
                          self.extractor(rgb, face.detection))

    # --- 2. clusters ------------------------------------------------------------------------------------

    def targets(self, faces: list[SourceFace]) -> list[ClusterTarget]:
        """The saved targets, else clusters of ``faces`` (saved, so later runs render the same targets)."""
        if self.clusters_path.is_file():
            data = json.loads(self.clusters_path.read_text(encoding="utf-8"))
            return [ClusterTarget.from_json(t) for t in data["targets"]]
        needed = self.config.pose_clusters * self.config.expression_clusters
        if len(faces) < needed:
            raise TrainingDataError(f"{len(faces)} ground truths with a face: clustering into "
                                    f"{self.config.pose_clusters} x {self.config.expression_clusters} targets "
                                    f"needs at least {needed}")
        targets = cluster_targets(np.stack([f.attributes.pose for f in faces]),
                                  np.stack([f.attributes.expression for f in faces]),
                                  pose_clusters=self.config.pose_clusters,
                                  expression_clusters=self.config.expression_clusters, seed=self.config.seed)
        exemplars = {t.name: faces[t.exemplar].identity for t in targets}
        payload = {"attribute_extractor": getattr(self.extractor, "name", type(self.extractor).__name__),
                   "sources": len(faces), "exemplars": exemplars, "targets": [t.to_json() for t in targets]}
        self.clusters_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.clusters_path, json.dumps(payload, indent=1).encode())
        return targets

    # --- 3. renders -------------------------------------------------------------------------------------

    def render_all(self, faces: list[SourceFace], targets: list[ClusterTarget], progress: ProgressCallback,
                   cancel: CancelToken) -> int:
        decided = self._decided()
        tried = self._attempts_made()
        pairs = [(f, t) for f in faces for t in targets if (f.identity, t.name) not in decided]
        exemplars = self._exemplars(targets)
        clock = EtaClock(len(pairs))
        attempts = 0
        for done, (face, target) in enumerate(pairs):
            cancel.raise_if_cancelled()
            progress(TaskProgress("rendering", done, len(pairs), item=f"{face.identity} {target.name}",
                                  eta_seconds=clock.eta(done)))
            source = read_rgb8(self.layout.image(face.identity))
            for attempt in range(tried.get((face.identity, target.name), 0) + 1, self.config.max_attempts + 1):
                cancel.raise_if_cancelled()
                decision = self.attempt(face, source, target, exemplars.get(target.name), attempt, targets)
                self.decisions_log.append(decision.to_json())
                attempts += 1
                if decision.outcome == KEPT:
                    break
        progress(TaskProgress("rendering", len(pairs), len(pairs)))
        return attempts

    def attempt(self, face: SourceFace, source: np.ndarray, target: ClusterTarget, exemplar: np.ndarray | None,
                attempt: int, targets: list[ClusterTarget]) -> RenderDecision:
        seed = render_seed(self.config.seed, face.identity, target.name, attempt)
        common = dict(identity=face.identity, target=target.name, attempt=attempt, seed=seed,
                      synthesiser=getattr(self.synthesiser, "name", type(self.synthesiser).__name__),
                      threshold=self.config.threshold)
        request = RenderRequest(identity=face.identity, arcface=face.arcface, source=source, target=target,
                                exemplar=exemplar, attempt=attempt, seed=seed)
        try:
            render = self.synthesiser(request)
        except FaceMeError as error:
            return RenderDecision(outcome=FAILED, similarity=None, image=None, reason=str(error), **common)
        rendered = _largest(self.analyzer.analyze_rgb(render).faces)
        if rendered is None:
            return RenderDecision(outcome=FAILED, similarity=None, image=None, reason="no face found in the render",
                                  **common)
        similarity = rendered.embedding.similarity(Embedding(rendered.embedding.model_id, face.arcface))
        measured = self._measure(render, rendered.detection, targets)
        if not similarity > self.config.threshold:
            return RenderDecision(outcome=REJECTED, similarity=similarity, image=None,
                                  reason=f"similarity {similarity:.3f} <= threshold {self.config.threshold:g}",
                                  **measured, **common)
        image = render_path(face.identity, target.name)
        write_png(self.layout.image(image), render)  # the image first, then its line: a kept line has its file
        return RenderDecision(outcome=KEPT, similarity=similarity, image=image, **measured, **common)

    def _measure(self, render: np.ndarray, detection: Detection, targets: list[ClusterTarget]) -> dict:
        if not self.config.measure_renders:
            return {}
        attributes = self.extractor(render, detection)
        return {"render_pose": [round(float(v), 3) for v in attributes.pose],
                "render_cluster": nearest_target(attributes, targets).name}

    def _exemplars(self, targets: list[ClusterTarget]) -> dict[str, np.ndarray]:
        if not self.clusters_path.is_file():
            return {}
        names = json.loads(self.clusters_path.read_text(encoding="utf-8")).get("exemplars", {})
        loaded = {}
        for target in targets:
            path = self.layout.image(names[target.name]) if target.name in names else None
            if path is not None and path.is_file():
                loaded[target.name] = read_rgb8(path)
        return loaded

    def _decisions(self) -> list[RenderDecision]:
        """Every logged attempt, less "kept" lines whose render file has gone (that attempt is redone:
        same seed, same render)."""
        decisions = [RenderDecision(**record) for record in self.decisions_log.read()]
        return [d for d in decisions
                if not (d.outcome == KEPT and not (d.image and self.layout.image(d.image).is_file()))]

    def _attempts_made(self) -> dict[tuple[str, str], int]:
        made: dict[tuple[str, str], int] = {}
        for d in self._decisions():
            made[(d.identity, d.target)] = max(made.get((d.identity, d.target), 0), d.attempt)
        return made

    def _decided(self) -> dict[tuple[str, str], RenderDecision]:
        """Pairs with a final decision: a kept render, or the last allowed attempt."""
        final: dict[tuple[str, str], RenderDecision] = {}
        for d in self._decisions():
            key = (d.identity, d.target)
            if d.outcome == KEPT or (d.attempt >= self.config.max_attempts and key not in final):
                final[key] = d
        return final

    # --- 4. the pool file -------------------------------------------------------------------------------

    def write_pools(self, sources: list[SourceFace], targets: list[ClusterTarget]) -> None:
        """Every ground truth, with its kept renders in target order (possibly none: its pool is then its
        own embedding, which ``prepare`` always adds)."""
        kept = {key: d.image for key, d in self._decided().items() if d.outcome == KEPT}
        entries = [PoolEntry(s.identity, tuple(kept[(s.identity, t.name)] for t in targets
                                               if (s.identity, t.name) in kept)) for s in sources]
        write_lines(self.layout.pools, entries)


def render_seed(base: int, identity: str, target: str, attempt: int) -> int:
    """A seed per (run seed, identity, target, attempt): stable across resumes and machines."""
    digest = hashlib.sha256(f"{base}:{identity}:{target}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def render_path(identity: str, target: str) -> str:
    """``gt/a/00001.png`` -> ``refs/a/00001/p0e1.png`` (relative to the data root)."""
    stem = identity.split("/", 1)[1].rsplit(".", 1)[0]
    return f"{REFS_DIRNAME}/{stem}/{target}.png"


def nearest_target(attributes: FaceAttributes, targets: list[ClusterTarget]) -> ClusterTarget:
    """The pose cluster of the target whose pose is nearest, then the nearest expression among that pose's targets."""
    pose_cluster = min(targets, key=lambda t: float(np.linalg.norm(attributes.pose - t.pose))).pose_cluster
    same_pose = [t for t in targets if t.pose_cluster == pose_cluster]
    return min(same_pose, key=lambda t: float(np.linalg.norm(attributes.expression - t.expression)))


def _largest(faces: list[Face]) -> Face | None:
    """Training preparation takes the largest face of an image (inference takes the best-scoring one)."""
    return max(faces, key=lambda f: box_area(f.box)) if faces else None


def _encode_vector(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def _decode_vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float32)

