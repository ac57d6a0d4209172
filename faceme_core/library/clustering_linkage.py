"""Graph steps of grouping, on the neighbour edges of ``clustering_graph``: average-linkage groups,
attaching leftover faces to their nearest labelled neighbour, and sub-graphs.

Labels are int64 arrays: a group number >= 0, or -1 for a face in no group.
"""

from __future__ import annotations

from typing import Collection

import numpy as np

from faceme_core.library.clustering_graph import Edges

# Connected components larger than this are first split by raising the threshold, because average
# linkage needs their full similarity matrix (size^2 floats).
MAX_LINKAGE_GROUP = 3000
_SPLIT_STEP = 0.005


def average_linkage_groups(unit: np.ndarray, edges: Edges, threshold: float) -> list[np.ndarray]:
    """Average-linkage clusters at ``threshold`` (merge while the mean similarity between two groups
    is >= threshold), singletons included, as arrays of row indices.

    Faces in different connected components of the neighbour graph are below the threshold, and so
    is the mean over any two groups spanning them: clustering each component alone gives exactly
    the global result (except components above ``MAX_LINKAGE_GROUP``, see ``_split_large``).
    """
    component = _components(len(unit), edges.rows, edges.cols)
    order = np.argsort(component, kind="stable")
    bounds = np.flatnonzero(np.diff(component[order])) + 1
    groups: list[np.ndarray] = []
    for members in np.split(order, bounds):
        if len(members) <= 2:  # a pair in one component is joined by an edge >= threshold
            groups.append(members)
        elif len(members) > MAX_LINKAGE_GROUP:
            groups += _split_large(unit, members, edges, threshold)
        else:
            groups += _linkage(unit, members, threshold)
    return groups


def labels_from_groups(n: int, groups: list[np.ndarray], first_label: int = 0) -> np.ndarray:
    """Labels first_label.., largest group first (ties: smallest row first), -1 elsewhere."""
    labels = np.full(n, -1, dtype=np.int64)
    for label, group in enumerate(sorted(groups, key=lambda g: (-len(g), int(g.min()))), start=first_label):
        labels[group] = label
    return labels


def attach_to_nearest(
    labels: np.ndarray, edges: Edges, forbidden: Collection[tuple[int, int]] = ()
) -> np.ndarray:
    """Every unlabelled face takes the label of its most similar labelled neighbour (one round: a
    face attached here does not pull others in). ``forbidden``: (row, label) pairs never to choose,
    e.g. the labels of people a face was rejected from."""
    a = np.concatenate([edges.rows, edges.cols])
    b = np.concatenate([edges.cols, edges.rows])
    sims = np.concatenate([edges.sims, edges.sims])
    keep = (labels[a] < 0) & (labels[b] >= 0)
    a, b, sims = a[keep], b[keep], sims[keep]
    target = labels[b]
    if len(forbidden):
        width = int(labels.max()) + 1
        keys = np.array([row * width + label for row, label in forbidden if 0 <= label < width], dtype=np.int64)
        allowed = ~np.isin(a * width + target, keys)
        a, target, sims = a[allowed], target[allowed], sims[allowed]
    out = labels.copy()
    if len(a):
        order = np.lexsort((-sims, a))  # by face, most similar neighbour first
        faces, first = np.unique(a[order], return_index=True)
        out[faces] = target[order][first]
    return out


def subgraph(edges: Edges, rows: np.ndarray, n: int) -> Edges:
    """The edges between ``rows`` (indices into n faces), renumbered 0..len(rows)-1."""
    local = np.full(n, -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    keep = (local[edges.rows] >= 0) & (local[edges.cols] >= 0)
    return Edges(local[edges.rows[keep]], local[edges.cols[keep]], edges.sims[keep])


def _components(n: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _linkage(unit: np.ndarray, members: np.ndarray, threshold: float) -> list[np.ndarray]:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    sims = (unit[members] @ unit[members].T).astype(np.float64)
    distance = np.clip(1.0 - sims, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    # Merge while the mean similarity is >= threshold (tiny slack: float rounding at the boundary).
    flat = fcluster(tree, t=1.0 - threshold + 1e-7, criterion="distance")
    return [members[flat == k] for k in np.unique(flat)]


def _split_large(unit: np.ndarray, members: np.ndarray, edges: Edges, threshold: float) -> list[np.ndarray]:
    """A component too large for a full similarity matrix: raise the threshold on its own edges
    until the pieces fit, then cluster each piece at the real threshold. An approximation: only
    giant chained components (rare in real libraries) take this path."""
    local_edges = subgraph(edges, members, len(unit))
    level = threshold + _SPLIT_STEP
    while True:
        strong = local_edges.sims >= level
        piece = _components(len(members), local_edges.rows[strong], local_edges.cols[strong])
        sizes = np.bincount(piece)
        if sizes.max() <= MAX_LINKAGE_GROUP or level >= 1.0:
            break
        level += _SPLIT_STEP
    groups: list[np.ndarray] = []
    for k in range(len(sizes)):
        part = members[piece == k]
        fits = 2 < len(part) <= MAX_LINKAGE_GROUP
        groups += _linkage(unit, part, threshold) if fits else [part]
    return groups
