"""The training panel (a dock's widget): which corrected frames train and which are held
out, the class balance (table and bars), the settings, progress with live curves, the
before / after figures and the project's model versions.

Only widgets: it says what the user asked for through signals and shows what it is given;
`TrainingLayer` does the work."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox,
                               QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QScrollArea, QSpinBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from segnet_core.balance import Balance
from segnet_core.finetune import (MAX_EPOCHS, ClassBalanceRow, FineTuneSettings, StartMode,
                                  Version)
from segnet_core.finetune.report import CLASS_FIGURES, SUMMARY_FIGURES, class_rows, summary_rows
from segnet_core.labels import LabelSet
from segnet_core.events import format_duration
from segnet_core.train_config import MIN_SIZE
from segnet_core.train_events import StepProgress, ValidationRecord

from app.training.charts import BalanceChart, CurveChart

AUTO, CHOSEN = "auto", "chosen"


def _item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _table(columns: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    _fit_height(table)
    return table


def _fit_height(table: QTableWidget) -> None:
    """As tall as its rows (the panel scrolls, the tables do not)."""
    rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
    table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows + 4)


class TrainingPanel(QWidget):
    trainRequested = Signal()
    cancelRequested = Signal()
    refreshRequested = Signal()  # the frames or the held-out choice changed
    useModelRequested = Signal()  # the model just trained
    useVersionRequested = Signal(str)  # a version id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = FineTuneSettings()
        self._balance_rows: dict[str, list[ClassBalanceRow]] = {}
        self._colors: list[tuple[int, int, int]] = []

        # ---- frames
        self.frames_label = QLabel("No corrected frames yet")
        self.frames_label.setWordWrap(True)
        self.holdout_mode = QComboBox()
        self.holdout_mode.addItem("Hold out a share, chosen at random", AUTO)
        self.holdout_mode.addItem("Hold out the frames ticked below", CHOSEN)
        self.holdout_share = QDoubleSpinBox()
        self.holdout_share.setRange(0.0, 0.9)
        self.holdout_share.setSingleStep(0.05)
        self.holdout_share.setValue(float(defaults.holdout))
        self.holdout_share.setToolTip("Share of the corrected frames kept out of training to "
                                      "measure the model before and after")
        self.frame_list = QListWidget()
        self.frame_list.setMaximumHeight(110)
        self.frame_list.setToolTip("Ticked frames are held out (used only to measure)")
        self.refresh_button = QPushButton("Refresh")
        frames_box = QGroupBox("Frames")
        form = QFormLayout(frames_box)
        form.addRow(self.frames_label)
        form.addRow("Held out", self.holdout_mode)
        form.addRow("Share", self.holdout_share)
        form.addRow(self.frame_list)
        form.addRow(self.refresh_button)

        # ---- class balance
        self.balance_mode = QComboBox()
        for mode in Balance:
            self.balance_mode.addItem(mode.description, mode.value)
        self.balance_mode.setCurrentIndex(self.balance_mode.findData(defaults.balance.value))
        self.balance_table = _table(["Class", "Pixels", "Freq.", "Weight", "Share", "Frames"])
        self.balance_chart = BalanceChart()
        balance_box = QGroupBox("Class balance of the training frames")
        layout = QVBoxLayout(balance_box)
        layout.addWidget(self.balance_mode)
        layout.addWidget(self.balance_table)
        layout.addWidget(self.balance_chart)

        # ---- settings
        self.start_mode = QComboBox()
        for mode in StartMode:
            self.start_mode.addItem(mode.description, mode.value)
        self.start_mode.setCurrentIndex(self.start_mode.findData(defaults.start.value))
        self.epochs = QSpinBox()
        self.epochs.setRange(1, MAX_EPOCHS)
        self.epochs.setValue(defaults.epochs)
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(0.0, 1.0)
        self.learning_rate.setSingleStep(0.001)
        self.learning_rate.setSpecialValueText("automatic")
        self.learning_rate.setValue(defaults.lr or 0.0)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 256)
        self.batch_size.setValue(defaults.batch_size)
        self.train_height, self.train_width = QSpinBox(), QSpinBox()
        for spin in (self.train_height, self.train_width):
            spin.setRange(MIN_SIZE - 1, 4096)  # the minimum reads "model's"
            spin.setSingleStep(16)
            spin.setSpecialValueText("model's")
            spin.setValue(MIN_SIZE - 1)
        size_row = QHBoxLayout()
        size_row.addWidget(self.train_height)
        size_row.addWidget(QLabel("x"))
        size_row.addWidget(self.train_width)
        self.freeze_encoder = QCheckBox("Freeze the encoder (train the decoder only)")
        self.freeze_encoder.setChecked(defaults.freeze_encoder)
        self.augment = QCheckBox("Augment (scale, crop, flip, colour)")
        self.augment.setChecked(defaults.augment)
        settings_box = QGroupBox("Settings")
        form = QFormLayout(settings_box)
        form.addRow("Start from", self.start_mode)
        form.addRow("Epochs", self.epochs)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Size (h x w)", size_row)
        form.addRow(self.freeze_encoder)
        form.addRow(self.augment)

        # ---- run
        self.train_button = QPushButton("Train")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop; the best model so far is kept")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.loss_chart = CurveChart("training loss", QColor(200, 80, 40))
        self.miou_chart = CurveChart("held-out mIoU", QColor(40, 110, 200), (0.0, 1.0))
        run_box = QGroupBox("Training")
        layout = QVBoxLayout(run_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        charts = QHBoxLayout()
        charts.addWidget(self.loss_chart)
        charts.addWidget(self.miou_chart)
        layout.addLayout(charts)

        # ---- result
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.summary_table = _table(["Held-out frames", "Before", "After"])
        self.class_table = _table(["Class"] + [f"{label}\n{when}" for label, _ in CLASS_FIGURES
                                               for when in ("before", "after")])
        self.use_button = QPushButton("Use this model")
        self.use_button.setEnabled(False)
        self.use_button.setToolTip("Segment with the new model; frames not corrected are "
                                   "segmented again in the background")
        result_box = QGroupBox("Result (held-out frames, %)")
        layout = QVBoxLayout(result_box)
        layout.addWidget(self.result_label)
        layout.addWidget(self.summary_table)
        layout.addWidget(self.class_table)
        layout.addWidget(self.use_button)

        # ---- versions
        self.versions_label = QLabel("")
        self.versions_label.setWordWrap(True)
        self.version_list = QListWidget()
        self.version_list.setMaximumHeight(110)
        self.use_version_button = QPushButton("Use the selected version")
        versions_box = QGroupBox("Model versions")
        layout = QVBoxLayout(versions_box)
        layout.addWidget(self.versions_label)
        layout.addWidget(self.version_list)
        layout.addWidget(self.use_version_button)

        inner = QWidget()
        column = QVBoxLayout(inner)
        for box in (frames_box, settings_box, run_box, result_box, balance_box, versions_box):
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.train_button.clicked.connect(self.trainRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.use_button.clicked.connect(self.useModelRequested)
        self.use_version_button.clicked.connect(self._use_version)
        self.refresh_button.clicked.connect(self.refreshRequested)
        self.holdout_mode.currentIndexChanged.connect(self._on_holdout_mode)
        self.holdout_share.valueChanged.connect(lambda _v: self.refreshRequested.emit())
        self.frame_list.itemChanged.connect(self._on_frame_ticked)
        self.balance_mode.currentIndexChanged.connect(lambda _i: self._show_balance())
        self._on_holdout_mode()

    # ------------------------------------------------------------ frames

    def set_frames(self, names: Sequence[str], problems: Sequence[str] = ()) -> None:
        """List the corrected frames, keeping the ticks of names already listed."""
        held = set(self.ticked_names())
        self.frame_list.blockSignals(True)
        self.frame_list.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in held else Qt.CheckState.Unchecked)
            self.frame_list.addItem(item)
        self.frame_list.blockSignals(False)
        self.frames_label.setText(f"{len(names)} corrected frame(s) train, less those held out"
                                  if names else "No corrected frames yet: correct and save "
                                                "a few frames first")
        self._on_holdout_mode(refresh=False)

    def ticked_names(self) -> list[str]:
        return [self.frame_list.item(i).text() for i in range(self.frame_list.count())
                if self.frame_list.item(i).checkState() == Qt.CheckState.Checked]

    def holdout(self) -> float | tuple[int, ...]:
        """The held-out choice as FineTuneSettings takes it (indices into the listed frames)."""
        if self.holdout_mode.currentData() == CHOSEN:
            return tuple(i for i in range(self.frame_list.count())
                         if self.frame_list.item(i).checkState() == Qt.CheckState.Checked)
        return round(float(self.holdout_share.value()), 4)

    def _on_holdout_mode(self, _index=None, refresh: bool = True) -> None:
        chosen = self.holdout_mode.currentData() == CHOSEN
        self.holdout_share.setEnabled(not chosen)
        self.frame_list.setEnabled(chosen)
        if refresh and _index is not None:
            self.refreshRequested.emit()

    def _on_frame_ticked(self, _item) -> None:
        if self.holdout_mode.currentData() == CHOSEN:
            self.refreshRequested.emit()

    # ------------------------------------------------------------ balance

    def set_balance(self, rows: dict[str, list[ClassBalanceRow]], label_set: LabelSet,
                    train_count: int, held_count: int) -> None:
        self._balance_rows = dict(rows)
        self._colors = [tuple(c) for c in label_set.colors]
        if rows:
            self.frames_label.setText(f"{train_count} frame(s) train, {held_count} held out")
        self._show_balance()

    def _show_balance(self) -> None:
        rows = self._balance_rows.get(self.balance_mode.currentData(), [])
        self.balance_table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            values = (row.name, f"{row.pixels:,}", f"{row.frequency:.4f}", f"{row.weight:.3f}",
                      f"{100 * row.share:.1f} %", str(row.images))
            for c, text in enumerate(values):
                self.balance_table.setItem(r, c, _item(text, c > 0))
        _fit_height(self.balance_table)
        self.balance_chart.set_rows(rows, self._colors)

    # ------------------------------------------------------------ settings

    def settings(self, device: str = "auto", precision: str = "auto") -> FineTuneSettings:
        height, width = self.train_height.value(), self.train_width.value()
        size = None if min(height, width) < MIN_SIZE else (height, width)
        rate = float(self.learning_rate.value())
        return FineTuneSettings(
            start=self.start_mode.currentData(), epochs=int(self.epochs.value()),
            lr=rate if rate > 0 else None, batch_size=int(self.batch_size.value()),
            size=size, freeze_encoder=self.freeze_encoder.isChecked(),
            augment=self.augment.isChecked(), balance=self.balance_mode.currentData(),
            holdout=self.holdout(), device=device, precision=precision)

    # ------------------------------------------------------------ run

    def set_running(self, running: bool, epochs: int = 1) -> None:
        self.train_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.refresh_button.setEnabled(not running)
        if running:
            self.use_button.setEnabled(False)
            self.progress.setRange(0, 0)  # busy until the first step
            self.loss_chart.clear(epochs)
            self.miou_chart.clear(epochs)
            self.summary_table.setRowCount(0)
            self.class_table.setRowCount(0)
            _fit_height(self.summary_table)
            _fit_height(self.class_table)
            self.result_label.setText("")

    def show_step(self, step: StepProgress) -> None:
        self.progress.setRange(0, step.total_steps)
        self.progress.setValue(step.global_step)
        self.progress.setFormat(f"%p%  epoch {step.epoch + 1}/{step.epochs}  "
                                f"{format_duration(step.seconds_left)} left")

    def show_validation(self, record: ValidationRecord) -> None:
        self.loss_chart.add_point(record.epoch, record.train_loss)
        self.miou_chart.add_point(record.epoch, record.miou)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def show_result(self, before: dict | None, after: dict | None, text: str,
                    usable: bool) -> None:
        self.result_label.setText(text)
        for table, rows in ((self.summary_table, summary_rows(before, after)),
                            (self.class_table, class_rows(before, after))):
            table.setRowCount(len(rows))
            for r, values in enumerate(rows):
                for c, value in enumerate(values):
                    table.setItem(r, c, _item(value, c > 0))
        _fit_height(self.summary_table)
        _fit_height(self.class_table)
        self.use_button.setEnabled(usable)

    def shown_miou(self) -> tuple[str, str]:
        """The mIoU row as displayed: (before, after) in percent text."""
        row = [key for _, key in SUMMARY_FIGURES].index("miou")
        return (self.summary_table.item(row, 1).text(), self.summary_table.item(row, 2).text())

    # ------------------------------------------------------------ versions

    def set_versions(self, versions: Sequence[Version], current: str | None,
                     in_use_path: str | None, where: str) -> None:
        self.versions_label.setText(where)
        self.version_list.clear()
        for version in reversed(list(versions)):
            figures = ""
            if version.miou_after is not None:
                before = "?" if version.miou_before is None else f"{100 * version.miou_before:.1f}"
                figures = f"  mIoU {before} -> {100 * version.miou_after:.1f}"
            marks = []
            if version.id == current:
                marks.append("project's")
            if in_use_path is not None and str(version.path) == in_use_path:
                marks.append("in use")
            text = (f"{version.id}  {version.created.replace('T', ' ')[:16]}{figures}"
                    + (f"  ({', '.join(marks)})" if marks else "")
                    + ("" if version.parent else "  original" if version.number == 1 else ""))
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, version.id)
            self.version_list.addItem(item)
        self.use_version_button.setEnabled(bool(versions))

    def _use_version(self) -> None:
        item = self.version_list.currentItem()
        if item is not None:
            self.useVersionRequested.emit(item.data(Qt.ItemDataRole.UserRole))
