"""Model downloads as a task: byte progress with ETA, cancel, and the next try fetching only the rest."""

from __future__ import annotations

from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub import constants

from faceme_core.models.download import DownloadResult, ModelDownloadError
from faceme_core.models.store import component_status
from faceme_core.tasks import Cancelled, CancelToken, TaskProgress
from faceme_core.tasks.download_models import download_models
from tests.models.helpers import fake_hf_snapshot
from tests.models.test_download import REALVIS_FILES

CHUNK = 4096


class FakeFetcher:
    """Writes each component as one file in chunks, reporting bytes; keeps a partial file on cancel
    and continues it next time, as a resuming downloader does."""

    uses_network = False

    def __init__(self, tmp_path: Path, size: int = 10 * CHUNK):
        self.folder, self.size, self.calls = tmp_path / "fetched", size, []

    def fetch(self, names, models_dir, *, on_bytes, cancel):
        self.calls.append(names)
        self.folder.mkdir(exist_ok=True)
        part = self.folder / f"{'+'.join(names)}.part"
        done = part.stat().st_size if part.exists() else 0
        with part.open("ab") as f:
            while done < self.size:
                cancel.raise_if_cancelled()
                f.write(b"\0" * CHUNK)
                done += CHUNK
                on_bytes(done, self.size)
        return [DownloadResult(name, "downloaded", part) for name in names]


def test_progress_reports_bytes_and_eta_per_download(tmp_path):
    fetcher, events = FakeFetcher(tmp_path), []
    results = download_models(["faceme", "photomaker"], tmp_path / "models", progress=events.append, fetcher=fetcher)

    assert [r.name for r in results] == ["controlnet", "mix", "photomaker"]  # the order asked
    assert fetcher.calls == [("controlnet", "mix"), ("photomaker",)]  # one download per repository
    faceme = [e for e in events if e.item == "controlnet, mix"]
    assert faceme[0] == TaskProgress("downloading", 0, None, item="controlnet, mix", message="download 1/2")
    assert [e.done for e in faceme[1:]] == [CHUNK * i for i in range(1, 11)] and faceme[-1].total == 10 * CHUNK
    assert faceme[-1].eta_seconds == 0.0 and all(e.eta_seconds is not None for e in faceme[3:])


def test_cancel_stops_the_download_and_the_next_try_continues(tmp_path):
    fetcher, cancel = FakeFetcher(tmp_path), CancelToken()
    seen: list[int] = []

    def progress(event: TaskProgress) -> None:
        seen.append(event.done)
        if event.done >= 3 * CHUNK:
            cancel.cancel()

    with pytest.raises(Cancelled):
        download_models(["photomaker", "mix"], tmp_path / "models", progress=progress, cancel=cancel, fetcher=fetcher)
    assert max(seen) == 3 * CHUNK and fetcher.calls == [("mix",)]  # stopped mid-file, photomaker not begun

    events: list[TaskProgress] = []
    download_models(["photomaker", "mix"], tmp_path / "models", progress=events.append, fetcher=fetcher)
    mix = [e.done for e in events if e.item == "mix" and e.done]
    assert mix[0] == 4 * CHUNK and mix[-1] == 10 * CHUNK  # continued from where it stopped


def test_a_cancel_before_it_starts_fetches_nothing(tmp_path):
    fetcher, cancel = FakeFetcher(tmp_path), CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        download_models(["photomaker"], tmp_path / "models", cancel=cancel, fetcher=fetcher)
    assert fetcher.calls == []


# --- the Hub fetcher, with huggingface_hub's network functions replaced ------------------------------


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def chunked_hub(monkeypatch, tiny_models):
    """A Hub that fills the cache file by file, reporting bytes to ``tqdm_class`` as huggingface_hub
    2.x does (a disk-bytes bar and a network-bytes twin), and skips files already in the cache."""
    fetched: list[str] = []

    def snapshot_download(repo_id, *, revision=None, allow_patterns=None, cache_dir=None, tqdm_class=None, **kw):
        snapshot = fake_hf_snapshot(Path(cache_dir), repo_id)
        source = tiny_models.base_model
        files = sorted(p for p in source.rglob("*") if p.is_file())
        disk = tqdm_class(total=0, unit="B", desc="Reconstructing", name="huggingface_hub.snapshot_download")
        network = tqdm_class(total=0, unit="B", desc="Downloading bytes",
                             name="huggingface_hub.snapshot_download.transfer")
        for path in files:
            target = snapshot / path.relative_to(source)
            if target.exists():
                continue
            data = path.read_bytes()
            disk.total += len(data)
            disk.refresh()
            partial = target.with_name(target.name + ".incomplete")
            partial.parent.mkdir(parents=True, exist_ok=True)
            try:
                with partial.open("wb") as f:
                    for start in range(0, len(data), CHUNK):
                        f.write(data[start:start + CHUNK])
                        disk.update(len(data[start:start + CHUNK]))
                        network.update(len(data[start:start + CHUNK]))
                partial.rename(target)
            finally:
                partial.unlink(missing_ok=True)  # as huggingface_hub 2.x: no partial file is kept
            fetched.append(str(path.relative_to(source)))
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files", lambda self, repo_id, revision=None, **kw: REALVIS_FILES)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return fetched


def test_hub_downloads_report_disk_bytes_and_a_cancel_keeps_finished_files(online, chunked_hub, tiny_models,
                                                                            hf_cache):
    sizes = sorted((p.stat().st_size for p in tiny_models.base_model.rglob("*") if p.is_file()), reverse=True)
    cancel, events = CancelToken(), []

    def progress(event: TaskProgress) -> None:
        events.append(event)
        if chunked_hub:  # the first file is complete: the user cancels
            cancel.cancel()

    with pytest.raises(Cancelled):
        download_models(["base"], progress=progress, cancel=cancel)
    assert len(chunked_hub) == 1
    assert max(e.done for e in events) <= sum(sizes)  # network bytes are not counted twice
    assert not list(hf_cache.rglob("*.incomplete"))
    assert component_status("base").state != "installed"

    events.clear()
    [result] = download_models(["base"], progress=events.append)
    assert result.outcome == "downloaded" and component_status("base").state == "installed"
    assert len(chunked_hub) == len(sizes) and len(set(chunked_hub)) == len(sizes)  # none fetched twice
    last = events[-1]
    assert last.item == "base" and last.done == last.total == sum(sizes) - _size_of(tiny_models, chunked_hub[0])


def _size_of(tiny_models, relative: str) -> int:
    return (tiny_models.base_model / relative).stat().st_size


def test_offline_mode_refuses_network_fetchers_only(tmp_path):
    # HF_HUB_OFFLINE=1 comes from the suite's autouse fixture.
    with pytest.raises(ModelDownloadError, match="HF_HUB_OFFLINE"):
        download_models(["photomaker"], tmp_path / "models")
    assert download_models(["photomaker"], tmp_path / "models", fetcher=FakeFetcher(tmp_path))[0].outcome == "downloaded"
