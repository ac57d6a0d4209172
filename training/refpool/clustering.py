"""The paper's two-level clustering: k-means on pose (3 clusters), then on expression inside each pose
cluster (3), giving 9 pose/expression targets; each identity is rendered once per target.

A small numpy k-means (k-means++ seeding, Lloyd iterations, several restarts, fixed seed) so the
clusters are reproducible and no extra package is needed; features are standardised per dimension
first so degrees of yaw and landmark offsets weigh alike within each level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POSE_CLUSTERS = 3
EXPRESSION_CLUSTERS = 3


@dataclass(frozen=True)
class KMeansResult:
    centres: np.ndarray  # (k, D) in the input's units
    labels: np.ndarray  # (N,) int
    inertia: float  # sum of squared distances to the assigned centre (standardised units)


@dataclass(frozen=True)
class ClusterTarget:
    """One pose/expression cluster: what a render of any identity should look like."""

    name: str  # "p<pose>e<expression>", e.g. "p0e2": stable file and log names
    pose_cluster: int
    expression_cluster: int
    pose: np.ndarray  # (3,) pitch, yaw, roll centre in degrees
    expression: np.ndarray  # (D,) expression centre
    exemplar: int  # index of the input face nearest this centre (a real face showing the target)
    size: int  # faces in the cluster

    def to_json(self) -> dict:
        return {"name": self.name, "pose_cluster": self.pose_cluster, "expression_cluster": self.expression_cluster,
                "pose": [float(v) for v in self.pose], "expression": [float(v) for v in self.expression],
                "exemplar": self.exemplar, "size": self.size}

    @classmethod
    def from_json(cls, data: dict) -> "ClusterTarget":
        return cls(name=data["name"], pose_cluster=int(data["pose_cluster"]),
                   expression_cluster=int(data["expression_cluster"]),
                   pose=np.asarray(data["pose"], np.float64), expression=np.asarray(data["expression"], np.float64),
                   exemplar=int(data["exemplar"]), size=int(data["size"]))


def kmeans(points: np.ndarray, k: int, *, seed: int = 0, restarts: int = 8, max_iter: int = 100) -> KMeansResult:
    """Cluster (N, D) points into ``k`` groups; the best of ``restarts`` runs. Needs N >= k."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or len(points) < k or k < 1:
        raise ValueError(f"kmeans: need at least k={k} points of shape (N, D), got {points.shape}")
    mean, std = points.mean(axis=0), points.std(axis=0)
    std[std == 0] = 1.0
    scaled = (points - mean) / std
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(restarts):
        centres = _plus_plus(scaled, k, rng)
        for _ in range(max_iter):
            labels = _nearest(scaled, centres)
            moved = np.array([scaled[labels == j].mean(axis=0) if np.any(labels == j) else centres[j]
                              for j in range(k)])
            if np.allclose(moved, centres):
                break
            centres = moved
        labels = _nearest(scaled, centres)
        inertia = float(((scaled - centres[labels]) ** 2).sum())
        if best is None or inertia < best[0] - 1e-12:
            best = (inertia, centres, labels)
    inertia, centres, labels = best
    # Stable numbering whatever the restarts did: clusters ordered by their centre's first coordinate.
    order = np.lexsort(centres.T[::-1])
    relabel = np.empty(k, dtype=int)
    relabel[order] = np.arange(k)
    return KMeansResult(centres=centres[order] * std + mean, labels=relabel[labels], inertia=inertia)


def cluster_targets(poses: np.ndarray, expressions: np.ndarray, *, pose_clusters: int = POSE_CLUSTERS,
                    expression_clusters: int = EXPRESSION_CLUSTERS, seed: int = 0) -> list[ClusterTarget]:
    """Pose clusters, then expression clusters within each: ``pose_clusters * expression_clusters``
    targets (fewer when a pose cluster has fewer faces than ``expression_clusters``)."""
    poses = np.asarray(poses, np.float64)
    expressions = np.asarray(expressions, np.float64)
    if len(poses) != len(expressions):
        raise ValueError(f"poses ({len(poses)}) and expressions ({len(expressions)}) differ in length")
    pose_result = kmeans(poses, pose_clusters, seed=seed)
    targets = []
    for p in range(pose_clusters):
        members = np.flatnonzero(pose_result.labels == p)
        k = min(expression_clusters, len(members))
        expression_result = kmeans(expressions[members], k, seed=seed + 1 + p)
        for e in range(k):
            inside = members[expression_result.labels == e]
            centre_pose = poses[inside].mean(axis=0)
            centre_expression = expression_result.centres[e]
            distance = (np.linalg.norm((poses[inside] - centre_pose) / _scale(poses), axis=1)
                        + np.linalg.norm((expressions[inside] - centre_expression) / _scale(expressions), axis=1))
            targets.append(ClusterTarget(
                name=f"p{p}e{e}", pose_cluster=p, expression_cluster=e, pose=centre_pose,
                expression=centre_expression, exemplar=int(inside[np.argmin(distance)]), size=len(inside)))
    return targets


def _scale(values: np.ndarray) -> np.ndarray:
    std = values.std(axis=0)
    std[std == 0] = 1.0
    return std


def _plus_plus(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        total = d2.sum()
        index = rng.integers(len(points)) if total <= 0 else rng.choice(len(points), p=d2 / total)
        centres.append(points[index])
    return np.array(centres)


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
