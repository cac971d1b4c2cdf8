"""The status bar's fields: model, device, precision, last inference time, pixel readout,
and a progress bar with Cancel for "Segment all"."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from app.workers.inference import ModelInfo

#: the widest the model's name may be in the bar (px); whole in its tooltip. The fields are
#: short so that messages have room (a user's check: key hints at their ends were cut)
MODEL_FIELD_PX = 250  # the shipped model's name whole


class StatusFields(QObject):
    """Adds its widgets to `bar`. Emits `cancelClicked` from the progress's Cancel button."""

    cancelClicked = Signal()

    def __init__(self, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.readout = QLabel()
        self.readout.setMinimumWidth(230)
        self.progress = QProgressBar()
        # its text whole, however long the pointer's read-out beside it (a user's check saw
        # "Segmenting 31 / 43" wrapped and clipped)
        self.progress.setMinimumWidth(
            self.progress.fontMetrics().horizontalAdvance("Segmenting 9999 / 9999") + 16)
        self.progress.setMaximumWidth(max(180, self.progress.minimumWidth()))
        self.progress.setFormat("%v / %m")
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop Segment all (Esc)")
        self.cancel.clicked.connect(self.cancelClicked)
        self.model = QLabel("no model")
        self.device = QLabel()
        self.precision = QLabel()
        self.timing = QLabel()
        bar.addWidget(self.readout)
        for widget in (self.progress, self.cancel, self.model, self.device, self.precision,
                       self.timing):
            bar.addPermanentWidget(widget)
        self.end_progress()

    def set_model(self, info: ModelInfo) -> None:
        self.model.setText(self.model.fontMetrics().elidedText(
            f"model: {info.name}", Qt.TextElideMode.ElideMiddle, MODEL_FIELD_PX))
        self.model.setToolTip(f"{info.path}\n{info.architecture}, "
                              f"{info.label_set.num_classes} classes\n"
                              f"estimated accuracy: {info.calibration.describe()}")
        self.device.setText(info.device.split(" (")[0])  # "CPU": its details in the tooltip
        self.device.setToolTip(info.device)
        self.precision.setText(info.precision)
        self.timing.setText("")

    def set_no_model(self, why: str) -> None:
        self.model.setText("no model")
        self.model.setToolTip(why)
        for label in (self.device, self.precision, self.timing):
            label.setText("")

    def set_inference_time(self, seconds: float) -> None:
        self.timing.setText(f"{seconds * 1000:.0f} ms")

    def set_readout(self, text: str) -> None:
        self.readout.setText(text)

    def start_progress(self, total: int, what: str = "") -> None:
        """Show the progress bar at 0 of `total`, counting `what` ("Estimating 3 / 9"), in
        the place of the model's fields, which do not change meanwhile (a model loaded stops
        the batch): messages keep their room (a user's check: those said beside Segment
        all's progress were cut before their key hints)."""
        self.progress.setFormat(f"{what} %v / %m" if what else "%v / %m")
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel.setVisible(True)
        self.cancel.setEnabled(True)
        for field in self._model_fields():
            field.setVisible(False)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def end_progress(self) -> None:
        self.progress.setVisible(False)
        self.cancel.setVisible(False)
        for field in self._model_fields():
            field.setVisible(True)

    def _model_fields(self) -> tuple[QLabel, ...]:
        return self.model, self.device, self.precision, self.timing
