"""Byte progress and cancel for huggingface_hub downloads, through the ``tqdm_class`` they accept.

huggingface_hub reports bytes to progress bars only; a bar class that counts instead of drawing is
how a caller sees them. ``snapshot_download`` creates two byte bars for the same bytes: one for the
bytes written to disk (exact total) and one for network transfer (a total it inflates as it goes);
only the first is counted. Cancel is checked at every update (every downloaded chunk): the download
stops with ``Cancelled``; files already complete stay in the Hub cache, so the next try fetches only
the rest (huggingface_hub 2.x discards a partial file, so the file in progress starts over).
"""

from __future__ import annotations

import threading
from typing import Callable

from faceme_core.tasks import CancelToken

ByteProgress = Callable[[int, "int | None"], None]  # bytes done, bytes in total (None while unknown)

TRANSFER_BAR_NAME_SUFFIX = ".transfer"  # huggingface_hub's network-bytes twin of the disk-bytes bar
TRANSFER_BAR_DESC = "Downloading bytes"


def byte_bar_class(on_bytes: ByteProgress, cancel: CancelToken) -> type:
    """A tqdm class for ``tqdm_class=``: draws nothing, sums the byte bars, raises Cancelled when asked."""
    from huggingface_hub.utils import tqdm as hub_tqdm

    lock = threading.Lock()
    counted: list = []

    def report() -> None:
        totals = [bar.total for bar in counted]
        total = None if any(t is None for t in totals) else int(sum(totals))
        on_bytes(int(sum(bar.n for bar in counted)), total)

    class ByteCounter(hub_tqdm):
        def __init__(self, *args, **kwargs):
            name = kwargs.get("name") or ""
            kwargs["disable"] = True  # never draw: the caller reports progress its own way
            super().__init__(*args, **kwargs)
            self.counts = (kwargs.get("unit") == "B" and not name.endswith(TRANSFER_BAR_NAME_SUFFIX)
                           and kwargs.get("desc") != TRANSFER_BAR_DESC)
            if self.counts:
                with lock:
                    counted.append(self)
                    report()

        def update(self, n=1):
            cancel.raise_if_cancelled("download cancelled")
            if self.counts:
                with lock:
                    self.n += n or 0
                    report()

        def refresh(self, *args, **kwargs):  # a total changed (files are added as they start)
            if getattr(self, "counts", False):
                with lock:
                    report()

    return ByteCounter
