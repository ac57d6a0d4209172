"""Table 1 as CSV and Markdown, plus a contact sheet (input | blind | with references | ground truth)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from faceme_core.imageio.atomic import write_atomically
from training.evaluation.metrics import PSNR_CAP
from training.evaluation.runner import (
    BLIND,
    FACE_SCORE_FIELDS,
    INPUT,
    METRICS,
    REFERENCES,
    Evaluation,
    SummaryRow,
    restored_path,
)
from training.evaluation.testset import TestFace
from training.imagefiles import read_rgb8, write_png

# Table 1's column order, names and the direction that is better.
COLUMNS = (("psnr", "PSNR", "up", 2), ("ssim", "SSIM", "up", 3), ("lpips", "LPIPS", "down", 3),
           ("musiq", "MUSIQ", "up", 2), ("fid", "FID", "down", 2), ("lmd", "LMD", "down", 3),
           ("ids", "IDS", "up", 3))
METHOD_LABELS = {INPUT: "Degraded input", BLIND: "FaceMe, blind (no references)", REFERENCES: "FaceMe, with references"}
# The paper's own row (CelebRef-HQ, 150 identities, 1-4 references), for orientation only: another test set.
PAPER_FACEME = {"psnr": 24.37, "ssim": 0.678, "lpips": 0.227, "musiq": 75.62, "fid": 51.01, "lmd": 2.908, "ids": 0.647}
SHEET_COLUMNS = ("input", "blind", "with references", "ground truth")


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    digits = next(d for m, _, _, d in COLUMNS if m == metric)
    return f"{value:.{digits}f}"


def csv_text(rows: Sequence[SummaryRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["method", "identity", "faces", *METRICS])
    for row in rows:
        writer.writerow([row.method, row.identity or "", row.faces,
                         *("" if row.values[m] is None else f"{row.values[m]:.6g}" for m in METRICS)])
    return out.getvalue()


def face_csv_text(evaluation: Evaluation) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FACE_SCORE_FIELDS)
    for face in evaluation.faces:
        writer.writerow(["" if getattr(face, f) is None else getattr(face, f) for f in FACE_SCORE_FIELDS])
    return out.getvalue()


def markdown_table(rows: Sequence[SummaryRow], *, first_column: str = "method", paper_row: bool = False) -> str:
    header = [first_column, "faces"] + [f"{name} {'↑' if d == 'up' else '↓'}" for _, name, d, _ in COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        label = METHOD_LABELS.get(row.method, row.method) if row.identity is None else f"{row.identity}: {row.method}"
        cells = [label, str(row.faces)] + [format_value(m, row.values[m]) for m, *_ in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    if paper_row:
        lines.append("| " + " | ".join(["paper: FaceMe on CelebRef-HQ", "-"]
                                        + [format_value(m, PAPER_FACEME[m]) for m, *_ in COLUMNS]) + " |")
    return "\n".join(lines) + "\n"


def markdown_report(evaluation: Evaluation, notes: Sequence[str] = ()) -> str:
    parts = ["# Evaluation (the layout of the paper's Table 1)\n",
             markdown_table(evaluation.methods, paper_row=True),
             "\nIDS: ArcFace (antelopev2 glintr100) cosine to the ground truth. LMD: mean distance of the 68 "
             f"1k3d68 landmarks, pixels at 512. FID over the whole set per method. PSNR capped at {PSNR_CAP:g} dB. "
             "The paper's row is another test set (CelebRef-HQ), shown for orientation only.\n"]
    if notes:
        parts.append("\n" + "\n".join(f"- {note}" for note in notes) + "\n")
    parts += ["\n## Per identity\n\n", markdown_table(evaluation.identities, first_column="identity: method")]
    return "".join(parts)


def write_reports(evaluation: Evaluation, out_dir: Path, notes: Sequence[str] = ()) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"summary_csv": out_dir / "table1.csv", "identities_csv": out_dir / "per_identity.csv",
             "faces_csv": out_dir / "per_face.csv", "markdown": out_dir / "report.md"}
    write_atomically(files["summary_csv"], csv_text(evaluation.methods).encode())
    write_atomically(files["identities_csv"], csv_text(evaluation.identities).encode())
    write_atomically(files["faces_csv"], face_csv_text(evaluation).encode())
    write_atomically(files["markdown"], markdown_report(evaluation, notes).encode())
    return files


def contact_sheet(faces: Sequence[TestFace], out_dir: Path, *, identities: int = 4, tile: int = 256) -> np.ndarray:
    """One row per identity (its first face): input, blind, with references, ground truth; labelled."""
    chosen, seen = [], set()
    for face in faces:
        if face.identity not in seen:
            seen.add(face.identity)
            chosen.append(face)
        if len(chosen) == identities:
            break
    header, label_width = 28, 160
    sheet = np.full((header + tile * len(chosen), label_width + tile * 4, 3), 255, np.uint8)
    for column, title in enumerate(SHEET_COLUMNS):
        cv2.putText(sheet, title, (label_width + column * tile + 6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1,
                    cv2.LINE_AA)
    for row, face in enumerate(chosen):
        top = header + row * tile
        cv2.putText(sheet, face.identity[:14], (6, top + tile // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1,
                    cv2.LINE_AA)
        paths = [restored_path(out_dir, m, face) for m in (INPUT, BLIND, REFERENCES)]
        paths.append(Path(out_dir) / "gt" / Path(face.name).with_suffix(".png"))
        for column, path in enumerate(paths):
            image = cv2.resize(read_rgb8(path), (tile, tile), interpolation=cv2.INTER_AREA)
            sheet[top: top + tile, label_width + column * tile: label_width + (column + 1) * tile] = image
    return sheet


def write_contact_sheet(faces: Sequence[TestFace], out_dir: Path, identities: int = 4) -> Path:
    path = Path(out_dir) / "contact_sheet.png"
    write_png(path, contact_sheet(faces, out_dir, identities=identities))
    return path
