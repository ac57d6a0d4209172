"""Read what a weight file declares (tensor names, shapes, dtypes) without reading its weights.

safetensors: an 8-byte little-endian header length, then a JSON header; the data follows and is never
read here. photomaker-v1.bin: a torch zip pickle, opened with ``weights_only=True`` (no arbitrary
objects) and ``mmap=True`` (tensors stay on disk until touched; we only look at their shapes).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceme_core.errors import ModelFormatError

# A real header is a few hundred kB at most; anything larger means the file is not safetensors.
MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class SafetensorsHeader:
    path: Path
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str]
    data_bytes_declared: int  # end of the last tensor, per the header
    data_bytes_on_disk: int  # what the file actually holds after the header


def read_safetensors_header(path: Path) -> SafetensorsHeader:
    """Parse the header only; raises ModelFormatError naming the file when it is not safetensors."""
    try:
        file_size = path.stat().st_size
        with path.open("rb") as f:
            prefix = f.read(8)
            if len(prefix) < 8:
                raise ModelFormatError(f"{path}: not a safetensors file (only {len(prefix)} bytes)")
            (header_len,) = struct.unpack("<Q", prefix)
            if header_len > MAX_SAFETENSORS_HEADER_BYTES or header_len + 8 > file_size:
                raise ModelFormatError(f"{path}: not a safetensors file (header length {header_len} is impossible)")
            raw = f.read(header_len)
    except OSError as error:
        raise ModelFormatError(f"{path}: cannot read ({error.strerror or error})") from error
    return parse_safetensors_header(path, raw, data_bytes_on_disk=file_size - 8 - header_len)


def parse_safetensors_header(path: Path, raw: bytes, *, data_bytes_on_disk: int) -> SafetensorsHeader:
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as error:  # ValueError: bad UTF-8, JSON, 5,000-digit numbers
        detail = "nested too deeply" if isinstance(error, RecursionError) else error
        raise ModelFormatError(f"{path}: not a safetensors file (header is not JSON: {detail})") from None
    if not isinstance(header, dict):
        raise ModelFormatError(f"{path}: not a safetensors file (header is not a JSON object)")
    metadata = header.pop("__metadata__", None)
    metadata = {} if metadata is None else metadata
    # The format (and the safetensors loader) wants text -> text; anything else fails at load time.
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFormatError(f"{path}: malformed safetensors header (__metadata__ is not a map of text to text)")
    tensors: dict[str, TensorInfo] = {}
    end = 0
    for name, entry in header.items():
        try:
            shape = tuple(int(d) for d in entry["shape"])
            start, stop = (int(o) for o in entry["data_offsets"])
            tensors[name] = TensorInfo(dtype=str(entry["dtype"]), shape=shape)
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFormatError(f"{path}: malformed safetensors header entry for tensor {name!r}") from error
        if stop < start:
            raise ModelFormatError(f"{path}: malformed safetensors header entry for tensor {name!r}")
        end = max(end, stop)
    return SafetensorsHeader(
        path=path,
        tensors=tensors,
        metadata={str(k): str(v) for k, v in metadata.items()},
        data_bytes_declared=end,
        data_bytes_on_disk=data_bytes_on_disk,
    )


def read_torch_pickle_shapes(path: Path) -> dict[str, Any]:
    """The nested dict structure of a torch zip pickle with each tensor replaced by its TensorInfo.

    Only plain containers and tensors are allowed (``weights_only=True``); ``mmap=True`` keeps the
    tensor data on disk, and we never touch it.
    """
    import pickle
    import zipfile

    import torch

    if not zipfile.is_zipfile(path):
        raise ModelFormatError(f"{path}: not a torch zip checkpoint (old pickle formats are not accepted)")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as error:
        raise ModelFormatError(f"{path}: holds objects other than plain tensors, refusing to load it ({error})") from error
    except (RuntimeError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ModelFormatError(f"{path}: cannot read the checkpoint ({error})") from error
    return _shapes_only(loaded)


def _shapes_only(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return TensorInfo(dtype=str(value.dtype).removeprefix("torch."), shape=tuple(value.shape))
    if isinstance(value, dict):
        return {str(k): _shapes_only(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shapes_only(v) for v in value]
    return value


@dataclass(frozen=True)
class OnnxIO:
    """Input and output shapes of an ONNX graph; symbolic dimensions are strings, unknown ones None."""

    inputs: dict[str, tuple[int | str | None, ...]]
    outputs: dict[str, tuple[int | str | None, ...]]


def read_onnx_io(path: Path) -> OnnxIO:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # onnx raises DecodeError/ValueError/OSError depending on the damage
        raise ModelFormatError(f"{path}: not a readable ONNX model ({type(error).__name__}: {error})") from error
    graph = model.graph
    initializers = {init.name for init in graph.initializer}  # old exports list weights as inputs too

    def dims(value_info) -> tuple[int | str | None, ...]:
        out: list[int | str | None] = []
        for d in value_info.type.tensor_type.shape.dim:
            if d.HasField("dim_value"):
                out.append(int(d.dim_value))
            elif d.HasField("dim_param"):
                out.append(d.dim_param)
            else:
                out.append(None)
        return tuple(out)

    return OnnxIO(
        inputs={v.name: dims(v) for v in graph.input if v.name not in initializers},
        outputs={v.name: dims(v) for v in graph.output},
    )
