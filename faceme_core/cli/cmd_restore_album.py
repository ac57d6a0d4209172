"""`faceme restore-album`: restore the faces of many album photos as one resumable job."""

from __future__ import annotations

import os

from faceme_core.cli.cmd_scan import ProgressPrinter, add_library_option, format_eta, id_arg, open_library
from faceme_core.cli.common import add_command, print_json
from faceme_core.cli.engine_options import add_engine_options, restore_options_from_args
from faceme_core.errors import FaceMeError

DESCRIPTION = """\
Restore every face of the selected photos with the references of the person it belongs to (faces of
people without references are restored blind, and reported). Outputs are written under --out-dir,
mirroring the album's folders (OUT_DIR/<album folder>/<path in the album>); originals are never
touched. An --out-dir inside an album folder, or holding one, is refused; FaceMe never scans its
output folders as albums.

The job is saved in the library: Ctrl+C pauses it (the photo in progress stops at once and is
redone later), and after a crash or a reboot 'faceme restore-album --resume JOB' continues where it
stopped (no photo done twice, none lost). Photos that failed are tried again with --retry-failed JOB.

  faceme restore-album --person Anna --out-dir ~/Restored     photos with Anna in them
  faceme restore-album --photo a.jpg --photo b.jpg --out-dir D these photos
  faceme restore-album --out-dir ~/Restored                   every photo with faces
  faceme restore-album --list | --show JOB | --resume JOB | --retry-failed JOB | --cancel JOB
"""


def register(subparsers):
    parser = add_command(
        subparsers,
        "restore-album",
        help="restore many album photos as one resumable job",
        handler=run,
        description=DESCRIPTION,
    )
    add_library_option(parser)
    parser.add_argument(
        "--person", action="append", default=[], metavar="PERSON", help="restore the photos of this person (repeatable)"
    )
    parser.add_argument(
        "--photo", action="append", default=[], metavar="PATH", help="restore this scanned photo (repeatable)"
    )
    parser.add_argument("--out-dir", metavar="DIR", help="where restored copies are written")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--resume", type=id_arg, metavar="JOB", help="continue a paused or interrupted job")
    what.add_argument("--retry-failed", type=id_arg, metavar="JOB",
                      help="try a job's failed photos again (then continue it like --resume)")
    what.add_argument("--list", action="store_true", help="list restore jobs")
    what.add_argument("--show", type=id_arg, metavar="JOB", help="show a job's photos and their faces' outcomes")
    what.add_argument("--cancel", type=id_arg, metavar="JOB", help="cancel a job for good")
    parser.add_argument("--json", action="store_true", help="(--list, --show) print JSON on stdout")
    engine = parser.add_argument_group("restoration settings (kept with a new job and reused by --resume)")
    add_engine_options(engine)


def _open_restorer(settings_json: dict, args):
    """Load the engine for a job (ModelMissingError names what is missing): done before a job exists."""
    try:
        from faceme_core.restore.album_adapter import AlbumRestoreSettings, open_album_restorer

        settings = AlbumRestoreSettings.from_json(settings_json)
        settings.restore.validate()
    except (TypeError, ValueError) as error:
        raise FaceMeError(f"the job's restoration settings are not usable: {error}") from None
    try:
        return open_album_restorer(settings, device=args.device, offload=args.offload)
    except ValueError as error:  # a --device this machine does not have
        raise FaceMeError(str(error)) from None


def _parser_defaults(args):
    """The namespace the restoration options would have with nothing given on the command line."""
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    add_engine_options(parser)
    return argparse.Namespace(**{**vars(args), **vars(parser.parse_args([]))})


def _settings_json(args) -> dict:
    from faceme_core.restore.album_adapter import AlbumRestoreSettings

    return AlbumRestoreSettings(restore=restore_options_from_args(args), upscale=args.upscale).to_json()


def _print_jobs(jobs_list, as_json: bool) -> None:
    if as_json:
        print_json([{**vars(job), "out_dir": str(job.out_dir)} for job in jobs_list])
        return
    for job in jobs_list:
        print(
            f"job {job.id}: {job.state}, {job.done}/{job.total} done, {job.failed} failed, "
            f"{job.pending} to do -> {job.out_dir}"
        )
    if not jobs_list:
        print("no restore jobs")


def _print_items(items, as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {
                    "photo": str(item.photo_path),
                    "output": str(item.output_path),
                    "state": item.state,
                    "error": item.error,
                    "faces": [face.to_json() for face in item.faces],
                }
                for item in items
            ]
        )
        return
    for item in items:
        blind = sum(face.mode == "blind" for face in item.faces)
        detail = (
            f": {item.error}" if item.error else (f" ({blind} face(s) restored blind: no usable references)" if blind else "")
        )
        print(f"{item.state:>9}  {item.photo_path}{detail}")


def run(args):
    from faceme_core.library import jobs

    with open_library(args) as library:
        if args.list:
            _print_jobs(jobs.list_jobs(library), args.json)
            return 0
        if args.show is not None:
            _print_items(jobs.job_items(library, args.show), args.json)
            return 0
        if args.cancel is not None:
            jobs.cancel_job(library, args.cancel)
            print(f"job {args.cancel} cancelled")
            return 0
        if args.resume is not None or args.retry_failed is not None:
            flag = "--resume" if args.resume is not None else "--retry-failed"
            if args.person or args.photo or args.out_dir:
                raise FaceMeError(f"{flag} JOB takes no --person, --photo or --out-dir: the job keeps its own")
            if _settings_json(args) != _settings_json(_parser_defaults(args)):
                raise FaceMeError(f"{flag} JOB keeps the job's restoration settings (so all its photos match); "
                                  "only --device and --offload may change. Create a new job for other settings")
            job_id = args.resume if args.resume is not None else args.retry_failed
            jobs.check_resumable(library, job_id)  # cancelled or running elsewhere: say so before loading the engine
            if args.retry_failed is not None:
                retried = jobs.retry_failed(library, job_id)
                print(f"job {job_id}: {retried} failed photo(s) will be tried again")
                if jobs.job_info(library, job_id).pending == 0:
                    return 0
            restore = _open_restorer(jobs.job_options(library, job_id), args)
        else:
            if not args.out_dir:
                raise FaceMeError("--out-dir DIR is required: where the restored copies go")
            settings = _settings_json(args)
            # A wrong --person, --photo or --out-dir fails at once, not after loading the engine.
            jobs.check_job(library, args.out_dir, people=args.person, photos=args.photo)
            restore = _open_restorer(settings, args)  # before creating the job: no orphan job without an engine
            job_id = jobs.create_job(library, args.out_dir, people=args.person, photos=args.photo, options=settings)
            print(f"job {job_id} created")
        return _run(library, job_id, restore)


def _run(library, job_id: int, restore) -> int:
    from faceme_core.cli.interrupt import CANCELLED_EXIT_CODE, cancel_on_interrupt
    from faceme_core.library import jobs
    from faceme_core.tasks import Cancelled, CancelToken

    printer = ProgressPrinter()

    def progress(event):
        if event.stage != jobs.JOB_STAGE:  # the photo's own denoising steps: too many lines for a terminal
            return
        where = f" - {os.path.basename(event.item)}" if event.item else ""
        printer(f"{event.message}, {format_eta(event.eta_seconds)}{where}", final=event.item is None)

    try:
        with cancel_on_interrupt(CancelToken()) as cancel:
            info = jobs.run_job(library, job_id, restore, progress=progress, cancel=cancel)
    except (Cancelled, KeyboardInterrupt):  # Ctrl+C: the photo in progress is left to do, nothing failed
        jobs.pause_job(library, job_id)
        print(f"job {job_id} paused (cancelled); continue with 'faceme restore-album --resume {job_id}'")
        return CANCELLED_EXIT_CODE
    failed = [item for item in jobs.job_items(library, job_id) if item.state == "failed"]
    blind = sum(face.mode == "blind" for item in jobs.job_items(library, job_id) for face in item.faces)
    print(
        f"job {job_id} {info.state}: {info.done}/{info.total} photos restored into {info.out_dir}, {info.failed} failed"
    )
    for item in failed:
        print(f"failed: {item.photo_path}: {item.error}")
    if failed:
        print(f"once fixed, try them again with 'faceme restore-album --retry-failed {job_id}'")
    if blind:
        print(f"{blind} face(s) restored blind: no usable references (see --show {job_id}; add some with "
              "'faceme refs suggest PERSON')")
    if info.state == "paused":
        print(f"paused; continue with 'faceme restore-album --resume {job_id}'")
    return 0 if not failed else 1
