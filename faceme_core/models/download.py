"""Fetching components from the Hugging Face Hub and insightface's model zoo (``HubFetcher``).

The task around it (what to fetch, progress, cancel) is ``faceme_core.tasks.download_models``.
Hub components go into the Hugging Face cache (not a copy under the model folder): a download that
was stopped continues with the files it lacks (the file in progress starts over), HF_HOME / HF_HUB_CACHE / HF_TOKEN / HF_HUB_OFFLINE apply as for any Hub tool, and a RealVisXL that a
user already has in that cache is found by ``store`` instead of being fetched again. Byte progress
and cancel go through huggingface_hub's ``tqdm_class`` (``byte_progress``). antelopev2 goes where insightface expects it, under the model
folder (``<models_dir>/insightface/models/antelopev2``). HF_HUB_OFFLINE=1 blocks both: one switch keeps
the app off the network.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from faceme_core.errors import FaceMeError
from faceme_core.models.byte_progress import ByteProgress, byte_bar_class
from faceme_core.models.discover import discover
from faceme_core.models.install import destination_of, install, files_to_install
from faceme_core.models.manifest import FACEME_PATTERNS, base_weight_files, component
from faceme_core.models.store import hf_hub_cache
from faceme_core.models.verify import verify_component
from faceme_core.tasks import Cancelled, CancelToken

IMPORT_HINT = "copy the model files from a machine that has them and run `faceme models import DIR`"


class ModelDownloadError(FaceMeError):
    """A component could not be downloaded (offline, unreachable, refused, or not what was expected)."""


@dataclass(frozen=True)
class DownloadResult:
    name: str
    outcome: Literal["downloaded", "already installed"]
    path: Path
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"name": self.name, "outcome": self.outcome, "path": str(self.path), "warnings": list(self.warnings)}


def offline_mode() -> bool:
    """HF_HUB_OFFLINE as the Hub reads it, checked now (the Hub reads it once, at import)."""
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in {"1", "ON", "YES", "TRUE"} or bool(constants.HF_HUB_OFFLINE)


class HubFetcher:
    """Fetches components over the network: the Hub for the diffusion parts, insightface's model zoo
    for antelopev2 (which reports no bytes and is cancelled only before it starts)."""

    uses_network = True

    def fetch(self, names: tuple[str, ...], models_dir: Path, *, on_bytes: ByteProgress,
              cancel: CancelToken) -> list[DownloadResult]:
        bars = byte_bar_class(on_bytes, cancel)
        try:
            if names == ("base",):
                return [_download_base(bars)]
            if set(names) <= {"controlnet", "mix"}:
                return _download_faceme(list(names), bars)
            if names == ("photomaker",):
                return [_download_photomaker(bars)]
            if names == ("antelopev2",):
                return [_download_antelopev2(models_dir)]
        except Exception as error:  # stopped by our cancel, however the downloader reports it
            if cancel.cancelled:
                raise Cancelled("download cancelled") from error
            raise
        raise ValueError(f"no download for {names}")


def download_sources(names: list[str]) -> str:
    hosts = sorted({"huggingface.co" if component(n).source == "hf" else "github.com (insightface)" for n in names})
    return " and ".join(hosts)


def _network_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]  # HfHubHTTPError, LocalEntryNotFoundError, ConnectionError...
    try:
        import httpx2

        errors.append(httpx2.HTTPError)
    except ImportError:
        pass
    try:
        import requests

        errors.append(requests.RequestException)
    except ImportError:
        pass
    return tuple(errors)


def _unreachable(what: str, error: BaseException) -> ModelDownloadError:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ModelDownloadError(f"could not download {what}: {reason}. Check the connection (and HF_TOKEN), or {IMPORT_HINT}.")


def _check(name: str, path: Path) -> tuple[str, ...]:
    report = verify_component(name, path, deep=True)
    if not report.ok:
        raise ModelDownloadError(
            f"downloaded {name} to {path} but it is not what FaceMe expects: {'; '.join(report.errors)}"
        )
    return tuple(report.warnings)


def _download_base(bars: type) -> DownloadResult:
    import huggingface_hub

    spec = component("base")
    try:
        repo_files = huggingface_hub.HfApi().list_repo_files(spec.repo_id, revision=spec.revision)
        files = base_weight_files(list(repo_files))
        snapshot = huggingface_hub.snapshot_download(
            spec.repo_id, revision=spec.revision, allow_patterns=files, cache_dir=hf_hub_cache(), tqdm_class=bars
        )
    except _network_errors() as error:
        raise _unreachable(f"{spec.repo_id} from huggingface.co", error) from error
    path = Path(snapshot)
    return DownloadResult("base", "downloaded", path, _check("base", path))


def _download_faceme(parts: list[str], bars: type) -> list[DownloadResult]:
    import huggingface_hub

    spec = component("controlnet")
    try:
        snapshot = Path(
            huggingface_hub.snapshot_download(
                spec.repo_id, revision=spec.revision, allow_patterns=list(FACEME_PATTERNS), cache_dir=hf_hub_cache(),
                tqdm_class=bars,
            )
        )
    except _network_errors() as error:
        raise _unreachable(f"{spec.repo_id} from huggingface.co", error) from error
    # The repository's layout is not documented: say plainly what was and was not found in it.
    found = discover(snapshot)
    results = []
    for name in parts:
        places = found.of(name)
        if not places:
            listing = sorted(str(p.relative_to(snapshot)) for p in snapshot.rglob("*") if p.is_file())
            what = "a config.json with _class_name ControlNetModel" if name == "controlnet" else "a mix.safetensors"
            raise ModelDownloadError(
                f"downloaded {spec.repo_id} to {snapshot} but did not find {what} in it; files: "
                f"{', '.join(listing[:30]) or 'none'}. If you have the FaceMe weights elsewhere, {IMPORT_HINT}."
            )
        results.append(DownloadResult(name, "downloaded", places[0], _check(name, places[0])))
    return results


def _download_photomaker(bars: type) -> DownloadResult:
    import huggingface_hub

    spec = component("photomaker")
    try:
        path = huggingface_hub.hf_hub_download(
            spec.repo_id, spec.allow_patterns[0], revision=spec.revision, cache_dir=hf_hub_cache(), tqdm_class=bars
        )
    except _network_errors() as error:
        raise _unreachable(f"{spec.allow_patterns[0]} from {spec.repo_id} on huggingface.co", error) from error
    return DownloadResult("photomaker", "downloaded", Path(path), _check("photomaker", Path(path)))


def _download_antelopev2(models_dir: Path) -> DownloadResult:
    from insightface.utils import storage

    destination = destination_of("antelopev2", models_dir)
    # insightface extracts into <root>/models/antelopev2 (the zip may nest another antelopev2/ inside):
    # download into a private root, then install the pack folder atomically.
    scratch = destination.parent.parent / f".download-{uuid.uuid4().hex[:8]}"
    try:
        try:
            with contextlib.redirect_stdout(sys.stderr):  # it prints to stdout, which --json keeps clean
                storage.download("models", "antelopev2", force=True, root=str(scratch))
        except (*_network_errors(), zipfile.BadZipFile, RuntimeError) as error:
            raise _unreachable("antelopev2 from insightface's model zoo (github.com)", error) from error
        packs = discover(scratch).of("antelopev2")
        if not packs:
            raise ModelDownloadError(f"the antelopev2 download holds no glintr100.onnx + scrfd_10g_bnkps.onnx ({scratch})")
        warnings = _check("antelopev2", packs[0])
        install(files_to_install("antelopev2", packs[0]), destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return DownloadResult("antelopev2", "downloaded", destination, warnings)
