"""Face grouping at library scale: 100,000 synthetic dlib-like embeddings of 2,000 people.

Prints, measured in this run:
1. full grouping (``group_unassigned``, probed neighbour search) time and BCubed, against the exact
   brute-force neighbour search (timed on a 20,000-face subset and extrapolated quadratically, or on
   everything with --full-baseline) and its pair recall; BCubed of DBSCAN-style single linkage on
   the same graph, for comparison; then the same faces as group photos of 2-4 people (``photos=``:
   faces of one photo never join one person), its time and BCubed beside the figures without;
2. 1,000 new faces against the 2,000 people (~100,000 member faces) with ``assign_to_people``,
   against a plain per-person loop; then as group photos of 2-4 (``photos=``).

Targets: full grouping < 30 s, incremental < 1 s. Run: python benchmarks/bench_clustering.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from faceme_core.library.clustering import (
    DLIB_MODEL_ID,
    assign_to_people,
    bcubed,
    group_unassigned,
    params_for_model,
    synthetic_embeddings,
)
from faceme_core.library.clustering_graph import similar_pairs
from faceme_core.library.clustering_linkage import _components

PEOPLE = 2000
FACES_PER_PERSON = 50
NEW_FACES = 1000
SUBSET = 20_000
# 2,000 people need more identity directions than the test photos' 16 people show (the generator
# default, 10, crowds them); 32 keeps same/different similarities at ~0.95 / ~0.84.
IDENTITY_DIMS = 32


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def similarity_summary(vectors: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> str:
    i, j = rng.integers(0, len(vectors), (2, 200_000))
    sims = np.einsum("nd,nd->n", vectors[i], vectors[j])
    same = (labels[i] == labels[j]) & (i != j)
    diff = labels[i] != labels[j]
    return (
        f"same person {sims[same].mean():.3f} +- {sims[same].std():.3f}, "
        f"different {sims[diff].mean():.3f} +- {sims[diff].std():.3f} (99th pct {np.percentile(sims[diff], 99):.3f})"
    )


def pair_keys(edges, n: int) -> set[int]:
    return set((edges.rows * n + edges.cols).tolist())


def single_linkage_labels(n: int, edges, min_faces: int) -> np.ndarray:
    component = _components(n, edges.rows, edges.cols)
    sizes = np.bincount(component)
    return np.where(sizes[component] >= min_faces, component, -1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-baseline", action="store_true", help="time brute force on all faces (minutes)")
    args = parser.parse_args()
    params = params_for_model(DLIB_MODEL_ID)
    rng = np.random.default_rng(1)

    # Faces of the same 2,000 people: 100,000 to group, 1,000 arriving later.
    vectors_all, labels_all = synthetic_embeddings(
        [FACES_PER_PERSON + 1] * PEOPLE, identity_dims=IDENTITY_DIMS, seed=0
    )
    held_out = rng.choice(len(vectors_all), size=len(vectors_all) - PEOPLE * FACES_PER_PERSON, replace=False)
    new_vectors, new_truth = vectors_all[held_out[:NEW_FACES]], labels_all[held_out[:NEW_FACES]]
    keep = np.setdiff1d(np.arange(len(vectors_all)), held_out)
    vectors, truth = vectors_all[keep], labels_all[keep]
    n = len(vectors)
    print(f"{n} faces of {PEOPLE} people, {vectors.shape[1]}-d; threshold {params.join_similarity}")
    print("similarities:", similarity_summary(vectors, truth, rng))

    # 1. Full grouping.
    labels, seconds = timed(group_unassigned, vectors, params)
    score = bcubed(labels, truth)
    print(
        f"\n[full grouping] group_unassigned: {seconds:.1f} s (target < 30 s); "
        f"BCubed P {score.precision:.3f} R {score.recall:.3f} F {score.f:.3f}; "
        f"{labels.max() + 1} people, {np.count_nonzero(labels < 0)} faces unassigned"
    )
    probed, probed_seconds = timed(similar_pairs, vectors, params.join_similarity, "probed")
    single = bcubed(single_linkage_labels(n, probed, params.min_faces), truth)
    print(f"  neighbour search (probed) alone: {probed_seconds:.1f} s, {len(probed)} pairs")
    print(f"  baseline quality, DBSCAN-style single linkage on the same pairs: F {single.f:.3f}")
    photos = group_photos(truth, rng)
    photo_labels, photo_seconds = timed(group_unassigned, vectors, params, photos=photos)
    photo_score = bcubed(photo_labels, truth)
    labelled = photo_labels >= 0
    distinct = len(np.unique(photos[labelled] * (photo_labels.max() + 1) + photo_labels[labelled]))
    print(
        f"  as {photos.max() + 1} group photos of 2-4 people (photos=, same-photo cannot-link): "
        f"{photo_seconds:.1f} s ({photo_seconds / seconds:.2f}x the time without); "
        f"BCubed P {photo_score.precision:.3f} R {photo_score.recall:.3f} F {photo_score.f:.3f} "
        f"(without: F {score.f:.3f}); "
        f"{photo_labels.max() + 1} people; two faces of one photo in one person: "
        f"{np.count_nonzero(labelled) - distinct}"
    )

    subset = rng.choice(n, size=SUBSET, replace=False)
    exact_sub, brute_seconds = timed(similar_pairs, vectors[subset], params.join_similarity, "brute")
    probed_sub, probed_sub_seconds = timed(similar_pairs, vectors[subset], params.join_similarity, "probed")
    exact_keys, probed_keys = pair_keys(exact_sub, SUBSET), pair_keys(probed_sub, SUBSET)
    recall = len(exact_keys & probed_keys) / max(1, len(exact_keys))
    print(
        f"  on {SUBSET} faces: exact brute force {brute_seconds:.2f} s, probed {probed_sub_seconds:.2f} s; "
        f"probed finds {recall:.4f} of the exact pairs"
    )
    if args.full_baseline:
        _, full_brute = timed(similar_pairs, vectors, params.join_similarity, "brute")
        print(f"  exact brute force on all {n}: {full_brute:.1f} s -> probed is {full_brute / probed_seconds:.1f}x faster")
    else:
        estimate = brute_seconds * (n / SUBSET) ** 2
        print(
            f"  exact brute force on all {n}, extrapolated (n^2): ~{estimate:.0f} s -> probed is "
            f"~{estimate / probed_seconds:.0f}x faster (--full-baseline to measure)"
        )

    # 2. Incremental: new faces against the people as they stand (true groups).
    people = {int(p): vectors[truth == p] for p in range(PEOPLE)}
    chosen, seconds = timed(assign_to_people, new_vectors, people, params)
    correct = np.mean([c == t for c, t in zip(chosen, new_truth)])
    wrong = np.mean([c is not None and c != t for c, t in zip(chosen, new_truth)])
    print(
        f"\n[incremental] {NEW_FACES} new faces vs {PEOPLE} people ({n} members): {seconds:.2f} s "
        f"(target < 1 s); joined their person {correct:.3f}, a wrong person {wrong:.3f}"
    )
    naive, naive_seconds = timed(naive_assign, new_vectors, people, params.join_similarity)
    agree = np.mean([a == b for a, b in zip(naive, chosen)])
    print(f"  baseline, per-person loop: {naive_seconds:.2f} s -> {naive_seconds / seconds:.1f}x; same answer for {agree:.3f}")
    new_photos = group_photos(new_truth, rng)
    chosen_p, seconds_p = timed(assign_to_people, new_vectors, people, params, photos=new_photos)
    correct_p = np.mean([c == t for c, t in zip(chosen_p, new_truth)])
    wrong_p = np.mean([c is not None and c != t for c, t in zip(chosen_p, new_truth)])
    print(
        f"  as {new_photos.max() + 1} group photos of 2-4 (photos=): {seconds_p:.2f} s; joined their person "
        f"{correct_p:.3f}, a wrong person {wrong_p:.3f}"
    )


def group_photos(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Photo ids (n,): photos of 2-4 faces, never two faces of one person in a photo (as in real
    albums). Faces are dealt by their rank within their person (one face of each person per round),
    shuffled, and cut into photos within a round."""
    order = np.lexsort((rng.random(len(truth)), _rank_within_label(truth)))
    ranks = _rank_within_label(truth)[order]
    photos = np.empty(len(truth), dtype=np.int64)
    photo = 0
    for start, stop in _runs(ranks):
        i = start
        while i < stop:
            size = min(int(rng.integers(2, 5)), stop - i)
            if stop - (i + size) == 1:  # no one-face photo left at the end of a round
                size = size + 1 if size < 4 else size - 1
            photos[order[i : i + size]] = photo
            photo, i = photo + 1, i + size
    return photos


def _rank_within_label(labels: np.ndarray) -> np.ndarray:
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_labels)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(labels)]))
    ranks = np.empty(len(labels), dtype=np.int64)
    ranks[order] = np.arange(len(labels)) - run_start
    return ranks


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal values in a sorted array."""
    cuts = np.r_[0, np.flatnonzero(np.diff(values)) + 1, len(values)]
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist()))


def naive_assign(vectors: np.ndarray, people: dict[int, np.ndarray], threshold: float) -> list[int | None]:
    best_sim = np.full(len(vectors), -np.inf)
    best: list[int | None] = [None] * len(vectors)
    for pid, members in people.items():
        sims = (vectors @ members.T).max(axis=1)
        for row in np.flatnonzero(sims > best_sim):
            best_sim[row], best[row] = sims[row], pid
    return [pid if sim >= threshold else None for pid, sim in zip(best, best_sim)]


if __name__ == "__main__":
    main()
