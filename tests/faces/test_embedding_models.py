"""The one table of embedding models: every consumer reads its numbers from it."""

from __future__ import annotations

import dataclasses

import pytest

from faceme_core.faces import embedding_models
from faceme_core.faces.embedding_models import ARCFACE_MODEL_ID, DLIB_MODEL_ID, EMBEDDING_MODELS, embedding_model


def test_backends_name_models_of_the_table():
    from faceme_core.faces.dlib_backend import DlibBackend
    from faceme_core.faces.insightface_backend import InsightFaceBackend

    assert DlibBackend.embedding_model_id == DLIB_MODEL_ID in EMBEDDING_MODELS
    assert InsightFaceBackend.embedding_model_id == ARCFACE_MODEL_ID in EMBEDDING_MODELS


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="unknown embedding model 'x/y'.*dlib/resnet-v1"):
        embedding_model("x/y")


def test_consumers_follow_the_table(monkeypatch):
    """Change a row and grouping, suggestions and reference checks change with it: no retyped copy."""
    from faceme_core.library.clustering import params_for_model
    from faceme_core.library.references import near_duplicate_similarity
    from faceme_core.restore.reference_set import _is_identity_model

    row = dataclasses.replace(
        EMBEDDING_MODELS[DLIB_MODEL_ID], join_similarity=0.5, poor_join_similarity=0.6, near_duplicate_similarity=0.7,
        identity=True,
    )
    monkeypatch.setitem(embedding_models.EMBEDDING_MODELS, DLIB_MODEL_ID, row)
    params = params_for_model(DLIB_MODEL_ID)
    assert (params.join_similarity, params.poor_join_similarity, params.embedding_dim) == (0.5, 0.6, 128)
    assert near_duplicate_similarity(DLIB_MODEL_ID) == 0.7
    assert _is_identity_model(DLIB_MODEL_ID)


def test_only_arcface_encodes_identity():
    assert [m.id for m in EMBEDDING_MODELS.values() if m.identity] == [ARCFACE_MODEL_ID]
