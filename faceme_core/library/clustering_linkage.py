"""Graph steps of grouping, on the neighbour edges of ``clustering_graph``: average-linkage groups,
attaching leftover faces to their nearest labelled neighbour, and sub-graphs.

Labels are int64 arrays: a group number >= 0, or -1 for a face in no group.

Cannot-link: ``photos`` (one photo id per row, optional) says which faces share a photo. Two faces
of one photo are two people (a person appears once in a photo), so such faces never end up in one
group: their edges are dropped (``without_same_photo``), linkage sees them at an infinite-like
distance, and attaching never puts a face in a group that already holds its photo.
"""

from __future__ import annotations

from typing import Collection

import numpy as np

from faceme_core.library.clustering_graph import Edges

# Connected components larger than this are first split by raising the threshold, because average
# linkage needs their full similarity matrix (size^2 floats).
MAX_LINKAGE_GROUP = 3000
_SPLIT_STEP = 0.005
# Linkage distance between two faces of one photo. Average linkage merges two groups only if their
# mean distance is <= 1 - threshold (< 2); one such pair among at most MAX_LINKAGE_GROUP^2 / 4 pairs
# still puts the mean far above that, so the constraint is exact, not a penalty.
CANNOT_LINK_DISTANCE = 1e9


def without_same_photo(edges: Edges, photos: np.ndarray | None) -> Edges:
    """The edges between faces of different photos (all of them when ``photos`` is None)."""
    if photos is None:
        return edges
    keep = photos[edges.rows] != photos[edges.cols]
    return Edges(edges.rows[keep], edges.cols[keep], edges.sims[keep])


def average_linkage_groups(
    unit: np.ndarray, edges: Edges, threshold: float, photos: np.ndarray | None = None
) -> list[np.ndarray]:
    """Average-linkage clusters at ``threshold`` (merge while the mean similarity between two groups
    is >= threshold), singletons included, as arrays of row indices.

    Faces in different connected components of the neighbour graph are below the threshold, and so
    is the mean over any two groups spanning them: clustering each component alone gives exactly
    the global result (except components above ``MAX_LINKAGE_GROUP``, see ``_split_large``).
    With ``photos``, give ``edges`` without same-photo pairs; no group then holds two faces of one
    photo (except a giant component ``_split_large`` cannot split: see ``clustering``'s final check).
    """
    component = _components(len(unit), edges.rows, edges.cols)
    order = np.argsort(component, kind="stable")
    bounds = np.flatnonzero(np.diff(component[order])) + 1
    groups: list[np.ndarray] = []
    for members in np.split(order, bounds):
        if len(members) <= 2:  # a pair in one component is joined by an edge >= threshold
            groups.append(members)
        elif len(members) > MAX_LINKAGE_GROUP:
            groups += _split_large(unit, members, edges, threshold, photos)
        else:
            groups += _linkage(unit, members, threshold, photos)
    return groups


def labels_from_groups(n: int, groups: list[np.ndarray], first_label: int = 0) -> np.ndarray:
    """Labels first_label.., largest group first (ties: smallest row first), -1 elsewhere."""
    labels = np.full(n, -1, dtype=np.int64)
    for label, group in enumerate(sorted(groups, key=lambda g: (-len(g), int(g.min()))), start=first_label):
        labels[group] = label
    return labels


def attach_to_nearest(
    labels: np.ndarray,
    edges: Edges,
    forbidden: Collection[tuple[int, int]] = (),
    photos: np.ndarray | None = None,
) -> np.ndarray:
    """Every unlabelled face takes the label of its most similar labelled neighbour (one round: a
    face attached here does not pull others in). ``forbidden``: (row, label) pairs never to choose,
    e.g. the labels of people a face was rejected from. With ``photos``, a label holding a face of
    the same photo is skipped for the next best one (most similar pairs settled first)."""
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
    if photos is not None:
        return _attach_apart(out, a, target, sims, photos)
    if len(a):
        order = np.lexsort((-sims, a))  # by face, most similar neighbour first
        faces, first = np.unique(a[order], return_index=True)
        out[faces] = target[order][first]
    return out


def _attach_apart(out: np.ndarray, a: np.ndarray, target: np.ndarray, sims: np.ndarray, photos: np.ndarray):
    """``attach_to_nearest`` under the cannot-link rule: candidate (face, label) pairs from the most
    similar down; a pair is taken when its face is still free and its label holds nothing of the
    face's photo yet."""
    labelled = np.flatnonzero(out >= 0)
    taken = set(zip(photos[labelled].tolist(), out[labelled].tolist()))
    order = np.argsort(-sims, kind="stable")
    for face, label in zip(a[order].tolist(), target[order].tolist()):
        if out[face] >= 0 or (photos[face], label) in taken:
            continue
        out[face] = label
        taken.add((photos[face], label))
    return out


def split_same_photo(
    labels: np.ndarray, unit: np.ndarray, photos: np.ndarray, keep: Collection[int] = ()
) -> np.ndarray:
    """Labels where no group holds two faces of one photo: of each clash, the rows in ``keep`` (user
    decisions) stay, then the face most similar to the rest of its group; the others lose their
    label. A safety net after steps that cannot see the rule (a giant split component)."""
    out = labels.copy()
    kept = set(int(row) for row in keep)
    rows = np.flatnonzero(out >= 0)
    if len(rows) == 0:
        return out
    pairs = np.stack([photos[rows], out[rows]], axis=1)
    _, inverse, counts = np.unique(pairs, axis=0, return_inverse=True, return_counts=True)
    for clash in np.flatnonzero(counts > 1):
        clashing = rows[inverse.reshape(-1) == clash]
        label = out[clashing[0]]
        others = np.flatnonzero((out == label) & (photos != photos[clashing[0]]))
        fixed = [row for row in clashing if row in kept]
        if fixed:
            winners = fixed
        else:
            score = (unit[clashing] @ unit[others].T).mean(axis=1) if len(others) else np.zeros(len(clashing))
            winners = [clashing[int(np.argmax(score))]]
        out[[row for row in clashing if row not in winners]] = -1
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


def _linkage(
    unit: np.ndarray, members: np.ndarray, threshold: float, photos: np.ndarray | None = None
) -> list[np.ndarray]:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    sims = (unit[members] @ unit[members].T).astype(np.float64)
    distance = np.clip(1.0 - sims, 0.0, 2.0)
    if photos is not None:
        distance[photos[members][:, None] == photos[members][None, :]] = CANNOT_LINK_DISTANCE
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    # Merge while the mean similarity is >= threshold (tiny slack: float rounding at the boundary).
    flat = fcluster(tree, t=1.0 - threshold + 1e-7, criterion="distance")
    return [members[flat == k] for k in np.unique(flat)]


def _split_large(
    unit: np.ndarray, members: np.ndarray, edges: Edges, threshold: float, photos: np.ndarray | None = None
) -> list[np.ndarray]:
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
        groups += _linkage(unit, part, threshold, photos) if fits else [part]
    return groups
