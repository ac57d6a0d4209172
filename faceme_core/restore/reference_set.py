"""Reference photos: find the face in each and turn it into what the engine and the matcher need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from faceme_core.engine.restorer import ReferenceFace
from faceme_core.errors import FaceMeError, ModelMissingError
from faceme_core.faces.analyzer import FaceAnalyzer
from faceme_core.faces.boxes import pick_box
from faceme_core.faces.embedding_models import EMBEDDING_MODELS
from faceme_core.faces.types import Embedding
from faceme_core.hashing import file_sha256
from faceme_core.imageio import load_photo
from faceme_core.library.types import TaskReference



@dataclass(frozen=True)
class ReferenceSet:
    """The references of one person, in the forms the engine, the matcher and the report need."""

    faces: tuple[ReferenceFace, ...]
    embeddings: tuple[Embedding, ...]
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.faces)


def load_reference(
    path: Path, analyzer: FaceAnalyzer, box_hint: tuple[float, float, float, float] | None = None
) -> tuple[ReferenceFace, Embedding]:
    """The reference face in ``path``: the one overlapping ``box_hint`` best, else the largest face."""
    if not _is_identity_model(analyzer.embedding_model_id):
        raise ModelMissingError(
            "references need the insightface antelopev2 pack (FaceMe's ArcFace identity model)",
            hint="download or import it", action="download_antelopev2",
        )
    photo = load_photo(path)
    rgb = photo.rgb8()
    faces = analyzer.analyze_rgb(rgb).faces
    if not faces:
        raise FaceMeError(f"{path}: no face large enough to use as a reference was found")
    index = pick_box([face.box for face in faces], box_hint)
    face = faces[index]
    # Mix's inputs as FaceMe computed them (colour order, detector size: see faceme_identity); the
    # returned Embedding stays the documented one, comparable with every other face's.
    identity = analyzer.backend.faceme_identity(rgb, face.detection)
    reference = ReferenceFace(
        image=rgb,
        box=identity.box,
        arcface=identity.arcface,
        cache_key=f"{file_sha256(path)}:{index}:faceme-rgb",  # new key: older cached boxes came from the 640 detector
    )
    return reference, face.embedding


def load_reference_set(paths: Sequence[Path], analyzer: FaceAnalyzer) -> ReferenceSet:
    loaded = [load_reference(Path(path), analyzer) for path in paths]
    return ReferenceSet(
        faces=tuple(reference for reference, _ in loaded),
        embeddings=tuple(embedding for _, embedding in loaded),
        names=tuple(Path(path).name for path in paths),
    )



def short_reference_name(reference: TaskReference) -> str:
    """"face 12" for an album face, the file's path for an image file (job reports, errors)."""
    return f"face {reference.face_id}" if reference.kind == "face" else str(reference.path)


class ReferenceLoader:
    """Library references (``library.types.TaskReference``: album faces or files) read for the engine,
    each once (per path and box), for every photo and re-run that uses it. ``name`` says how the
    ``ReferenceSet`` names them in reports."""

    def __init__(self, analyzer: FaceAnalyzer, name: Callable[[TaskReference], str] = short_reference_name):
        self.analyzer = analyzer
        self.name = name
        self._cache: dict[TaskReference, tuple[ReferenceFace, Embedding]] = {}

    def load(self, references: Sequence[TaskReference]) -> ReferenceSet:
        loaded = []
        for reference in references:
            if reference not in self._cache:
                try:
                    self._cache[reference] = load_reference(reference.path, self.analyzer, box_hint=reference.box)
                except FaceMeError as error:
                    raise FaceMeError(f"reference {short_reference_name(reference)}: {error}") from None
            loaded.append(self._cache[reference])
        return ReferenceSet(faces=tuple(face for face, _ in loaded), embeddings=tuple(e for _, e in loaded),
                            names=tuple(self.name(reference) for reference in references))


def _is_identity_model(model_id: str) -> bool:
    """Only FaceMe's identity model (ArcFace) can encode references for the engine."""
    model = EMBEDDING_MODELS.get(model_id)
    return model is not None and model.identity
