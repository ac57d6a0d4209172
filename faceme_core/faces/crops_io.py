"""A folder of aligned face crops plus ``faces.json``: what ``faceme align`` writes and ``faceme paste`` reads.

Users edit the crops in another program between the two commands, so reading is strict: the JSON must
describe the very photo being pasted into (size and pixel hash), and every crop must still be there,
square and of the size it was written at.

Folder layout::

    faces.json      format, photo (path, size, bit depth, pixel hash), crop size, backend,
                    faces [{index, crop, crop_sha256, box, points, matrix, score, quality}],
                    skipped [{box, points, score, reason}]
    face_01.png     aligned crop of faces[0] (16-bit PNG for 16-bit photos, gray for gray photos)
    face_02.png     ...

``matrix`` maps photo pixel coordinates to crop pixel coordinates (cv2 convention, pixel centres at
integers), as ``faceme_core.faces.align.AlignedFace.matrix``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from faceme_core.errors import FaceMeError
from faceme_core.faces.align import ALIGNED_SIZE, align_face
from faceme_core.faces.paste import RestoredFace
from faceme_core.faces.types import PhotoFaces
from faceme_core.hashing import file_sha256
from faceme_core.image_types import Photo
from faceme_core.imageio.atomic import write_atomically
from faceme_core.imageio.mark import is_faceme_output

FACES_JSON = "faces.json"
FORMAT_NAME = "faceme-aligned-faces"
FORMAT_VERSION = 1


class FaceCropsError(FaceMeError):
    """An aligned-faces folder is missing, incomplete, edited wrongly or belongs to another photo."""


@dataclass(frozen=True)
class CropEntry:
    index: int
    crop_file: str  # file name inside the folder
    crop_sha256: str  # of the file as written, to tell edited crops from ours
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the photo
    points: np.ndarray  # (5, 2) float64, photo coordinates
    matrix: np.ndarray  # (2, 3) float64, photo -> crop
    score: float
    quality: float | None


@dataclass(frozen=True)
class SkippedEntry:
    box: tuple[float, float, float, float]
    points: np.ndarray  # (5, 2)
    score: float
    reason: str


@dataclass(frozen=True)
class CropsManifest:
    photo_path: str
    size_wh: tuple[int, int]
    bit_depth: int
    pixels_sha256: str
    crop_size: int
    backend: str
    faces: tuple[CropEntry, ...]
    skipped: tuple[SkippedEntry, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "photo": {
                "path": self.photo_path,
                "size_wh": list(self.size_wh),
                "bit_depth": self.bit_depth,
                "pixels_sha256": self.pixels_sha256,
            },
            "crop_size": self.crop_size,
            "backend": self.backend,
            "faces": [
                {
                    "index": face.index,
                    "crop": face.crop_file,
                    "crop_sha256": face.crop_sha256,
                    "box": [float(v) for v in face.box],
                    "points": np.asarray(face.points, dtype=np.float64).tolist(),
                    "matrix": np.asarray(face.matrix, dtype=np.float64).tolist(),
                    "score": float(face.score),
                    "quality": None if face.quality is None else float(face.quality),
                }
                for face in self.faces
            ],
            "skipped": [
                {
                    "box": [float(v) for v in skipped.box],
                    "points": np.asarray(skipped.points, dtype=np.float64).tolist(),
                    "score": float(skipped.score),
                    "reason": skipped.reason,
                }
                for skipped in self.skipped
            ],
        }

    @classmethod
    def from_json(cls, data: Any, source: Path) -> "CropsManifest":
        """Parse and validate; any problem is a FaceCropsError naming ``source``."""
        try:
            if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
                raise ValueError(f"not a '{FORMAT_NAME}' file")
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"version {data.get('version')!r} is not supported (expected {FORMAT_VERSION})")
            photo = data["photo"]
            faces = tuple(
                CropEntry(
                    index=int(face["index"]),
                    crop_file=_plain_file_name(face["crop"]),
                    crop_sha256=str(face["crop_sha256"]),
                    box=_box(face["box"]),
                    points=_array(face["points"], (5, 2), "points"),
                    matrix=_array(face["matrix"], (2, 3), "matrix"),
                    score=float(face["score"]),
                    quality=None if face.get("quality") is None else float(face["quality"]),
                )
                for face in data["faces"]
            )
            skipped = tuple(
                SkippedEntry(
                    box=_box(item["box"]),
                    points=_array(item["points"], (5, 2), "points"),
                    score=float(item["score"]),
                    reason=str(item["reason"]),
                )
                for item in data.get("skipped", [])
            )
            width, height = (int(v) for v in photo["size_wh"])
            return cls(
                photo_path=str(photo["path"]),
                size_wh=(width, height),
                bit_depth=int(photo["bit_depth"]),
                pixels_sha256=str(photo["pixels_sha256"]),
                crop_size=int(data["crop_size"]),
                backend=str(data["backend"]),
                faces=faces,
                skipped=skipped,
            )
        except (KeyError, TypeError, ValueError) as error:
            detail = f"missing field {error}" if isinstance(error, KeyError) else str(error)
            raise FaceCropsError(f"not a valid faces file written by FaceMe's face alignment ({detail})",
                                 subject=source) from None


# ---- pure helpers -------------------------------------------------------------------------------


def pixels_sha256(pixels: np.ndarray) -> str:
    """Identifies a photo by its decoded pixels (orientation applied), not by its file's metadata."""
    digest = hashlib.sha256(f"{pixels.dtype.str}{pixels.shape}".encode())
    digest.update(np.ascontiguousarray(pixels).data)
    return digest.hexdigest()


def crop_file_name(index: int) -> str:
    """Numbered from 1, like the faces ``faceme detect`` lists (faces.json's ``index`` counts from 0)."""
    return f"face_{index + 1:02d}.png"


CROP_FILE_PATTERN = re.compile(r"face_\d{2,}\.png")


def crop_photo(photo: Photo, crop: np.ndarray) -> Photo:
    """The crop as a Photo saved like its source: same bit depth, gray if the source is gray, same ICC."""
    if photo.is_gray:
        mode = "I;16" if crop.dtype == np.uint16 else "L"
    else:
        mode = "RGB"
    return Photo(
        pixels=np.ascontiguousarray(crop), is_gray=photo.is_gray, source_mode=mode,
        icc_profile=photo.icc_profile, source_format="PNG",
    )


def crop_opacity(alpha: np.ndarray | None) -> np.ndarray | None:
    """A crop's alpha as float32 opacity in [0, 1]; None when it is absent or fully opaque."""
    if alpha is None:
        return None
    peak = np.iinfo(alpha.dtype).max
    if np.all(alpha == peak):
        return None
    return alpha.astype(np.float32) / np.float32(peak)


# ---- I/O ----------------------------------------------------------------------------------------


def write_crops_folder(photo: Photo, photo_faces: PhotoFaces, out_dir: Path) -> CropsManifest:
    """Align every restorable face, write its crop and ``faces.json``; never overwrites foreign files.

    Files a previous ``faceme align`` wrote here (listed in its faces.json, unchanged since) may be
    replaced; anything else in the way, including a crop edited since, stops the command.
    """
    from faceme_core.imageio import save_photo

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise FaceCropsError(f"{out_dir}: exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # e.g. under a file, on a read-only disk, or in /proc
        raise FaceCropsError(f"{out_dir}: cannot create the output folder ({error.strerror or error})") from None
    replaceable = _files_we_wrote(out_dir)
    names = [crop_file_name(i) for i in range(len(photo_faces.faces))]
    for name in [FACES_JSON, *names]:
        _check_may_write(out_dir / name, replaceable, photo.path)

    entries = []
    for index, (face, name) in enumerate(zip(photo_faces.faces, names)):
        aligned = align_face(photo.pixels, np.asarray(face.points, dtype=np.float64), ALIGNED_SIZE)
        path = save_photo(crop_photo(photo, aligned.crop), out_dir / name, overwrite=(out_dir / name).exists())
        entries.append(
            CropEntry(
                index=index, crop_file=name, crop_sha256=file_sha256(Path(path)), box=tuple(face.box),
                points=np.asarray(face.points, dtype=np.float64), matrix=aligned.matrix,
                score=float(face.score), quality=float(face.quality),
            )
        )
    manifest = CropsManifest(
        photo_path=str(Path(photo.path).resolve()) if photo.path is not None else "",
        size_wh=photo.size_wh,
        bit_depth=photo.bit_depth,
        pixels_sha256=pixels_sha256(photo.pixels),
        crop_size=ALIGNED_SIZE,
        backend=photo_faces.backend,
        faces=tuple(entries),
        skipped=tuple(
            SkippedEntry(box=tuple(s.detection.box), points=np.asarray(s.detection.points, dtype=np.float64),
                         score=float(s.detection.score), reason=s.reason)
            for s in photo_faces.skipped
        ),
    )
    json_path = out_dir / FACES_JSON
    try:
        write_atomically(json_path, (json.dumps(manifest.to_json(), indent=2) + "\n").encode("utf-8"))
    except OSError as error:
        raise FaceCropsError(f"{json_path}: could not write the file ({error.strerror or error})") from None
    return manifest


def read_manifest(folder: Path) -> CropsManifest:
    folder = Path(folder)
    if not folder.is_dir():
        raise FaceCropsError("no such folder", subject=folder, hint="align the photo's faces into it first",
                             action="align")
    path = folder / FACES_JSON
    if not path.is_file():
        raise FaceCropsError("missing; this folder does not hold aligned faces", subject=path, action="align")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:  # ValueError: bad UTF-8, JSON, 5,000-digit numbers
        detail = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise FaceCropsError(f"cannot be read as JSON ({detail})", subject=path) from None
    return CropsManifest.from_json(data, path)


def check_manifest_matches(manifest: CropsManifest, photo: Photo, folder: Path) -> None:
    """Refuse to paste faces aligned on another photo (or on an edited copy of this one)."""
    json_path = Path(folder) / FACES_JSON
    if tuple(manifest.size_wh) != tuple(photo.size_wh):
        raise FaceCropsError(
            f"{json_path} was made from a {manifest.size_wh[0]}x{manifest.size_wh[1]} photo "
            f"({manifest.photo_path}), not from this {photo.size_wh[0]}x{photo.size_wh[1]} one"
        )
    if manifest.pixels_sha256 != pixels_sha256(photo.pixels):
        raise FaceCropsError(
            f"was made from another photo ({manifest.photo_path}): the pixels differ", subject=json_path,
            hint="align this photo's faces first", action="align",
        )


def check_output_outside(output: Path, manifest: CropsManifest, folder: Path) -> None:
    """Refuse to write the pasted photo into the crops folder: it would replace a crop (perhaps
    hand-edited) or faces.json, or be taken for one by the next 'faceme align'."""
    output, folder = Path(output), Path(folder)
    json_path = folder / FACES_JSON
    if output.resolve().is_relative_to(folder.resolve()):
        raise FaceCropsError(f"{output}: is inside the crops folder {folder}; write the result elsewhere")
    for ours in [json_path, *(folder / entry.crop_file for entry in manifest.faces)]:
        if _same_existing_file(output, ours):  # a hard link or another path to the same file
            raise FaceCropsError(f"{output}: is {ours}; write the result elsewhere")


def load_restored_faces(manifest: CropsManifest, folder: Path) -> list[RestoredFace]:
    """Every crop listed in the manifest, validated, with its alignment matrix."""
    from faceme_core.imageio import load_photo

    faces = []
    for entry in manifest.faces:
        path = Path(folder) / entry.crop_file
        if not path.is_file():
            raise FaceCropsError(f"{path}: missing (face {entry.index + 1} of {Path(folder) / FACES_JSON})")
        loaded = load_photo(path)
        crop = loaded.pixels
        expected = (manifest.crop_size, manifest.crop_size)
        if crop.shape[:2] != expected:
            raise FaceCropsError(
                f"{path}: is {crop.shape[1]}x{crop.shape[0]} pixels, expected {expected[0]}x{expected[1]}; "
                "edit the crop without resizing or cropping it"
            )
        try:
            faces.append(RestoredFace(crop=crop, matrix=entry.matrix, opacity=crop_opacity(loaded.alpha)))
        except ValueError as error:  # e.g. a hand-edited, singular matrix
            raise FaceCropsError(f"{Path(folder) / FACES_JSON}: face {entry.index + 1}: {error}") from None
    return faces


# ---- private ------------------------------------------------------------------------------------


def _files_we_wrote(out_dir: Path) -> set[Path]:
    """Files listed by an earlier faces.json here that still hold what we wrote; without a faces.json,
    the crops an interrupted align left (FaceMe-marked face_NN.png: never listed, so never edited for
    a paste), so that running it again finishes the folder."""
    json_path = out_dir / FACES_JSON
    if not json_path.exists():
        return {
            path for path in out_dir.iterdir()
            if CROP_FILE_PATTERN.fullmatch(path.name) and path.is_file() and is_faceme_output(path)
        }
    try:
        manifest = read_manifest(out_dir)
    except FaceCropsError:
        return set()  # not ours: faces.json itself will be refused
    ours = {json_path}
    for entry in manifest.faces:
        path = out_dir / entry.crop_file
        if path.is_file() and file_sha256(path) == entry.crop_sha256:
            ours.add(path)
    return ours


def _same_existing_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either is missing or unreadable: not the same existing file
        return False


def _check_may_write(path: Path, replaceable: set[Path], source: Path | None) -> None:
    if source is not None and path.exists() and path.resolve() == Path(source).resolve():
        raise FaceCropsError(f"{path}: is the input photo; choose another output folder")
    if path.exists() and path not in replaceable:
        raise FaceCropsError(
            "already exists and was not written by FaceMe's face alignment (or was edited since)", subject=path,
            hint="move it away or choose an empty output folder",
        )


def _plain_file_name(name: Any) -> str:
    """Crop names are bare file names: a JSON edited to point elsewhere is refused."""
    name = str(name)
    if not name or Path(name).name != name or name in (".", ".."):
        raise ValueError(f"crop file name {name!r} must be a plain file name inside the folder")
    return name


def _box(values: Sequence[Any]) -> tuple[float, float, float, float]:
    box = tuple(float(v) for v in values)
    if len(box) != 4:
        raise ValueError(f"box {list(values)!r} must have 4 numbers")
    return box  # type: ignore[return-value]


def _array(values: Any, shape: tuple[int, int], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be a {shape[0]}x{shape[1]} array of finite numbers")
    return array
