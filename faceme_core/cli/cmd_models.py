"""`faceme models`: status, download, import, path and verify of the model components."""

from __future__ import annotations

import argparse
from pathlib import Path

from faceme_core.cli.common import UserArgumentParser, add_command, info, print_json

COMPONENTS_HELP = "base, controlnet, mix, photomaker, antelopev2"


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "models",
        help="install and check the model files FaceMe needs",
        handler=_no_action,
        description=(
            "Install and check FaceMe's model components: "
            f"{COMPONENTS_HELP} (download 'faceme' = controlnet + mix)."
        ),
    )
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION", parser_class=UserArgumentParser)
    actions.required = True

    status = _action(actions, "status", "show each component: installed, missing or invalid, where, size", _run_status)
    status.add_argument("--json", action="store_true", help="machine-readable output")

    download = _action(actions, "download", "download components (Hugging Face Hub, insightface model zoo)", _run_download)
    download.add_argument(
        "components", nargs="*", metavar="COMPONENT", help=f"{COMPONENTS_HELP}, faceme or all (default: all)"
    )
    download.add_argument("--force", action="store_true", help="download even when already installed")
    download.add_argument("--json", action="store_true", help="machine-readable output")

    imp = _action(actions, "import", "install components copied from elsewhere, found by content in DIR", _run_import)
    imp.add_argument("dir", type=Path, metavar="DIR", help="folder holding the copied model files (searched recursively)")
    imp.add_argument("--json", action="store_true", help="machine-readable output")

    path = _action(actions, "path", "print the model folder and where each component resolves", _run_path)
    path.add_argument("--json", action="store_true", help="machine-readable output")

    verify = _action(actions, "verify", "check a component file or folder against what the engine expects", _run_verify)
    verify.add_argument("path", type=Path, metavar="PATH", help="a component file or folder")
    verify.add_argument("--component", choices=COMPONENTS_HELP.split(", "), help="which component PATH is (default: guess)")
    verify.add_argument("--json", action="store_true", help="machine-readable output")


def _action(actions, name: str, help: str, handler) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=help, description=help)
    # SUPPRESS: `faceme models -v status` keeps the -v given before the action.
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="show details")
    parser.set_defaults(handler=handler)
    return parser


def _no_action(args) -> int:  # argparse requires an action; kept for completeness
    return 2


def _human_size(size: int | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


def _run_status(args) -> int:
    from faceme_core.models.manifest import component
    from faceme_core.models.store import hf_hub_cache, model_status
    from faceme_core.paths import models_dir

    statuses = model_status()
    if args.json:
        print_json(
            {
                "models_dir": str(models_dir()),
                "hf_cache": str(hf_hub_cache()),
                "ready": all(s.state == "installed" for s in statuses),
                "components": [s.to_json() for s in statuses],
            }
        )
        return 0
    print(f"model folder: {models_dir()}")
    print(f"Hugging Face cache: {hf_hub_cache()}")
    for s in statuses:
        if s.path:
            where = f"{s.path} ({s.source})"
        else:
            spec = component(s.name)
            where = f"from {spec.repo_id}, about {_human_size(spec.approx_bytes)}"
        print(f"{s.name:<11} {s.state:<9} {_human_size(s.size_bytes):>9}  {where}")
        for message in s.errors:
            print(f"            error: {message}")
        for message in s.warnings:
            print(f"            warning: {message}")
    if any(s.state != "installed" for s in statuses):
        from faceme_core.models.store import REMEDY

        print(REMEDY)
    return 0


def _run_download(args) -> int:
    from faceme_core.cli.cmd_scan import ProgressPrinter, format_eta
    from faceme_core.cli.interrupt import CANCELLED_EXIT_CODE, cancel_on_interrupt
    from faceme_core.tasks import Cancelled, CancelToken
    from faceme_core.tasks.download_models import download_models

    printer = ProgressPrinter()

    def progress(event) -> None:  # on stderr: --json keeps stdout for the results
        of = "" if event.total is None else f" of {_human_size(event.total)}"
        printer(f"{event.item}: {_human_size(event.done)}{of}, {format_eta(event.eta_seconds)}",
                final=event.total is not None and event.done >= event.total)

    try:
        with cancel_on_interrupt(CancelToken()) as cancel:
            results = download_models(args.components or ["all"], force=args.force, progress=progress, cancel=cancel)
    except Cancelled:
        info("download cancelled; run the same command again to continue (files already downloaded are kept)")
        return CANCELLED_EXIT_CODE
    if args.json:
        print_json([r.to_json() for r in results])
        return 0
    for r in results:
        print(f"{r.name:<11} {r.outcome:<17} {r.path}")
        for message in r.warnings:
            print(f"            warning: {message}")
    return 0


def _run_import(args) -> int:
    from faceme_core.models.install import import_models

    info(f"searching {args.dir} ...")
    results = import_models(args.dir)
    if args.json:
        print_json([r.to_json() for r in results])
    else:
        for r in results:
            line = f"{r.name:<11} {r.outcome:<17}"
            if r.source:
                line += f" {r.source}" + (f" -> {r.destination}" if r.destination and r.destination != r.source else "")
            print(line)
            for message in r.errors:
                print(f"            error: {message}")
            for message in r.warnings:
                print(f"            warning: {message}")
    # Exit 2 when something found could not be used, or when the folder held nothing at all.
    failed = any(r.outcome == "invalid" for r in results)
    nothing = all(r.outcome == "not found" for r in results)
    return 2 if failed or nothing else 0


def _run_path(args) -> int:
    from faceme_core.models.store import model_status
    from faceme_core.paths import models_dir

    statuses = model_status()
    if args.json:
        print_json(
            {"models_dir": str(models_dir()), "components": {s.name: str(s.path) if s.path else None for s in statuses}}
        )
        return 0
    print(models_dir())
    for s in statuses:
        print(f"  {s.name:<11} {s.path if s.path else '(' + s.state + ')'}")
    return 0


def _run_verify(args) -> int:
    from faceme_core.models.verify import verify_path

    report = verify_path(args.path, args.component)
    if args.json:
        print_json(report.to_json())
    else:
        print(report.to_text())
    return 0 if report.ok else 2
