"""Running out of GPU memory is a user's problem with a remedy, not a crash with a CUDA traceback."""

from __future__ import annotations

import contextlib
from typing import Iterator

from faceme_core.errors import FaceMeError

OUT_OF_MEMORY_REMEDY = (
    "choose an offload mode ('group', or 'sequential', which needs the least memory at the most time), "
    "close other programs using the GPU, or use the CPU"
)


class OutOfMemoryError(FaceMeError):
    """The device ran out of memory during a restoration; the message says what to do."""


@contextlib.contextmanager
def out_of_memory_as_error(what: str = "restoring") -> Iterator[None]:
    """Inside, torch's out-of-memory error becomes an ``OutOfMemoryError`` naming the remedy (the
    cache is emptied first, so the app stays usable and a retry with other settings can succeed)."""
    try:
        yield
    except Exception as error:
        if not _is_out_of_memory(error):
            raise
        _release_cached_memory()
        raise OutOfMemoryError(f"the GPU ran out of memory while {what}", setting="offload",
                               hint=OUT_OF_MEMORY_REMEDY) from error


def _is_out_of_memory(error: BaseException) -> bool:
    import sys

    torch = sys.modules.get("torch")  # never import torch just to look at an error
    oom = getattr(torch, "OutOfMemoryError", None) if torch is not None else None
    if oom is not None and isinstance(error, oom):
        return True
    # MPS and older CUDA builds raise a RuntimeError with this wording
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def _release_cached_memory() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
