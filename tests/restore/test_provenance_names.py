"""The provenance sidecar of an output whose name is near the file system's 255-byte limit: the output
can be written (atomic.temp_name), so its sidecar must be too, under a name found again by
``read_sidecar``; a sidecar that cannot be written is a FaceMeError, not an OSError traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from faceme_core.engine.options import RestoreOptions
from faceme_core.errors import ImageSaveError
from faceme_core.restore.provenance import RestoreRecord, read_sidecar, sidecar_path, write_sidecar


def _record(output: Path) -> RestoreRecord:
    return RestoreRecord(input=Path("in.jpg"), output=output, options=RestoreOptions(seed=3), upscale=1, faces=())


@pytest.mark.parametrize("stem", ["a" * 240, "é" * 120])  # 244 bytes with ".jpg", in ASCII and in UTF-8 pairs
def test_a_long_output_name_gets_a_sidecar_within_the_limit(tmp_path, stem):
    output = tmp_path / f"{stem}.jpg"
    output.write_bytes(b"restored")

    written = write_sidecar(_record(output))

    assert written == sidecar_path(output) and written.parent == tmp_path
    assert len(os.fsencode(written.name)) <= 255 and written.name.endswith(".faceme.json")
    assert read_sidecar(output)["settings"]["seed"] == 3


def test_two_long_names_differing_only_at_the_end_keep_separate_sidecars(tmp_path):
    first, second = tmp_path / ("b" * 245 + "1.png"), tmp_path / ("b" * 245 + "2.png")
    assert sidecar_path(first) != sidecar_path(second)


def test_short_names_keep_the_documented_sidecar_name(tmp_path):
    assert sidecar_path(tmp_path / "photo.jpg") == tmp_path / "photo.jpg.faceme.json"


def test_a_sidecar_that_cannot_be_written_is_a_faceme_error(tmp_path):
    output = tmp_path / "photo.jpg"
    sidecar_path(output).mkdir()  # a folder where the sidecar goes

    with pytest.raises(ImageSaveError, match="record of how it was made"):
        write_sidecar(_record(output))
