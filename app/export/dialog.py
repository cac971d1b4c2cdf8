"""File > Export...: which formats, where, whether to add the model's predictions and the
propagated labels not accepted yet, the CamVid/VOC split, the overlay opacity and COCO's
smallest region (the command's --min-area)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from segnet_core.atomic import not_a_folder_path
from segnet_core.export import FORMATS

FORMAT_TITLES = {
    "index": "Index PNG (class indices)", "color": "Colour PNG", "per-class":
    "One binary mask per class", "overlay": "Overlay images", "video": "Segmented video (mp4)",
    "camvid": "CamVid / SegNet layout", "voc": "Pascal VOC layout",
    "coco": "COCO JSON (polygons; RLE for regions with holes)",
}


@dataclass
class ExportRequest:
    out_dir: Path
    formats: list[str]
    include_predictions: bool = False
    split: tuple[float, ...] | None = None
    alpha: float = 0.5
    extra: dict = field(default_factory=dict)
    include_propagated: bool = False
    min_area: int = 0  # COCO: regions under this many pixels are left out (0: none)


class ExportDialog(QDialog):
    """`request()` gives the user's choice once accepted."""

    def __init__(self, parent=None, folder: Path | None = None, corrected: int = 0,
                 cached: int = 0, propagated: int = 0) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export masks")
        self.checks: dict[str, QCheckBox] = {}
        formats = QGroupBox("Formats")
        grid = QGridLayout(formats)
        for i, name in enumerate(FORMATS):
            box = QCheckBox(FORMAT_TITLES.get(name, name))
            box.setObjectName(name)
            box.setChecked(name == "index")
            self.checks[name] = box
            grid.addWidget(box, i // 2, i % 2)
        self.folder = QLineEdit(str(folder or Path.home() / "segnet-export"))
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.folder, 1)
        row_layout.addWidget(browse)
        self.predictions = QCheckBox(f"Include the model's predictions for frames not corrected "
                                     f"({cached} of them segmented)")
        self.propagated = QCheckBox(f"Include the {propagated} frame(s) with propagated labels "
                                    "not accepted yet (marked \"propagated\" in the manifest)")
        self.propagated.setToolTip("Labels carried by Edit > Propagate that nobody has "
                                   "accepted (Ctrl+Shift+Return) are no correction: left out "
                                   "unless ticked, and never counted as corrected")
        self.propagated.setVisible(propagated > 0)
        self.header = QLabel()  # how many frames go out
        self._counts = (corrected, cached, propagated)
        self.propagated.toggled.connect(self._say_count)
        self.predictions.toggled.connect(self._say_count)
        self._say_count(False)
        self.splits = []
        split_row = QWidget()
        split_layout = QHBoxLayout(split_row)
        split_layout.setContentsMargins(0, 0, 0, 0)
        for name, value in (("train", 1.0), ("val", 0.0), ("test", 0.0)):
            box = QDoubleSpinBox()
            box.setRange(0.0, 1.0)
            box.setSingleStep(0.05)
            box.setValue(value)
            self.splits.append(box)
            split_layout.addWidget(QLabel(name))
            split_layout.addWidget(box)
        split_row.setToolTip("Neighbouring frames (up to 10 in a row) stay in one split. With "
                             "predictions or propagated labels included, val and test take "
                             "corrected frames only; the others train, or are set aside "
                             "beside a val or test frame")
        self.alpha = QDoubleSpinBox()
        self.alpha.setRange(0.0, 1.0)
        self.alpha.setSingleStep(0.05)
        self.alpha.setValue(0.5)
        # a model's predictions leave specks of a few pixels: each would be a COCO annotation
        self.min_area = QSpinBox()
        self.min_area.setRange(0, 1_000_000)
        self.min_area.setSuffix(" px")
        self.min_area.setSpecialValueText("every region")
        self.min_area.setToolTip("COCO JSON: leave out regions smaller than this, such as the "
                                 "specks of a prediction (0: every region)")
        self.checks["coco"].toggled.connect(self.min_area.setEnabled)
        self.min_area.setEnabled(self.checks["coco"].isChecked())
        form = QFormLayout()
        form.addRow("Output folder", row)
        form.addRow("CamVid / VOC split", split_row)
        form.addRow("Overlay opacity", self.alpha)
        form.addRow("COCO: smallest region", self.min_area)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        # gone once the folder is edited (a user's check: it stayed after the path was
        # mended, until Export was pressed again)
        self.folder.textEdited.connect(lambda _text: self.error.clear())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(formats)
        layout.addLayout(form)
        layout.addWidget(self.predictions)
        layout.addWidget(self.propagated)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _say_count(self, _checked: bool = False) -> None:
        """How many frames go out, as the boxes are ticked (a user's check read "4 corrected
        frame(s) to export." and got 23 masks, 19 of them predictions)."""
        corrected, cached, propagated = self._counts
        also = [f"{cached} with the model's predictions" if self.predictions.isChecked()
                else "", f"{propagated} with propagated labels not accepted yet"
                if self.propagated.isChecked() else ""]
        more = [text for text in also if text]
        listed = "".join(f", {text}" for text in more[:-1]) + \
            (f", and {more[-1]}" if more else "")
        self.header.setText(f"{corrected} corrected frame(s) to export{listed}.")

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def set_formats(self, formats) -> None:
        for name, box in self.checks.items():
            box.setChecked(name in formats)

    def set_choices(self, split=(1.0,), predictions: bool = False, min_area: int = 0) -> None:
        """The split fractions (train, val, test; missing ones 0), whether the predictions
        are included, and COCO's smallest region, as last time."""
        values = list(split)[:len(self.splits)]
        for box, value in zip(self.splits, values + [0.0] * (len(self.splits) - len(values))):
            box.setValue(float(value))
        self.predictions.setChecked(bool(predictions))
        self.min_area.setValue(int(min_area))

    def validation_error(self) -> str:
        if not any(box.isChecked() for box in self.checks.values()):
            return "Choose at least one format."
        if not self.folder.text().strip():
            return "Choose an output folder."
        try:
            problem = not_a_folder_path(Path(self.folder.text().strip()).expanduser())
        except RuntimeError as error:  # "~nosuchuser"
            problem = f"cannot be used: {error}"
        except OSError as error:  # a name too long, no permission to look
            problem = f"cannot be used: {error.strerror or error}"
        if problem:
            return f"The output folder {problem}."
        if abs(sum(box.value() for box in self.splits) - 1.0) > 1e-6:
            return "The split fractions must add up to 1."
        return ""

    def accept(self) -> None:
        problem = self.validation_error()
        if problem:
            self.error.setText(problem)
            return
        super().accept()

    def request(self) -> ExportRequest:
        values = [box.value() for box in self.splits]
        while len(values) > 1 and values[-1] == 0.0:
            values.pop()
        split = None if values == [1.0] else tuple(values)
        return ExportRequest(Path(self.folder.text().strip()).expanduser(),
                             [n for n, box in self.checks.items() if box.isChecked()],
                             self.predictions.isChecked(), split, float(self.alpha.value()),
                             include_propagated=self.propagated.isChecked(),
                             min_area=int(self.min_area.value()))
