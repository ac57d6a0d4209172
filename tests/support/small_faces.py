"""Restore sessions at a small face size, for tests on tiny models (the released weights need 512).

``use_small_faces(monkeypatch)`` makes every ``RestoreSession.open`` in the test build its Restorer at
``SMALL_FACE`` px; ``python -m tests.support.small_faces ARGS`` runs the ``faceme`` CLI the same way in
a subprocess (killed jobs, accelerate launch). Everything else (detection, alignment, paste-back,
files, the job database) runs as users run it.
"""

from __future__ import annotations

import sys

SMALL_FACE = 64


def _patch_open(setattr_) -> None:
    from faceme_core.restore.session import RestoreSession

    original = RestoreSession.open.__func__

    def open_small(cls, *args, **kwargs):
        kwargs.setdefault("face_size", SMALL_FACE)
        return original(cls, *args, **kwargs)

    setattr_(RestoreSession, "open", classmethod(open_small))


def use_small_faces(monkeypatch) -> None:
    _patch_open(monkeypatch.setattr)


def main() -> int:
    from faceme_core.cli.main import main as faceme_main

    _patch_open(setattr)
    return faceme_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
