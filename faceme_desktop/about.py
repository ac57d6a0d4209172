"""The About box: versions of the app and its main parts, and the licences of the models it uses."""

from __future__ import annotations

import platform
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from faceme_desktop import __version__

# What the user must know before using the results; the model store lists the files themselves.
MODEL_LICENCES = (
    ("FaceMe (SDXL + ControlNet + identity encoder)", "research weights, see the FaceMe release terms"),
    ("Stable Diffusion XL base", "CreativeML Open RAIL++-M"),
    ("insightface antelopev2 (detection, ArcFace)", "non-commercial research use only"),
    ("dlib face detector and recognition model", "Boost Software License / CC0 (face_recognition_models)"),
    ("CLIP image encoder", "MIT"),
)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_html() -> str:
    versions = [
        ("FaceMe Desktop", __version__),
        ("Python", platform.python_version()),
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
        ("PyTorch", _version("torch")),
        ("diffusers", _version("diffusers")),
    ]
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>" for name, version in versions)
    licences = "".join(f"<li><b>{model}</b>: {licence}</li>" for model, licence in MODEL_LICENCES)
    return (
        "<h3>FaceMe Desktop</h3>"
        "<p>Restores faces in family photos while keeping who they are "
        "(FaceMe, AAAI 2025).</p>"
        f"<table>{rows}</table>"
        f"<p><b>Models and their licences</b></p><ul>{licences}</ul>"
    )


def show_about(parent: QWidget | None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("aboutBox")
    box.setWindowTitle("About FaceMe Desktop")
    box.setTextFormat(box.textFormat().RichText)
    box.setText(about_html())
    box.open()
    return box
