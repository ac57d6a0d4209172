"""FFHQRef-style reference pools: new renders of each identity in every pose/expression cluster.

``attributes`` (pose + expression per face), ``clustering`` (k-means on pose, then expression),
``synthesis`` (the pluggable renderer; ``arc2face`` is the real one), ``decisions`` (the JSONL log of
every keep/reject) and ``builder`` (the resumable loop); ``python -m training.build_refs`` runs it.
"""
