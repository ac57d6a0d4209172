"""Neighbour graph of unit vectors: the pairs whose cosine similarity reaches a threshold.

This is the expensive geometric step of grouping; everything after it works on the edge list.

- ``brute``: exact. Blocked matrix products over the upper triangle, O(n^2 d): ~1 s for 10,000
  faces on the 2-core test machine, which covers a whole family library.
- ``probed``: approximate, for very large libraries. Faces are split into cells by a few spherical
  k-means steps (~100 faces per cell) and each face is compared with the members of its
  ``n_probe`` nearest cells; a pair is found when either face probes the other's cell. Exact pruning
  (triangle-inequality bounds on cells, even in a principal-component projection) was tried and
  prunes nothing here: face embeddings lie in a narrow cone where the join threshold (euclidean
  ~0.35 for dlib) is more than half the distance between two people (~0.57). Pair recall against
  ``brute`` is measured in ``benchmarks/bench_clustering.py`` and tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Below this many faces "auto" uses the exact search (1-2.5 s at the limit on 2 cores).
BRUTE_FORCE_BELOW = 20_000
# Cells each face is compared with in the probed search.
N_PROBE = 8
# Elements of one similarity block (float32): ~32 MB, small enough for a desktop in the background.
_BLOCK_ELEMENTS = 8_000_000
# Faces per cell in the probed search (fewer cells: cheaper cell assignment, dearer comparisons),
# cap on cells, and the k-means that places the centres (steps, sample rows per cell).
_FACES_PER_CELL = 100
_MAX_CELLS = 4096
_KMEANS_STEPS = 4
_KMEANS_SAMPLE_PER_CELL = 20


@dataclass(frozen=True)
class Edges:
    """Pairs (rows[k], cols[k]) with rows[k] < cols[k] and cosine similarity sims[k] >= threshold."""

    rows: np.ndarray  # int64
    cols: np.ndarray  # int64
    sims: np.ndarray  # float32

    def __len__(self) -> int:
        return len(self.rows)


def similar_pairs(unit: np.ndarray, threshold: float, method: str = "auto", n_probe: int = N_PROBE) -> Edges:
    """Pairs of rows of ``unit`` (n, d float32, L2-normalised) with similarity >= ``threshold``.

    ``method``: "brute" (exact), "probed" (approximate, ``n_probe`` cells per face) or "auto"
    (exact below ``BRUTE_FORCE_BELOW`` faces). Edges come back sorted by (row, col).
    """
    if method not in ("auto", "brute", "probed"):
        raise ValueError(f"method: expected 'auto', 'brute' or 'probed', got {method!r}")
    n = len(unit)
    if n < 2:
        return _edges([], [], [])
    if method == "brute" or (method == "auto" and n < BRUTE_FORCE_BELOW):
        edges = _brute_force(unit, threshold)
    else:
        edges = _probed(unit, threshold, n_probe)
    order = np.lexsort((edges.cols, edges.rows))
    return Edges(edges.rows[order], edges.cols[order], edges.sims[order])


def _edges(rows, cols, sims) -> Edges:
    def cat(parts, dtype):
        return np.concatenate(parts).astype(dtype, copy=False) if len(parts) else np.zeros(0, dtype)

    return Edges(cat(rows, np.int64), cat(cols, np.int64), cat(sims, np.float32))


def _brute_force(unit: np.ndarray, threshold: float) -> Edges:
    n = len(unit)
    rows, cols, sims = [], [], []
    step = max(1, _BLOCK_ELEMENTS // n)
    for start in range(0, n, step):
        stop = min(n, start + step)
        block = unit[start:stop] @ unit[start:].T  # columns start at `start`: upper triangle only
        square = block[:, : stop - start]
        square[np.tril(np.ones(square.shape, dtype=bool))] = -np.inf  # keep col > row
        i, j = np.nonzero(block >= threshold)
        rows.append(i + start)
        cols.append(j + start)
        sims.append(block[i, j])
    return _edges(rows, cols, sims)


def _probed(unit: np.ndarray, threshold: float, n_probe: int) -> Edges:
    n = len(unit)
    n_cells = int(np.clip(n // _FACES_PER_CELL, 1, _MAX_CELLS))
    n_probe = min(n_probe, n_cells)
    centres = _spherical_kmeans(unit, n_cells)
    probes = _nearest_centres(unit, centres, n_probe)  # (n, n_probe), own cell first
    cell = probes[:, 0]

    # Group the (face, probed cell) pairs by cell.
    q_rows = np.repeat(np.arange(n), n_probe)
    q_cells = probes.ravel()
    by_cell = np.argsort(q_cells, kind="stable")
    q_rows, q_cells = q_rows[by_cell], q_cells[by_cell]
    q_bounds = np.searchsorted(q_cells, np.arange(n_cells + 1))
    members_sorted = np.argsort(cell, kind="stable")
    m_bounds = np.searchsorted(cell[members_sorted], np.arange(n_cells + 1))

    rows, cols, sims_out = [], [], []
    for c in range(n_cells):
        members = members_sorted[m_bounds[c] : m_bounds[c + 1]]
        queries = q_rows[q_bounds[c] : q_bounds[c + 1]]
        if len(members) == 0 or len(queries) == 0:
            continue
        member_vectors = unit[members]
        step = max(1, _BLOCK_ELEMENTS // len(members))
        for start in range(0, len(queries), step):
            q = queries[start : start + step]
            block = unit[q] @ member_vectors.T
            i, j = np.nonzero((block >= threshold) & (q[:, None] != members[None, :]))
            rows.append(np.minimum(q[i], members[j]))
            cols.append(np.maximum(q[i], members[j]))
            sims_out.append(block[i, j])
    edges = _edges(rows, cols, sims_out)
    # A pair is usually found from both faces' sides: keep one copy.
    _, first = np.unique(edges.rows * n + edges.cols, return_index=True)
    return Edges(edges.rows[first], edges.cols[first], edges.sims[first])


def _spherical_kmeans(unit: np.ndarray, n_cells: int) -> np.ndarray:
    """Cell centres from a few Lloyd steps (cosine) on a sample; seeded, so results repeat."""
    rng = np.random.default_rng(0)
    sample = unit[rng.choice(len(unit), size=min(len(unit), _KMEANS_SAMPLE_PER_CELL * n_cells), replace=False)]
    centres = sample[:n_cells].copy()
    for _ in range(_KMEANS_STEPS):
        cell = _nearest_centres(sample, centres, 1)[:, 0]
        order = np.argsort(cell, kind="stable")
        used, starts = np.unique(cell[order], return_index=True)
        sums = np.add.reduceat(sample[order], starts, axis=0)
        centres[used] = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return centres


def _nearest_centres(unit: np.ndarray, centres: np.ndarray, k: int) -> np.ndarray:
    """Indices (n, k) of each row's k most similar centres, most similar first."""
    out = []
    step = max(1, _BLOCK_ELEMENTS // len(centres))
    for start in range(0, len(unit), step):
        sims = unit[start : start + step] @ centres.T
        if k == 1:
            out.append(sims.argmax(axis=1)[:, None])
            continue
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
        out.append(np.take_along_axis(top, order, axis=1))
    return np.concatenate(out)
