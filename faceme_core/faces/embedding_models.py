"""The face embedding models FaceMe knows, and every threshold that depends on one: the single table.

Cosine scales differ between models (two photos of one person score ~0.95 with dlib and ~0.5 with
ArcFace), so a threshold is only meaningful next to its model. Grouping (``library.clustering``),
reference suggestions (``library.references``) and restore matching (``restore.identity_match``) all read
their numbers from here.

Why these numbers:

dlib ResNet (``dlib_face_recognition_resnet_model_v1``, 128-d). dlib's own rule is "same person if
the euclidean distance of the raw descriptors is below 0.6". The raw descriptors are NOT unit
length: on our test photos their norms are 1.30-1.67 (median 1.41). For norms n, d^2 = 2n^2(1 - cos),
so d = 0.6 is cos = 1 - 0.18 / n^2 = 0.909 at the median norm (a fit over the 300 face pairs of the
test photos gives 0.911 where d = 0.6). That rule is tuned for verification (LFW); for grouping,
dlib's own face_clustering.py example uses 0.5 (cos ~0.937). Old scans and children put different
people at 0.93-0.97: through the library's analyzer, a child of a faded print scan scores 0.946 with
an adult woman of a film still. Join 0.95 keeps them apart (test photos, 25 faces of 16 people:
P 1.00 R 0.96; at 0.94 P 0.96, that pair merged). Poor faces: on strongly degraded copies of the test
photos (long side 240 px, blur, noise, JPEG 35-60; three draws of 79-134 faces each) different
people reach 0.96 when either face scores below 0.5, and same-person pairs of such faces median only
0.93. With reliable quality 0.4 and a poor-face join of 0.96, BCubed precision is 1.00 on all three
draws (recall 0.51-0.64, the rest unassigned with a suggestion); quality 0.3 left one wrong group in
one draw (P 0.987). tests/library/test_degraded_grouping.py measures it on a fresh draw.

insightface glintr100 (ArcFace, antelopev2, 512-d). On album photos (old, degraded, years apart)
the same person typically scores 0.4-0.5, higher on good photos; different people rarely exceed
0.2-0.3 (ArcFace's additive angular margin pushes strangers towards orthogonal). Immich groups with
the same model family at a maximum cosine distance of 0.5 (similarity 0.5; lowered from 0.6 because
different people were merged, immich PR #7689), nearest-neighbour joining, 3 minimum faces. Our new
groups need a MEAN similarity above the threshold (average linkage), which a person at a typical
0.4-0.5 would fail at 0.5, so join is 0.4; poor faces need 0.5 (Immich's own setting). Restore
matching (is this face the person of these references?) sits lower, at 0.30: degraded faces lose
similarity, and 0.30 is still well above the different-person range. Not measured here: no ArcFace
weights can be downloaded offline.

Near-duplicates (reference suggestions): two faces this similar are the same shot, a burst or a
copy, and one adds nothing to the other as a reference.

Review margin: how far below the join two people still count as "close" for the "same person?"
review, and below which a reference face looks like someone else (dlib: 0.92; Einstein scores 0.83
against Audrey Hepburn's album portrait, her own portraits 0.96). dlib 0.03: different people of old
scans reach 0.93; ArcFace 0.1: strangers rarely pass 0.3.
"""

from __future__ import annotations

from dataclasses import dataclass

DLIB_MODEL_ID = "dlib/resnet-v1"
ARCFACE_MODEL_ID = "insightface/antelopev2/glintr100"


@dataclass(frozen=True)
class EmbeddingModel:
    id: str
    dimension: int
    join_similarity: float  # grouping: a face joins a person / two groups form one person
    reliable_quality: float  # faces scoring below this are "poor" (see library.clustering)
    poor_join_similarity: float  # ... and need this closer match
    near_duplicate_similarity: float  # reference suggestions skip faces this similar to one chosen
    review_margin: float  # "same person?" review: people down to join_similarity - review_margin
    restore_match_similarity: float | None  # restore: a face belongs to the references (None: cannot say)
    identity: bool  # the FaceMe identity model (its embeddings feed the engine's Mix)


EMBEDDING_MODELS: dict[str, EmbeddingModel] = {
    DLIB_MODEL_ID: EmbeddingModel(
        id=DLIB_MODEL_ID, dimension=128, join_similarity=0.95, reliable_quality=0.4, poor_join_similarity=0.96,
        near_duplicate_similarity=0.99, review_margin=0.03, restore_match_similarity=None, identity=False,
    ),
    ARCFACE_MODEL_ID: EmbeddingModel(
        id=ARCFACE_MODEL_ID, dimension=512, join_similarity=0.4, reliable_quality=0.4, poor_join_similarity=0.5,
        near_duplicate_similarity=0.85, review_margin=0.1, restore_match_similarity=0.30, identity=True,
    ),
}


def embedding_model(model_id: str) -> EmbeddingModel:
    """The table row of ``model_id``; ValueError naming the known ids for an unknown one."""
    try:
        return EMBEDDING_MODELS[model_id]
    except KeyError:
        known = ", ".join(sorted(EMBEDDING_MODELS))
        raise ValueError(f"model_id: unknown embedding model {model_id!r} (known: {known})") from None
