"""`faceme restore`: restore every face of whole photos with a person's reference photos."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from faceme_core.cli.common import add_command, info, print_json
from faceme_core.cli.error_text import error_json
from faceme_core.cli.engine_options import add_engine_options, as_flag_error, restore_options_from_args
from faceme_core.cli.interrupt import CANCELLED_EXIT_CODE, cancel_on_interrupt
from faceme_core.errors import FaceMeError
from faceme_core.tasks import Cancelled, CancelToken, TaskProgress

DESCRIPTION = """\
Restore the faces of whole photos with FaceMe, keeping the identity of the person in the reference
photos. Faces whose ArcFace similarity to the references is at least --match-threshold get the
references; the others are restored blind or left untouched (--others). Results are written as new
files (-o for one photo, --out-dir for several); inputs are never modified.

Many photos can be split across processes (one per GPU) with Hugging Face Accelerate:
  accelerate launch --multi_gpu --num_processes 2 -m faceme_core.cli.main restore *.jpg --ref me.jpg --out-dir out/

examples:
  faceme restore grandma_1952.jpg --ref grandma_1960.jpg -o grandma_1952_restored.jpg
  faceme restore scans/*.jpg --ref a.jpg --ref b.jpg --out-dir restored/ --sampler dpmpp-25 --json
"""


def register(subparsers) -> None:
    from faceme_core.restore.identity_match import IDENTITY_MATCH_THRESHOLD

    parser = add_command(subparsers, "restore", help="restore the faces of whole photos with reference photos",
                         description=DESCRIPTION, handler=run)
    parser.add_argument("photos", nargs="+", type=Path, metavar="PHOTO", help="photos to restore")
    parser.add_argument("--ref", action="append", type=Path, required=True, metavar="IMG",
                        help="a good photo of the person (repeat for several references)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", type=Path, metavar="OUT", help="output file (one photo only)")
    where.add_argument("--out-dir", type=Path, metavar="DIR", help="folder for the outputs (same file names)")
    add_engine_options(parser)
    parser.add_argument("--faces", choices=("all", "largest"), default="all", help="which faces to consider")
    parser.add_argument("--others", choices=("blind", "skip"), default="blind",
                        help="faces not matching the references: restore blind (default) or leave untouched")
    parser.add_argument("--match-threshold", type=float, default=IDENTITY_MATCH_THRESHOLD, metavar="S",
                        help=f"ArcFace similarity for a face to match the references (default {IDENTITY_MATCH_THRESHOLD})")
    parser.add_argument("--overwrite", action="store_true",
                        help="also replace existing files FaceMe did not write (earlier FaceMe outputs are "
                             "always replaced; the inputs and references never are)")
    parser.add_argument("--json", action="store_true", help="print a JSON report on stdout")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except FaceMeError as error:
        if args.json:  # a script reading stdout gets JSON either way; stderr still has the one line
            print_json({"photos": [], "error": error_json(error)})
        raise


def _run(args: argparse.Namespace) -> int:
    from faceme_core.restore.plan import PlanOptions
    from faceme_core.tasks.restore_photos import RestorePhotosRequest

    if args.output is not None and len(args.photos) > 1:
        raise FaceMeError(f"-o names one output file but {len(args.photos)} photos were given: use --out-dir")
    for path in [*args.photos, *args.ref]:
        if path.is_dir():
            raise FaceMeError("is a folder, not a photo", subject=path,
                              hint="give photo files (a whole album: 'faceme scan' it, then 'faceme restore-album')")
        if not path.is_file():
            raise FaceMeError(f"{path}: no such file")
    _check_outputs(args)
    options = restore_options_from_args(args)
    try:
        plan_options = PlanOptions(faces=args.faces, others=args.others, match_threshold=args.match_threshold)
    except ValueError as error:
        raise as_flag_error(error) from None

    photos, state = _this_process_share(args.photos)
    device = args.device if state is None else ("cpu" if state.device.type == "cpu" else str(state.device))
    request = RestorePhotosRequest(
        photos=tuple(photos), references=tuple(args.ref), output=args.output, out_dir=args.out_dir,
        options=options, plan=plan_options, upscale=args.upscale, overwrite=args.overwrite,
    )
    try:
        reports = [result.to_json() for result in _restore_all(request, args, device)]
    except Cancelled:
        info("cancelled: the photo in progress was not written; photos already restored are kept")
        return CANCELLED_EXIT_CODE
    if state is not None:
        _finish_distributed(state, reports, args.json)
    if args.json:
        print_json({"photos": reports})
    return _exit_code(reports)


def _exit_code(reports: list[dict]) -> int:
    return 0 if all(report.get("error") is None for report in reports) else 2


def _finish_distributed(state, reports: list[dict], as_json: bool) -> NoReturn:
    """Gather every process's reports, print them once, and end the process here.

    Left to interpreter shutdown, gloo's threads can abort a process even after the process group is
    destroyed ("terminate called without an active exception": about one run in three on the CPU).
    Nothing is left to clean up by then (outputs are written atomically, the group is torn down), so
    the process flushes its output and exits at once."""
    from accelerate.utils import gather_object

    reports = gather_object(reports)
    state.wait_for_everyone()
    state.destroy_process_group()
    if state.is_main_process and as_json:
        print_json({"photos": reports})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_code(reports))


def _restore_all(request, args, device):
    from faceme_core.restore.session import RestoreSession
    from faceme_core.tasks.restore_photos import restore_photos

    try:
        session = RestoreSession.open(device=device, offload=args.offload)
    except ValueError as error:  # a --device this machine does not have
        raise FaceMeError(str(error)) from None
    with cancel_on_interrupt(CancelToken()) as cancel:
        return restore_photos(request, session, progress=RestoreProgressPrinter(), cancel=cancel)


class RestoreProgressPrinter:
    """The CLI's view of the task: each finished photo, and the first and last step of each face."""

    def __init__(self) -> None:
        self._position = ""

    def __call__(self, event: TaskProgress) -> None:
        if event.stage == "photos":  # a photo finished
            info(event.message)
        elif event.stage == "analysing":  # a photo starts
            self._position = f"{event.done + 1}/{event.total}"
        elif event.stage == "sampling" and event.done in (1, event.total):
            info(f"[{self._position}] {event.item} step {event.done}/{event.total}")


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail before loading any model when an output cannot be written or would replace something."""
    from faceme_core.imageio import is_faceme_output
    from faceme_core.imageio.formats import format_for_suffix
    from faceme_core.imageio.output_path import check_output_path
    from faceme_core.restore.session import output_path_for

    outputs = [output_path_for(photo, output=args.output, out_dir=args.out_dir) for photo in args.photos]
    if args.output is not None and args.output.is_dir():  # else "cannot save as ''" would puzzle
        raise FaceMeError(f"-o {args.output}: is a folder; -o names the output file (give --out-dir for a folder)")
    folder = args.out_dir if args.out_dir is not None else args.output.parent
    if folder.exists() and not folder.is_dir():
        raise FaceMeError(f"{folder}: is a file, not a folder for the outputs")
    protected = {path.resolve(): path for path in [*args.photos, *args.ref]}
    seen: dict[Path, Path] = {}
    for photo, output in zip(args.photos, outputs):
        if format_for_suffix(output) is None:
            raise FaceMeError(f"{output}: cannot save as '{output.suffix}'; use .jpg, .png, .tif, .webp or .bmp")
        resolved = output.resolve()
        if resolved in protected:
            raise FaceMeError(f"{output}: the output would replace the input or reference "
                              f"{protected[resolved]}; choose another -o or --out-dir")
        check_output_path(output)  # a FIFO would hang the write: refused before any model loads
        if output.is_file() and not args.overwrite and not is_faceme_output(output):
            raise FaceMeError(f"{output}: a file FaceMe did not write is already there; choose another -o or "
                              "--out-dir, or pass --overwrite to replace it")
        if resolved in seen:
            raise FaceMeError(f"{seen[resolved]} and {photo} would both be written to {output}: "
                              "restore them into different folders")
        seen[resolved] = photo


def _this_process_share(photos: list[Path]):
    """Under `accelerate launch` with several processes, each takes its share of the photos."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return photos, None
    import torch
    from accelerate import PartialState

    # Without CUDA, accelerate only forms a process group when told to use the CPU (gloo).
    state = PartialState(cpu=not torch.cuda.is_available())
    with state.split_between_processes(photos) as share:
        return list(share), state
