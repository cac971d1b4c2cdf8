"""File > Import labels...: which masks to import (a file or a folder), their format, and
whether masks already in the labels folder are replaced."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QLabel,
                               QLineEdit, QPushButton, QVBoxLayout, QWidget)

from segnet_core.importing import ImportFormat, export_marks

from app.widgets.dialog_parts import error_label, field_row, ok_cancel

FORMAT_TITLES = {
    ImportFormat.AUTO: "Find out from the source",
    ImportFormat.CAMVID: "CamVid folder or list file",
    ImportFormat.VOC: "Pascal VOC (palette PNGs, 255 = void)",
    ImportFormat.COCO: "COCO instances JSON (polygons, RLE)",
    ImportFormat.COLOR: "Colour PNGs (the label set's colours)",
    ImportFormat.INDEX: "Index PNGs (class numbers)",
}


@dataclass(frozen=True)
class ImportRequest:
    source: Path
    format: ImportFormat
    overwrite: bool
    uncorrected: bool = False  # also the masks an export marks as not corrected


#: How long after the last keystroke in the source field its export marks are looked for.
MARKS_DELAY_MS = 300


class ImportDialog(QDialog):
    """`existing` is how many masks the labels folder holds already: the overwrite choice
    is offered only then. `last` is the source and format last imported into this folder,
    offered again (Replace is not: it starts off). `request()` gives the choice once
    accepted."""

    def __init__(self, parent: QWidget | None, images_dir: Path, existing: int,
                 start_folder: str = "", last: tuple[str, str] = ("", "")) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import labels")
        self._start = start_folder or str(images_dir)
        self.source = QLineEdit()
        self.source.setPlaceholderText("a mask folder, a list file or a COCO JSON")
        pick_file = QPushButton("File...")
        pick_file.clicked.connect(self._pick_file)
        pick_folder = QPushButton("Folder...")
        pick_folder.clicked.connect(self._pick_folder)
        self.format = QComboBox()
        for fmt, title in FORMAT_TITLES.items():
            self.format.addItem(f"{fmt.value}: {title}", fmt)
        self.overwrite = QCheckBox(f"Replace masks saved in {images_dir.name}/labels/ "
                                   f"({existing} there) by the source's for the same images")
        self.overwrite.setVisible(existing > 0)
        # a SegNet Studio export marks its predictions: offered only for such a source
        self.uncorrected = QCheckBox()
        self.uncorrected.setVisible(False)
        self.uncorrected.setToolTip("The export's manifest marks these masks as a model's "
                                    "predictions or propagated labels nobody accepted. "
                                    "Imported, they count as corrections (left out unless "
                                    "ticked)")
        # looked for once typing pauses (it reads the manifest, a record per exported file)
        self._marks_timer = QTimer(self)
        self._marks_timer.setSingleShot(True)
        self._marks_timer.setInterval(MARKS_DELAY_MS)
        self._marks_timer.timeout.connect(lambda: self._show_marks(self.source.text()))
        self.source.textChanged.connect(lambda _text: self._marks_timer.start())
        form = QFormLayout()
        form.addRow("Images", QLabel(str(images_dir)))
        form.addRow("Masks from", field_row(self.source, pick_file, pick_folder))
        form.addRow("Format", self.format)
        self.error = error_label()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.overwrite)
        layout.addWidget(self.uncorrected)
        layout.addWidget(QLabel("Masks are matched to the images by file name; pixels no "
                                "annotation covers become void."))
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "Import"))
        self._offer(*last)

    def _offer(self, source: str, fmt: str) -> None:
        """The source and format last imported here, when the source is still there."""
        if not source or not Path(source).exists():
            return
        self.source.setText(source)
        self._start = str(Path(source) if Path(source).is_dir() else Path(source).parent)
        if fmt in {choice.value for choice in ImportFormat}:
            self.set_format(ImportFormat(fmt))

    def _show_marks(self, text: str) -> None:
        """Offer the masks an export marks as not corrected when the source is in one (its
        manifest is read here, once typing pauses: a record per exported file)."""
        marks = export_marks(Path(text.strip()).expanduser()) if text.strip() else None
        count = 0 if marks is None else len(marks.predicted) + len(marks.propagated)
        self.uncorrected.setText(f"Also import the {count} mask(s) the export marks as not "
                                 f"corrected (predictions, propagated labels not accepted)")
        self.uncorrected.setVisible(count > 0)
        if not count:
            self.uncorrected.setChecked(False)

    def set_format(self, fmt: ImportFormat) -> None:
        self.format.setCurrentIndex(self.format.findData(fmt))

    def _pick_file(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Import masks from", self._start,
            "Lists and COCO files (*.txt *.json);;All files (*)")
        if chosen:
            self.source.setText(chosen)

    def _pick_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Import masks from", self._start)
        if chosen:
            self.source.setText(chosen)

    def accept(self) -> None:
        if self._marks_timer.isActive():  # typed and accepted at once: the box as it is now
            self._marks_timer.stop()
            self._show_marks(self.source.text())
        text = self.source.text().strip()
        if not text:
            self.error.setText("Choose the masks to import.")
            return
        if not Path(text).expanduser().exists():
            self.error.setText(f"{text} does not exist.")
            return
        super().accept()

    def request(self) -> ImportRequest:
        return ImportRequest(Path(self.source.text().strip()).expanduser(),
                             ImportFormat(self.format.currentData()),  # Qt gives a str
                             self.overwrite.isChecked(),
                             self.uncorrected.isChecked())
