"""Grouping faces into people: pure functions of embedding arrays, no database.

The album library (``faceme_core.library.grouping``) calls:

- ``params_for_model(model_id)``: the thresholds of one embedding model (``ClusteringParams``).
- ``assign_to_people(vectors, people, params, rejected)``: the incremental step. Each new face
  joins the person holding its most similar face (nearest member) if that similarity reaches
  ``join_similarity``, never a person it was rejected from.
- ``group_unassigned(vectors, params)``: faces no person took form new people. Average-linkage
  groups at ``join_similarity`` with at least ``min_faces`` faces become people; each leftover face
  then joins the group holding its nearest face within the threshold (the incremental rule), or
  stays unassigned (-1).
- ``recluster(vectors, locked, rejected, params)``: everything again from scratch, keeping every
  user decision (see its docstring for the exact guarantees), and ``keep_person_ids`` to carry
  person ids (names) over to the new groups.
- ``bcubed(pred, truth)``: the evaluation measure.

Cannot-link: each function takes an optional ``photos`` (the photo id of each face). A person
appears once in a photo, so automatic grouping never puts two faces of one photo into one person
(new groups, joins and reclusters); user decisions (locked rows) still win. Measured on the test
photos: it keeps apart the two little sisters of an old print scan, whom dlib scores 0.97.

Why two linkages. Joining an existing person uses the nearest member: a person legitimately spans
several looks (child and adult, with and without glasses, and every merge the user made), and a
centroid or mean would sit between those looks and match none. Forming a new person has no user
evidence behind it, so it needs a coherent group: average linkage (mean similarity between two
groups >= threshold) refuses the chains that single linkage builds through look-alikes. Measured
(BCubed F, dlib threshold 0.94): on the test photos (25 faces, 16 people) average linkage 0.94,
DBSCAN-style single linkage 0.80; on 3,000 synthetic faces of 100 people, average linkage plus the
leftover join 0.997, DBSCAN 0.13 (chains merge almost everyone).

All similarities are cosine similarities of L2-normalised vectors (inputs are normalised here too).
Embeddings of different models are never compared: every array must come from ``params.model_id``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping, Set

import numpy as np

from faceme_core.faces.embedding_models import ARCFACE_MODEL_ID, DLIB_MODEL_ID, embedding_model
from faceme_core.library.clustering_eval import BCubedScore, bcubed, synthetic_embeddings
from faceme_core.library.clustering_graph import Edges, similar_pairs
from faceme_core.library.clustering_linkage import (
    attach_to_nearest,
    average_linkage_groups,
    labels_from_groups,
    split_same_photo,
    subgraph,
    without_same_photo,
)

__all__ = [
    "BCubedScore",
    "ClusteringParams",
    "assign_to_people",
    "bcubed",
    "group_unassigned",
    "keep_person_ids",
    "params_for_model",
    "recluster",
    "synthetic_embeddings",
]


# Rows of new faces per similarity block in assign_to_people (block = rows x all member faces).
_ASSIGN_BLOCK_ELEMENTS = 16_000_000


@dataclass(frozen=True)
class ClusteringParams:
    """Thresholds for one embedding model.

    join_similarity: cosine similarity at or above which a face joins a person (nearest member)
        and two groups may form one new person (average linkage).
    min_faces: the density rule: a new person needs at least this many mutually similar faces
        (like Immich's "minimum recognized faces"); smaller groups stay unassigned.
    embedding_dim: the model's vector length, checked on every input (None: not checked).
    reliable_quality: faces whose quality score (``faces.quality``: size, sharpness, noise, pose)
        is below this are "poor": their embeddings are noisy, and a wrong group is worse than an
        unassigned face (its faces get offered as references, and a restore would then give a
        person someone else's identity). Poor faces never form or seed a new person; they join
        a person only at ``poor_join_similarity``, else stay unassigned (the review queue
        suggests their nearest person).
    poor_join_similarity: the closer match a poor face needs; a pair of faces needs the
        stricter threshold of the two.
    """

    model_id: str
    join_similarity: float
    min_faces: int = 2
    embedding_dim: int | None = None
    reliable_quality: float = 0.0
    poor_join_similarity: float | None = None

    def __post_init__(self) -> None:
        if not -1.0 <= self.join_similarity <= 1.0:
            raise ValueError(f"join_similarity: expected a cosine similarity in [-1, 1], got {self.join_similarity}")
        if self.min_faces < 1:
            raise ValueError(f"min_faces: expected at least 1, got {self.min_faces}")
        if self.poor_join_similarity is not None and not self.join_similarity <= self.poor_join_similarity <= 1.0:
            raise ValueError(
                f"poor_join_similarity: expected a cosine similarity in [join_similarity, 1], got "
                f"{self.poor_join_similarity}"
            )

    def face_thresholds(self, quality: np.ndarray | None, n: int) -> np.ndarray:
        """The similarity each of ``n`` faces needs to join anyone: ``join_similarity``, or
        ``poor_join_similarity`` for faces below ``reliable_quality`` (no ``quality``: all reliable)."""
        thresholds = np.full(n, self.join_similarity, dtype=np.float32)
        if quality is None or self.poor_join_similarity is None:
            return thresholds
        quality = np.asarray(quality, dtype=np.float32)
        if quality.shape != (n,):
            raise ValueError(f"quality: expected one score per face ({n}), got shape {quality.shape}")
        thresholds[quality < self.reliable_quality] = self.poor_join_similarity
        return thresholds


def params_for_model(model_id: str) -> ClusteringParams:
    """The thresholds of an embedding model (``faces.embedding_models``, where they are explained);
    ValueError for an unknown one."""
    model = embedding_model(model_id)
    return ClusteringParams(
        model_id=model.id, join_similarity=model.join_similarity, min_faces=2, embedding_dim=model.dimension,
        reliable_quality=model.reliable_quality, poor_join_similarity=model.poor_join_similarity,
    )


def assign_to_people(
    vectors: np.ndarray,
    people: Mapping[int, np.ndarray],
    params: ClusteringParams,
    rejected: Set[tuple[int, int]] = frozenset(),
    photos: np.ndarray | None = None,
    quality: np.ndarray | None = None,
) -> list[int | None]:
    """For each row of ``vectors`` (n, d): the person id it joins, or None.

    ``people`` maps person id -> that person's face vectors (m_i, d). A face joins the person with
    its most similar member when that similarity is >= ``params.join_similarity``; ``rejected``
    holds (row index, person id) pairs that must never be chosen (the next best person may be).
    Exact (every member is compared) and fast: one matrix product per block of rows; 1,000 faces
    against 100,000 members take 0.2-0.6 s on the 2-core test machine.

    ``photos`` (n,): two rows of one photo never join the same person; the more similar one does
    and the other tries its next best person. (That a person already holds a face of a row's photo
    is the caller's to say, as a rejection.)

    ``quality`` (n,): each face's quality score; poor faces need ``params.poor_join_similarity``.
    """
    thresholds = params.face_thresholds(quality, len(np.asarray(vectors)))
    choices, sims = _nearest_people(vectors, people, params, rejected, thresholds)
    if photos is None:
        return choices
    photos = _check_photos(photos, len(choices))
    refused: dict[int, set[int]] = defaultdict(set)
    for row, pid in rejected:
        refused[int(row)].add(int(pid))
    while True:  # ends: each round refuses each loser one more person
        losers = _same_photo_losers(choices, sims, photos)
        if not losers:
            return choices
        for row in losers:
            refused[row].add(choices[row])
        local = {(k, pid) for k, row in enumerate(losers) for pid in refused[row]}
        again, again_sims = _nearest_people(np.asarray(vectors)[losers], people, params, local, thresholds[losers])
        for k, row in enumerate(losers):
            choices[row], sims[row] = again[k], again_sims[k]


def _same_photo_losers(choices: list[int | None], sims: list[float], photos: np.ndarray) -> list[int]:
    """Rows that chose the same person as a more similar row of their photo."""
    best: dict[tuple[int, int], int] = {}
    losers = []
    for row in sorted(range(len(choices)), key=lambda r: -sims[r]):
        if choices[row] is None:
            continue
        key = (int(photos[row]), choices[row])
        if key in best:
            losers.append(row)
        else:
            best[key] = row
    return sorted(losers)


def _nearest_people(
    vectors: np.ndarray,
    people: Mapping[int, np.ndarray],
    params: ClusteringParams,
    rejected: Set[tuple[int, int]],
    thresholds: np.ndarray,
) -> tuple[list[int | None], list[float]]:
    """``assign_to_people`` without the photo rule: each row's person and that similarity."""
    x = _unit_rows(vectors, params, "vectors")
    ids = [int(pid) for pid, members in people.items() if len(members)]
    if len(x) == 0 or not ids:
        return [None] * len(x), [-np.inf] * len(x)
    blocks = [_unit_rows(np.asarray(people[pid]), params, f"people[{pid}]") for pid in ids]
    members = np.concatenate(blocks)
    owner = np.repeat(np.arange(len(ids)), [len(b) for b in blocks])
    starts = np.concatenate([[0], np.cumsum([len(b) for b in blocks])])
    column_of = {pid: k for k, pid in enumerate(ids)}
    rejected_by_row = _rejections_by_row(rejected, len(x), "rejected")

    result: list[int | None] = [None] * len(x)
    result_sims: list[float] = [-np.inf] * len(x)
    step = max(1, _ASSIGN_BLOCK_ELEMENTS // len(members))
    for start in range(0, len(x), step):
        sims = x[start : start + step] @ members.T
        for row in range(start, min(len(x), start + step)):
            for pid in rejected_by_row.get(row, ()):
                k = column_of.get(pid)
                if k is not None:
                    sims[row - start, starts[k] : starts[k + 1]] = -np.inf
        best = sims.argmax(axis=1)
        best_sim = sims[np.arange(len(best)), best]
        for offset in np.nonzero(best_sim >= thresholds[start : start + len(best_sim)])[0]:
            result[start + offset] = ids[owner[best[offset]]]
            result_sims[start + offset] = float(best_sim[offset])
    return result, result_sims


def group_unassigned(
    vectors: np.ndarray,
    params: ClusteringParams,
    method: str = "auto",
    photos: np.ndarray | None = None,
    quality: np.ndarray | None = None,
) -> np.ndarray:
    """Labels (n,) int64 for faces that belong to no person yet: 0..k-1 for new people (largest
    first), -1 for faces that stay unassigned.

    1. Average-linkage groups at ``join_similarity`` (two groups merge while their mean similarity
       is >= the threshold); groups of at least ``min_faces`` faces become people.
    2. Every other face joins the new person holding its most similar face if that similarity is
       >= ``join_similarity`` (what ``assign_to_people`` would do once the groups exist).

    ``method`` chooses the neighbour search (``clustering_graph.similar_pairs``): "auto" is exact
    below 20,000 faces and approximate (probed cells) above; 100,000 faces take 4-11 s on the
    2-core test machine (benchmarks/bench_clustering.py).

    ``photos`` (n,): faces of one photo never share a label (see the module docstring).
    ``quality`` (n,): poor faces (``ClusteringParams.reliable_quality``) take no part in step 1 and
    attach in step 2 only at ``poor_join_similarity``.
    """
    x = _unit_rows(vectors, params, "vectors")
    photos = _check_photos(photos, len(x))
    thresholds = params.face_thresholds(quality, len(x))
    edges = _close_enough(without_same_photo(similar_pairs(x, params.join_similarity, method), photos), thresholds)
    reliable = np.flatnonzero(thresholds <= params.join_similarity)
    groups = [
        reliable[group]
        for group in average_linkage_groups(
            x[reliable], subgraph(edges, reliable, len(x)), params.join_similarity,
            None if photos is None else photos[reliable],
        )
    ]
    labels = labels_from_groups(len(x), [g for g in groups if len(g) >= params.min_faces])
    labels = attach_to_nearest(labels, edges, photos=photos)
    return labels if photos is None else split_same_photo(labels, x, photos)


def recluster(
    vectors: np.ndarray,
    locked: Mapping[int, int],
    rejected: Set[tuple[int, int]],
    params: ClusteringParams,
    method: str = "auto",
    photos: np.ndarray | None = None,
    quality: np.ndarray | None = None,
) -> np.ndarray:
    """Group every face again; labels (n,) int64, -1 for unassigned faces.

    ``locked`` maps row -> person id for faces the user assigned; ``rejected`` holds
    (row, person id) pairs the user refused. Guarantees:

    - all locked rows of one person share one label, and no other person's locked rows share it
      (a merge the user made is simply locked rows of one person id); labels 0..P-1 are the locked
      people in increasing person id;
    - a row never gets the label of a locked person it was rejected from;
    - with ``photos``, no label holds two faces of one photo unless the user locked them there;
    - every other face may move.

    Steps: (1) locked people are fixed groups; (2) each free face notes the locked person holding
    its nearest face within the threshold; (3) free faces are grouped by average linkage; a group
    whose faces mostly chose one locked person joins it (minus faces rejected from it), other
    groups of ``min_faces`` or more become new labels, faces of smaller groups keep their own
    choice; (4) faces still alone join the label of their nearest labelled face within the
    threshold, never a rejected person's.

    ``quality``: poor free faces (``ClusteringParams.reliable_quality``) are not grouped in step 3;
    they join a label only through a neighbour at ``poor_join_similarity``.

    Labels are group numbers, not person ids: ``keep_person_ids`` tells which existing person each
    label continues, so names survive a recluster.
    """
    x = _unit_rows(vectors, params, "vectors")
    n = len(x)
    _check_rows(locked, n, "locked")
    rejected_by_row = _rejections_by_row(rejected, n, "rejected")
    for row, pid in locked.items():
        if pid in rejected_by_row.get(row, ()):
            raise ValueError(f"locked/rejected: row {row} is both assigned to and rejected from person {pid}")
    photos = _check_photos(photos, n)
    thresholds = params.face_thresholds(quality, n)
    edges = _close_enough(without_same_photo(similar_pairs(x, params.join_similarity, method), photos), thresholds)

    # 1. Locked people are fixed groups, one label each.
    label_of_person = {pid: k for k, pid in enumerate(sorted({int(pid) for pid in locked.values()}))}
    labels = np.full(n, -1, dtype=np.int64)
    for row, pid in locked.items():
        labels[row] = label_of_person[int(pid)]
    forbidden = {
        (row, label_of_person[pid]) for row, pids in rejected_by_row.items() for pid in pids if pid in label_of_person
    }
    forbidden |= _same_photo_labels(labels, photos)
    free = np.flatnonzero(labels < 0)
    if len(free) == 0:
        return labels

    # 2. Each free face's choice: the locked person holding its nearest face.
    choice = attach_to_nearest(labels, edges, forbidden)

    # 3. Free reliable faces grouped among themselves; poor ones keep their own choice.
    poor = free[thresholds[free] > params.join_similarity]
    labels[poor] = choice[poor]
    free = free[thresholds[free] <= params.join_similarity]
    groups = average_linkage_groups(
        x[free], subgraph(edges, free, n), params.join_similarity, None if photos is None else photos[free]
    )
    next_label = len(label_of_person)
    for group in sorted(groups, key=lambda g: (-len(g), int(g.min()))):
        rows = free[group]
        chosen = choice[rows][choice[rows] >= 0]
        winner = np.bincount(chosen).argmax() if len(chosen) else -1
        if winner >= 0 and 2 * np.count_nonzero(chosen == winner) > len(rows):
            labels[[row for row in rows if (int(row), int(winner)) not in forbidden]] = winner
        elif len(rows) >= params.min_faces:
            labels[rows] = next_label
            next_label += 1
        else:
            labels[rows] = choice[rows]

    # 4. Faces still alone join their nearest labelled face (never a rejected person).
    labels = attach_to_nearest(labels, edges, forbidden, photos)
    return labels if photos is None else split_same_photo(labels, x, photos, keep=locked.keys())


def keep_person_ids(
    labels: np.ndarray,
    locked: Mapping[int, int],
    current: Mapping[int, int],
    rejected: Set[tuple[int, int]] = frozenset(),
) -> dict[int, int]:
    """Which existing person id each label of ``recluster`` keeps; labels left out are new people.

    A label holding locked rows is that person. Every other label takes the person most of its
    faces had before (``current``: row -> person id), largest overlaps first, each person at most
    once, never a person one of its faces was rejected from.
    """
    person_of: dict[int, int] = {}
    for row, pid in locked.items():
        person_of.setdefault(int(labels[row]), int(pid))
    claimed = set(person_of.values())
    rejected_people: dict[int, set[int]] = defaultdict(set)
    for row, pid in rejected:
        rejected_people[int(row)].add(int(pid))
    overlap: dict[tuple[int, int], int] = defaultdict(int)
    for row, pid in current.items():
        label = int(labels[row])
        if label >= 0 and label not in person_of:
            overlap[(label, int(pid))] += 1
    for (label, pid), _count in sorted(overlap.items(), key=lambda item: (-item[1], item[0][1], item[0][0])):
        if label in person_of or pid in claimed:
            continue
        if any(pid in rejected_people[row] for row in np.nonzero(labels == label)[0]):
            continue
        person_of[label] = pid
        claimed.add(pid)
    return person_of


# --- helpers -------------------------------------------------------------------------------------


def _close_enough(edges: Edges, thresholds: np.ndarray) -> Edges:
    """The edges whose similarity meets the stricter threshold of their two faces."""
    keep = edges.sims >= np.maximum(thresholds[edges.rows], thresholds[edges.cols])
    return Edges(edges.rows[keep], edges.cols[keep], edges.sims[keep])


def _unit_rows(vectors: np.ndarray, params: ClusteringParams, name: str) -> np.ndarray:
    """float32 (n, d) with unit rows; ValueError naming the argument for anything else."""
    array = np.asarray(vectors)
    if array.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (faces, dims), got shape {array.shape}")
    if params.embedding_dim is not None and array.shape[1] != params.embedding_dim and len(array):
        raise ValueError(
            f"{name}: {params.model_id} embeddings have {params.embedding_dim} dims, got {array.shape[1]}"
        )
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if (norms < 1e-6).any():
        raise ValueError(f"{name}: row {int(np.argmin(norms))} is a zero vector")
    return array / norms


def _check_photos(photos: np.ndarray | None, n: int) -> np.ndarray | None:
    if photos is None:
        return None
    photos = np.asarray(photos)
    if photos.shape != (n,):
        raise ValueError(f"photos: expected one photo id per face ({n}), got shape {photos.shape}")
    return photos


def _same_photo_labels(labels: np.ndarray, photos: np.ndarray | None) -> set[tuple[int, int]]:
    """(row, label) for every unlabelled row and each label already holding a face of its photo."""
    if photos is None:
        return set()
    by_photo: dict[int, set[int]] = defaultdict(set)
    for row in np.flatnonzero(labels >= 0):
        by_photo[int(photos[row])].add(int(labels[row]))
    return {
        (int(row), label) for row in np.flatnonzero(labels < 0) for label in by_photo.get(int(photos[row]), ())
    }


def _check_rows(mapping: Mapping[int, int], n: int, name: str) -> None:
    bad = [row for row in mapping if not 0 <= row < n]
    if bad:
        raise ValueError(f"{name}: row {bad[0]} is out of range for {n} faces")


def _rejections_by_row(rejected: Set[tuple[int, int]], n: int, name: str) -> dict[int, set[int]]:
    by_row: dict[int, set[int]] = defaultdict(set)
    for row, pid in rejected:
        if not 0 <= row < n:
            raise ValueError(f"{name}: row {row} is out of range for {n} faces")
        by_row[int(row)].add(int(pid))
    return by_row
