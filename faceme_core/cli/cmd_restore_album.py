"""`faceme restore-album`: restore the faces of many album photos as one resumable job."""

from __future__ import annotations

from faceme_core.cli.cmd_scan import ProgressPrinter, add_library_option, format_eta, open_library
from faceme_core.cli.common import add_command, print_json
from faceme_core.errors import FaceMeError

DESCRIPTION = """\
Restore every face of the selected photos with the references of the person it belongs to (faces of
people without references are restored blind, and reported). Outputs are written under --out-dir,
mirroring the album's folders (OUT_DIR/<album folder>/<path in the album>); originals are never
touched. An --out-dir inside an album folder, or holding one, is refused; FaceMe never scans its
output folders as albums.

The job is saved in the library: Ctrl+C pauses it, and after a crash or a reboot
'faceme restore-album --resume JOB' continues where it stopped (no photo done twice, none lost).

  faceme restore-album --person Anna --out-dir ~/Restored     photos with Anna in them
  faceme restore-album --photo a.jpg --photo b.jpg --out-dir D these photos
  faceme restore-album --out-dir ~/Restored                   every photo with faces
  faceme restore-album --list | --show JOB | --resume JOB | --cancel JOB
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
    what.add_argument("--resume", type=int, metavar="JOB", help="continue a paused or interrupted job")
    what.add_argument("--list", action="store_true", help="list restore jobs")
    what.add_argument("--show", type=int, metavar="JOB", help="show a job's photos and their faces' outcomes")
    what.add_argument("--cancel", type=int, metavar="JOB", help="cancel a job for good")
    parser.add_argument("--json", action="store_true", help="(--list, --show) print JSON on stdout")


def _restore_function():
    """The engine's per-photo restoration, imported only when a job is run."""
    try:
        from faceme_core.restore.album_adapter import restore_photo_task
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith("faceme_core.restore"):
            raise FaceMeError("the restoration engine is not installed yet") from error
        raise
    except ImportError as error:
        raise FaceMeError(f"the restoration engine is not installed yet ({error})") from error
    return restore_photo_task


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
                    "faces": [vars(face) for face in item.faces],
                }
                for item in items
            ]
        )
        return
    for item in items:
        blind = sum(face.mode == "blind" for face in item.faces)
        detail = (
            f": {item.error}" if item.error else (f" ({blind} face(s) restored blind: no references)" if blind else "")
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
        if args.resume is not None:
            if args.person or args.photo or args.out_dir:
                raise FaceMeError("--resume JOB takes no --person, --photo or --out-dir: the job keeps its own")
            job_id = args.resume
            if jobs.job_info(library, job_id).state == "cancelled":  # say so before needing the engine
                raise FaceMeError(f"job {job_id} was cancelled; create a new one to restore these photos")
            restore = _restore_function()
        else:
            if not args.out_dir:
                raise FaceMeError("--out-dir DIR is required: where the restored copies go")
            restore = _restore_function()  # before creating the job: no orphan job without an engine
            job_id = jobs.create_job(library, args.out_dir, people=args.person, photos=args.photo)
            print(f"job {job_id} created")
        return _run(library, job_id, restore)


def _run(library, job_id: int, restore) -> int:
    from faceme_core.library import jobs

    printer = ProgressPrinter()

    def progress(p):
        where = f" - {p.current.name}" if p.current else ""
        printer(
            f"{p.done}/{p.total} photos done, {p.failed} failed, {format_eta(p.eta_seconds)}{where}",
            final=p.current is None,
        )

    try:
        info = jobs.run_job(library, job_id, restore, progress=progress)
    except KeyboardInterrupt:
        jobs.pause_job(library, job_id)
        print(f"job {job_id} paused; continue with 'faceme restore-album --resume {job_id}'")
        return 130
    failed = [item for item in jobs.job_items(library, job_id) if item.state == "failed"]
    blind = sum(face.mode == "blind" for item in jobs.job_items(library, job_id) for face in item.faces)
    print(
        f"job {job_id} {info.state}: {info.done}/{info.total} photos restored into {info.out_dir}, {info.failed} failed"
    )
    for item in failed:
        print(f"failed: {item.photo_path}: {item.error}")
    if blind:
        print(f"{blind} face(s) restored blind (their people have no references: 'faceme refs suggest PERSON')")
    if info.state == "paused":
        print(f"paused; continue with 'faceme restore-album --resume {job_id}'")
    return 0 if not failed else 1
