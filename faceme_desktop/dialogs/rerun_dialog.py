"""Re-run one face: which references (untick some, add image files), the mode, strength and seed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from faceme_core.engine.options import MAX_IDENTITY_STRENGTH, MAX_SEED, RestoreOptions
from faceme_core.library.types import TaskReference
from faceme_core.restore.photo_setup import FaceChoice, ReferenceChoice
from faceme_desktop.views.face_card import MODE_TEXT


class RerunDialog(QDialog):
    def __init__(self, face: FaceChoice, options: RestoreOptions, seed: int | None, parent=None):
        super().__init__(parent)
        self.setObjectName("rerunDialog")
        self.setWindowTitle(f"Restore face {face.index + 1} again")
        self.face = face
        self.options = options
        self.references = QListWidget()
        self.references.setObjectName("rerunReferences")
        for choice in face.references:
            self._add_reference(choice)
        add = QPushButton("Add images...")
        add.clicked.connect(self._choose_files)
        self.mode = QComboBox()
        for mode in ("references", "blind"):
            self.mode.addItem(MODE_TEXT[mode], mode)
        self.mode.setCurrentIndex(0 if face.mode == "references" and face.references else 1)
        self.strength = QDoubleSpinBox()
        self.strength.setObjectName("rerunStrength")
        self.strength.setRange(0.0, MAX_IDENTITY_STRENGTH)
        self.strength.setSingleStep(0.5)
        self.strength.setValue(options.identity_strength)
        self.strength.setToolTip("How strongly the references steer the face (FaceMe's setting: 5)")
        self.seed = QSpinBox()
        self.seed.setObjectName("rerunSeed")
        self.seed.setRange(0, min(MAX_SEED, 2**31 - 1))
        self.seed.setValue(seed or 0)
        self.new_seed = QCheckBox("new random seed")
        self.new_seed.setChecked(seed is None)
        self.new_seed.toggled.connect(lambda on: self.seed.setEnabled(not on))
        self.seed.setEnabled(seed is not None)
        form = QFormLayout()
        form.addRow("References", self.references)
        form.addRow("", add)
        form.addRow("Restore", self.mode)
        form.addRow("Identity strength", self.strength)
        form.addRow("Seed", self.seed)
        form.addRow("", self.new_seed)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Restore this face")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _add_reference(self, choice: ReferenceChoice) -> None:
        item = QListWidgetItem(choice.label)
        item.setData(Qt.ItemDataRole.UserRole, choice)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        self.references.addItem(item)

    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Reference images", "", "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp)")
        for name in files:
            self._add_reference(ReferenceChoice(TaskReference("file", Path(name), None, None), None, None))

    def chosen(self) -> tuple[FaceChoice, RestoreOptions]:
        """The face as it should be restored now, and the options for it."""
        references = tuple(
            self.references.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.references.count())
            if self.references.item(row).checkState() == Qt.CheckState.Checked
        )
        mode = self.mode.currentData() if references else "blind"
        face = replace(self.face, references=references, mode=mode)
        seed = None if self.new_seed.isChecked() else self.seed.value()
        return face, replace(self.options, identity_strength=self.strength.value(), seed=seed)
