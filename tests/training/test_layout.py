"""The data layout's JSON-lines files: round trip and clear errors for malformed lines."""

from __future__ import annotations

import pytest

from training.layout import (
    DataLayout,
    ManifestEntry,
    PoolEntry,
    TrainingDataError,
    read_manifest,
    read_pools,
    write_lines,
)


def test_pools_round_trip(tmp_path):
    entries = [PoolEntry("gt/a.png", ("refs/a/0.png", "refs/a/1.png")), PoolEntry("gt/b.png", ())]
    write_lines(tmp_path / "pools.jsonl", entries)
    assert read_pools(tmp_path / "pools.jsonl") == entries


@pytest.mark.parametrize("line, message", [
    ("{not json", "not valid JSON"),
    ('{"gt": "gt/a.png"}', "keys gt, references"),
    ('{"gt": "/abs/a.png", "references": []}', "relative path"),
    ('{"gt": "../a.png", "references": []}', "relative path"),
    ('{"gt": "gt/a.png", "references": "refs/a.png"}', "list of paths"),
])
def test_a_bad_pool_line_is_named_with_its_line_number(tmp_path, line, message):
    path = tmp_path / "pools.jsonl"
    path.write_text('{"gt": "gt/ok.png", "references": []}\n' + line + "\n")
    with pytest.raises(TrainingDataError, match=message) as error:
        read_pools(path)
    assert "pools.jsonl:2" in str(error.value)


def test_manifest_is_checked_against_the_files(tmp_path):
    layout = DataLayout(tmp_path)
    entry = ManifestEntry("gt/a.png", (layout.features_relative("gt/a.png"),))
    write_lines(layout.manifest, [entry])
    with pytest.raises(TrainingDataError, match="missing file"):
        read_manifest(layout)
    assert read_manifest(layout, check_files=False) == [entry]
    layout.image("gt/a.png").parent.mkdir(parents=True)
    layout.image("gt/a.png").write_bytes(b"x")
    layout.features(entry.pool[0]).parent.mkdir(parents=True)
    layout.features(entry.pool[0]).write_bytes(b"x")
    assert read_manifest(layout) == [entry]


def test_duplicate_ground_truths_and_empty_pools_are_refused(tmp_path):
    layout = DataLayout(tmp_path)
    layout.prepared.mkdir()
    layout.manifest.write_text('{"gt": "gt/a.png", "pool": []}\n')
    with pytest.raises(TrainingDataError, match="non-empty"):
        read_manifest(layout, check_files=False)
    write_lines(layout.pools, [PoolEntry("gt/a.png", ()), PoolEntry("gt/a.png", ())])
    with pytest.raises(TrainingDataError, match="more than once"):
        read_pools(layout.pools)
