"""The training panel (a dock's widget). At the top, always in view: Train, Cancel, progress,
the verdict of the last run (before / after mIoU, said plainly when the new model is worse),
"Use this model" and the project's model versions with "Use the selected version". Below, in
tabs: the setup (which corrected frames train and which are held out, the settings), the
result (before / after on the held-out frames, the drift), the per-class figures, the class
balance and the loss curve.

Only widgets: it says what the user asked for through signals and shows what it is given;
`TrainingLayer` does the work."""

from __future__ import annotations

import time
from collections import Counter
from typing import Collection, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QListWidget, QListWidgetItem, QMessageBox, QProgressBar,
                               QPushButton, QScrollArea, QSpinBox, QTabWidget, QVBoxLayout,
                               QWidget)

from segnet_core.finetune import (MAX_EPOCHS, ClassBalanceRow, FineTuneSettings, StartMode,
                                  Version)
from segnet_core.finetune.report import Verdict, headline, verdict, version_figures
from segnet_core.labels import LabelSet
from segnet_core.events import format_duration
from segnet_core.train_config import MIN_SIZE
from segnet_core.train_events import StepProgress, StopReason, ValidationRecord

from app.training.charts import CurveChart
from app.training.results import BalancePanel, ClassScoresPanel, ResultPanel
from app.widgets.own_keys import takes_space
from app.widgets.wheel_guard import wheel_after_click
from app.widgets.wrapped_label import WrappedLabel
from app.wording import some_names

#: the longest time limit the Setup tab offers (minutes)
MAX_MINUTES = 24 * 60

AUTO, CHOSEN = "auto", "chosen"
WORSE_STYLE = "color: #b00020; font-weight: bold"
_IN_USE = Qt.ItemDataRole.UserRole + 1  # a version list item's: whether it is the model in use


def scrolling(inner: QWidget) -> QScrollArea:
    """`inner` in a frameless scroll area: a tab shorter than its content scrolls."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(inner)
    return scroll


class TrainingPanel(QWidget):
    trainRequested = Signal()
    cancelRequested = Signal()
    refreshRequested = Signal()  # the frames or the held-out choice changed
    useModelRequested = Signal()  # the model just trained
    useVersionRequested = Signal(str)  # a version id

    def __init__(self, defaults: FineTuneSettings | None = None,
                 parent: QWidget | None = None) -> None:
        """`defaults`: the settings the form starts with (the last run's, `Settings.finetune`;
        the recipe's without)."""
        super().__init__(parent)
        #: corrected frames holding propagated labels not accepted
        self._unaccepted: set[str] = set()
        defaults = defaults or FineTuneSettings()
        self._worse = False
        #: the frames ticked by hand, kept while a share is drawn (its list ticks the draw)
        self._hand_ticks: list[str] = []
        self._version = ""  # the id of the model the last run made ("" before one)
        self._chosen = False  # whether the list's ticks are the user's (or the share's draw)

        # ---- actions, always in view
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Fine-tune the model on the corrected frames")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop; the model trained so far is kept")
        self.use_button = QPushButton("Use this model")
        self.use_button.setEnabled(False)
        self._usable = False  # the last run made a model that can be used
        self._started = time.monotonic()  # when the run shown began
        self._limit_s = 0.0  # the round's time limit, as it started (0: none)
        #: corrected frames open of another project than the one a round trains (left out)
        self.elsewhere = 0
        self._result_text = ""  # what the last run's result says, before whether it is in use
        self.use_button.setToolTip("Segment with the new model; frames not corrected are "
                                   "segmented again in the background")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.status_label = WrappedLabel()  # whole in a short dock: the tabs give way
        self.verdict_label = WrappedLabel()
        self.version_list = QListWidget()
        self.version_list.setFixedHeight(3 * self.fontMetrics().lineSpacing() + 12)
        self.version_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.version_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.use_version_button = QPushButton("Use the selected\nversion")
        self.use_version_button.setToolTip("Segment with the version selected in the list "
                                           "(e.g. go back to an earlier one)")
        buttons = QHBoxLayout()
        for button in (self.train_button, self.cancel_button, self.use_button):
            buttons.addWidget(button)
        versions = QHBoxLayout()
        versions.addWidget(self.version_list, 1)
        versions.addWidget(self.use_version_button)
        top = QVBoxLayout()
        top.addLayout(buttons)
        top.addWidget(self.progress)
        top.addWidget(self.status_label)
        top.addWidget(self.verdict_label)
        top.addWidget(QLabel("Model versions (newest first)"))
        top.addLayout(versions)

        # ---- results, in tabs
        self.result_panel = ResultPanel()
        self.class_panel = ClassScoresPanel()
        self.balance_panel = BalancePanel(defaults.balance)
        self.result_label = self.result_panel.result_label
        self.summary_table = self.result_panel.summary_table
        self.drift_label = self.result_panel.drift_label
        self.class_table = self.class_panel.class_table
        self.balance_mode = self.balance_panel.balance_mode
        self.balance_table = self.balance_panel.balance_table
        self.balance_chart = self.balance_panel.balance_chart
        self.loss_chart = CurveChart("training loss", QColor(200, 80, 40))
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.addTab(self._setup(defaults), "Setup")
        self.result_tab = scrolling(self.result_panel)  # a short dock scrolls it: no overlap
        self.tabs.addTab(self.result_tab, "Result")
        self.tabs.addTab(self.class_panel, "Per class")
        self.tabs.addTab(self.balance_panel, "Balance")
        self.tabs.addTab(self.loss_chart, "Loss")
        self.tabs.setTabToolTip(1, "Before / after on the held-out frames, and the drift")
        self.tabs.setTabToolTip(3, "Class balance of the training frames")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addLayout(top)
        outer.addWidget(self.tabs, 1)

        self.train_button.clicked.connect(self.trainRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.use_button.clicked.connect(self._use_model)
        self.use_version_button.clicked.connect(self._use_version)
        self.version_list.currentItemChanged.connect(lambda *_: self._enable_use_version())
        self.refresh_button.clicked.connect(self.refreshRequested)
        self.holdout_mode.currentIndexChanged.connect(self._on_holdout_mode)
        self.holdout_share.valueChanged.connect(lambda _v: self.refreshRequested.emit())
        self.frame_list.itemChanged.connect(self._on_frame_ticked)
        self._on_holdout_mode()

    def _setup(self, defaults: FineTuneSettings) -> QWidget:
        """The Setup tab: the frames and the settings, one compact form."""
        self.frames_label = QLabel("No corrected frames yet")
        self.frames_label.setWordWrap(True)
        self.holdout_mode = QComboBox()
        self.holdout_mode.addItem("A share, chosen at random", AUTO)
        self.holdout_mode.addItem("The frames ticked below", CHOSEN)
        self.holdout_share = QDoubleSpinBox()
        self.holdout_share.setRange(0.0, 0.9)
        self.holdout_share.setSingleStep(0.05)
        self.holdout_share.setValue(float(defaults.holdout)
                                    if isinstance(defaults.holdout, (int, float))
                                    else FineTuneSettings.holdout)
        self.holdout_share.setToolTip("Share of the corrected frames kept out of training to "
                                      "measure the model before and after")
        self.frame_list = QListWidget()
        self.frame_list.setMaximumHeight(90)
        self.frame_list.setToolTip("Ticked frames are held out (used only to measure)")
        takes_space(self.frame_list)  # Space ticks the current frame, not Play / pause
        self.refresh_button = QPushButton("Refresh")
        self.start_mode = QComboBox()
        for mode in StartMode:
            self.start_mode.addItem(mode.description, mode.value)
        self.start_mode.setCurrentIndex(self.start_mode.findData(defaults.start.value))
        self.epochs = QSpinBox()
        self.epochs.setRange(1, MAX_EPOCHS)
        self.epochs.setValue(defaults.epochs)
        recipe = FineTuneSettings()
        self.epochs.setToolTip(
            f"An epoch is {defaults.samples_per_epoch} training samples of the corrected "
            f"frames. The recipe's {recipe.epochs} took about 4 minutes on an idle 2-core "
            "CPU with bf16 (AMX) and about 30 on one without (AVX2, fp32), longer beside "
            "other busy programs (docs/training.md); the time left shows while it runs. Far "
            "fewer epochs at the "
            "automatic rate can leave the model worse than before: the result says so before "
            "you use it.")
        self.minutes = QDoubleSpinBox()
        self.minutes.setDecimals(1)
        self.minutes.setRange(0.0, MAX_MINUTES)
        self.minutes.setSingleStep(1.0)
        self.minutes.setSpecialValueText("none")
        self.minutes.setSuffix(" min")
        self.minutes.setValue(float(defaults.minutes or 0.0))
        self.minutes.setToolTip(
            "Stop after this many minutes, even before the last epoch (a slow computer: a "
            "user's check found a round of about 30 minutes with no way to make it shorter). "
            "The rate drops for the last quarter of the time, or of the epochs if they end "
            "the round first; the model at the end is the result. Fewer minutes teach the "
            "model less: on one street, half the recipe's samples lifted mIoU by 12.9 where "
            "the whole recipe lifted it by 15.4 (docs/training.md). None: every epoch.")
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
        for spin, side in zip((self.train_height, self.train_width),
                              defaults.size or (MIN_SIZE - 1, MIN_SIZE - 1)):
            spin.setRange(MIN_SIZE - 1, 4096)  # the minimum reads "model's"
            spin.setSingleStep(16)
            spin.setSpecialValueText("model's")
            spin.setValue(side)
        size_row = QHBoxLayout()
        size_row.addWidget(self.train_height)
        size_row.addWidget(QLabel("x"))
        size_row.addWidget(self.train_width)
        self.freeze_encoder = QCheckBox("Freeze the encoder (train the decoder only)")
        self.freeze_encoder.setChecked(defaults.freeze_encoder)
        self.augment = QCheckBox("Augment (scale, crop, flip, colour)")
        self.augment.setChecked(defaults.augment)
        self.train_propagated = QCheckBox("Train on propagated labels not accepted yet")
        self.train_propagated.setChecked(defaults.train_propagated)
        self.train_propagated.setToolTip(
            "Frames whose labels were propagated (Edit > Propagate labels) and not accepted "
            "yet. Where the flow was not trusted their labels are the model's own "
            "prediction, so they are never held out to score the model on; untick to leave "
            "them out of training too.")
        self.train_propagated.toggled.connect(lambda _on: self.refreshRequested.emit())
        self.versions_label = QLabel("")
        self.versions_label.setWordWrap(True)
        share_row = QHBoxLayout()
        share_row.addWidget(self.holdout_share, 1)
        share_row.addWidget(self.refresh_button)
        inner = QWidget()
        column = QVBoxLayout(inner)  # the long text above the form: a form row spanning
        column.addWidget(self.frames_label)  # both columns gets too few wrapped lines
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        column.addLayout(form)
        form.addRow("Held out", self.holdout_mode)
        form.addRow("Share", share_row)
        form.addRow(self.frame_list)
        form.addRow("Start from", self.start_mode)
        form.addRow("Epochs", self.epochs)
        form.addRow("Time limit", self.minutes)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Size (h x w)", size_row)
        form.addRow(self.freeze_encoder)
        form.addRow(self.augment)
        form.addRow(self.train_propagated)
        form.addRow(self.versions_label)
        column.addStretch(1)  # spare height below the form, not in its last row
        wheel_after_click(inner)  # scrolling the form changes no setting
        return scrolling(inner)

    # ------------------------------------------------------------ frames

    def set_frames(self, names: Sequence[str], problems: Sequence[str] = (),
                   unaccepted: Collection[str] = (), as_predicted: Collection[str] = (),
                   carried: Collection[str] = ()) -> None:
        """List the corrected frames, keeping the ticks of names already listed. Those named
        in `unaccepted` hold propagated labels the user has not accepted: said, with whether
        they train, and they cannot be ticked to be held out; nor can those in
        `as_predicted`, saved as a model's prediction (they would score a model against a
        model's own labels), nor those in `carried`: accepted labels carried by a
        propagation, where the flow was not trusted the model's prediction."""
        self._unaccepted = {name for name in names if name in unaccepted}
        held = set(self.ticked_names())
        row = self.frame_list.currentRow()  # kept: the user's place
        current = None if row < 0 else self.frame_list.item(row).text()
        self.frame_list.blockSignals(True)
        self.frame_list.clear()
        for name in names:
            item = QListWidgetItem(name)
            # every row has its box, so the names line up; those that cannot be held out
            # have theirs greyed with their name, and say why
            item.setCheckState(Qt.CheckState.Unchecked)
            if name in unaccepted:
                item.setFlags(Qt.ItemFlag.NoItemFlags)  # listed, not to be held out
                item.setToolTip("Propagated labels not accepted yet: not held out to score "
                                "the model on (they are partly its own prediction)")
            elif name in as_predicted:
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setToolTip("Saved as the model predicted it: trains, but is not held "
                                "out to score a model on (it would be scored against a "
                                "model's own labels)")
            elif name in carried:
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setToolTip("Labels propagated from another frame: trains, but is not "
                                "held out to score a model on (where the flow was not "
                                "trusted they are the model's own prediction)")
            else:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                if name in held:
                    item.setCheckState(Qt.CheckState.Checked)
            self.frame_list.addItem(item)
        if current is not None:  # the same row while it holds the same name (names repeat)
            place = self.frame_list.item(row)
            if place is None or place.text() != current:
                found = self.frame_list.findItems(current, Qt.MatchFlag.MatchExactly)
                place = found[0] if found else None
            if place is not None:
                self.frame_list.setCurrentItem(place)
        self.frame_list.blockSignals(False)
        self.frames_label.setText(f"{len(names)} corrected frame(s) train, less those held out"
                                  + self._unaccepted_note()
                                  if names else "No corrected frames yet: correct and save "
                                                "a few frames first" + self._unaccepted_note())
        self._on_holdout_mode(refresh=False)

    def _unaccepted_note(self, set_aside: Collection[str] = ()) -> str:
        elsewhere = (f"; {self.elsewhere} corrected frame(s) of another project open left "
                     f"out (a round trains the model of the frame shown's project)"
                     if self.elsewhere else "")
        n, total = len(self._unaccepted), self.frame_list.count()
        if not n:
            return elsewhere
        aside = self._unaccepted & set(set_aside)
        they = "they train" if n > 1 else "it trains"
        use = ("left out" if not self.train_propagated.isChecked()
               else f"{they} unless set aside, never held out" if aside
               else f"{they}, never held out")
        hold = "hold" if n > 1 else "holds"
        return (f"; {n} of the {total} {hold} propagated labels not accepted yet: {use} "
                f"(Edit > Accept propagated labels once looked over)") + elsewhere

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
        if chosen != self._chosen:  # the user's ticks back, or kept aside for the draw's
            if chosen:
                self._set_ticks(self._hand_ticks)
            else:
                self._hand_ticks = self.ticked_names()
            self._chosen = chosen
        self.holdout_share.setEnabled(not chosen)
        self.frame_list.setEnabled(chosen)
        if refresh and _index is not None:
            self.refreshRequested.emit()

    def _set_ticks(self, names: Sequence[str]) -> None:
        """Tick these frames (a name listed twice ticks its first two rows), no others;
        said to nobody (no refresh)."""
        left = Counter(names)
        self.frame_list.blockSignals(True)
        try:
            for i in range(self.frame_list.count()):
                item = self.frame_list.item(i)
                ticked = left[item.text()] > 0
                left[item.text()] -= ticked
                if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                    item.setCheckState(Qt.CheckState.Checked if ticked
                                       else Qt.CheckState.Unchecked)
        finally:
            self.frame_list.blockSignals(False)
        self.frame_list.viewport().update()

    def _on_frame_ticked(self, _item) -> None:
        if self.holdout_mode.currentData() == CHOSEN:
            self.refreshRequested.emit()

    # ------------------------------------------------------------ balance

    def set_balance(self, rows: dict[str, list[ClassBalanceRow]], label_set: LabelSet,
                    train_count: int, held_count: int, held_names: Sequence[str] = (),
                    held_known: Sequence[str] = (), unreadable: int = 0,
                    set_aside: Sequence[str] = (), note: str = "") -> None:
        """The balance of the frames that would train, and which are held out (named: a
        share is drawn at random, so the user sees which before training); `held_known`:
        those the model in use was trained on, which flatter its "before" figure;
        `unreadable`: how many corrected frames were left out (unreadable, or a mask that
        does not fit its image); `set_aside`: those linked by propagation to a held-out
        frame, which do not train; `note`: why the held-out choice was not followed."""
        if rows:
            held = f" ({some_names(held_names, 4)})" if held_names else ""
            aside = (f"; {len(set_aside)} set aside ({some_names(set_aside, 4)}): linked by "
                     f"propagation to a held-out frame" if set_aside else "")
            known = (f". The current model was trained on {some_names(held_known, 4)}: its "
                     f"'before' figure there flatters it" if held_known else "")
            self.frames_label.setText(f"{train_count} frame(s) train, {held_count} held out"
                                      f"{held}{aside}{known}"
                                      + (f". {note[:1].upper()}{note[1:]}" if note else "")
                                      + self._unaccepted_note(set_aside))
            if self.holdout_mode.currentData() != CHOSEN:
                # the greyed list ticks the frames the share holds out (it showed the ticks
                # of an earlier choice by hand, kept for when that comes back)
                self._set_ticks(held_names)
        elif self.frame_list.count():
            reasons = []
            if self._unaccepted and not self.train_propagated.isChecked():
                reasons.append(f"{len(self._unaccepted)} hold propagated labels not accepted yet "
                               f"(accept them once looked over, or tick \"Train on "
                               f"propagated labels not accepted yet\")")
            if unreadable:
                reasons.append(f"{unreadable} cannot be used (\"Left out\" says why)")
            self.frames_label.setText("No frame would train: of the "
                                      f"{self.frame_list.count()} corrected frame(s), "
                                      + "; ".join(reasons or ["none can be used"]))
        self.balance_panel.set_rows(rows, label_set)

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
            holdout=self.holdout(), train_propagated=self.train_propagated.isChecked(),
            minutes=float(self.minutes.value()) or None, device=device, precision=precision)

    # ------------------------------------------------------------ run

    def set_running(self, running: bool, epochs: int = 1) -> None:
        self.train_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.refresh_button.setEnabled(not running)
        if running:
            self._started = time.monotonic()
            self._limit_s = 60.0 * self.minutes.value()  # the box may be edited meanwhile
            self._usable = False
            self.mark_in_use(False)
            self._worse = False
            self.progress.setRange(0, 0)  # busy until the first step
            self.loss_chart.clear(epochs)
            self.result_panel.clear()
            self.class_table.setRowCount(0)
            self.verdict_label.setText("")
            self.tabs.setCurrentWidget(self.loss_chart)

    def show_step(self, step: StepProgress) -> None:
        """A training step's progress: of the steps, or with a time limit of the time (a
        user's check: a one-minute round sat at "0 %  epoch 1/200" throughout), the whole
        round's (training gets what reading and measuring leave of it)."""
        left = step.seconds_left
        if self._limit_s > 0:
            elapsed = time.monotonic() - self._started
            self.progress.setRange(0, 1000)
            self.progress.setValue(min(1000, round(1000 * elapsed / self._limit_s)))
            left = max(0.0, self._limit_s - elapsed)
        else:
            self.progress.setRange(0, step.total_steps)
            self.progress.setValue(step.global_step)
        self.progress.setFormat(f"%p%  epoch {step.epoch + 1}/{step.epochs}  "
                                f"{format_duration(left)} left")

    def show_validation(self, record: ValidationRecord) -> None:
        self.loss_chart.add_point(record.epoch, record.train_loss)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)  # whole, where a long one is cut (`WrappedLabel`)

    def show_result(self, before: dict | None, after: dict | None, text: str, usable: bool,
                    held: int = 0, drift: float | None = None,
                    drift_frames: int = 0, uncorrected: int = 0, version: str = "") -> None:
        """A run's figures and their verdict (`report.headline`): a new model that scores
        worse on the held-out frames by mIoU or G and no better by the other is said so in
        red, and "Use this model" asks first; one better by one figure and worse by the
        other is called mixed. `version`: the new model's id, which the button names (beside
        "Use the selected version", a user could not tell which each would load)."""
        self.result_panel.show_result(before, after, text, held, drift, drift_frames,
                                      uncorrected)
        self.class_panel.show_result(before, after)
        self._worse = bool(held) and verdict(before, after) == Verdict.WORSE
        self.verdict_label.setStyleSheet(WORSE_STYLE if self._worse else "")
        self.verdict_label.setText(headline(before, after, held, drift) + ".")
        self.verdict_label.setToolTip(
            "G (global accuracy): the share of the held-out pixels the model gets right. mIoU: "
            "the mean over the classes of how well each is found; on a frame or two, a few "
            "stray pixels of a class the frames do not show count as a whole class scored 0, "
            "so the two can disagree." if held else "")
        self._usable = usable
        self._result_text = text
        self._version = version
        self.mark_in_use(False)
        self.tabs.setCurrentWidget(self.result_tab)

    def shown_miou(self) -> tuple[str, str]:
        """The mIoU row as displayed: (before, after) in percent text."""
        return self.result_panel.shown_miou()

    def mark_in_use(self, in_use: bool) -> None:
        """Whether the run's new model is the one the window segments with: then "Use this
        model" says "In use" and cannot be pressed."""
        self.use_button.setText("In use" if in_use else
                                f"Use this model ({self._version})" if self._version else
                                "Use this model")
        self.use_button.setEnabled(self._usable and not in_use)
        if self._usable:  # the result's text says it too
            self.result_label.setText(self._result_text + (
                " In use: the window segments with it." if in_use else
                " Not in use: the window segments with another model until you press Use "
                "this model."))

    def _use_model(self) -> None:
        if self._worse:
            answer = QMessageBox.question(
                self, "Use a worse model?",
                "The new model scores worse than the current one on the held-out frames. "
                "Segment with it anyway?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.useModelRequested.emit()

    # ------------------------------------------------------------ versions

    def set_versions(self, versions: Sequence[Version], current: str | None,
                     in_use_path: str | None, where: str) -> None:
        self.versions_label.setText(where)
        self.version_list.setToolTip(where)
        self.version_list.clear()
        for version in reversed(list(versions)):
            figures = ""
            if version.miou_after is not None:
                figures = "  " + version_figures(version, mark=False)
            marks = []
            if in_use_path is not None and str(version.path) == in_use_path:
                marks.append("in use")
            if version.id == current:
                marks.append("project's")
            if not version.parent and version.number == 1:
                marks.append("original")
            judged = verdict(*version.held_out_figures())
            if judged in (Verdict.WORSE, Verdict.MIXED):
                marks.append(str(judged))
            if version.recipe.get("stopped") == StopReason.CANCELLED.value:
                marks.append("cancelled")  # trained part way (a user's check: unmarked)
            # the marks, then the figures, the date last: the list is narrow
            text = (f"{version.id}" + (f" ({', '.join(marks)})" if marks else "")
                    + f"{figures}  {version.created.replace('T', ' ')[:16]}")
            item = QListWidgetItem(text)
            item.setToolTip(text)
            item.setData(Qt.ItemDataRole.UserRole, version.id)
            item.setData(_IN_USE, "in use" in marks)
            self.version_list.addItem(item)
        self._enable_use_version()

    def _enable_use_version(self) -> None:
        """"Use the selected version": for a version selected that is not in use already."""
        item = self.version_list.currentItem()
        self.use_version_button.setEnabled(item is not None and not item.data(_IN_USE))

    def _use_version(self) -> None:
        item = self.version_list.currentItem()
        if item is not None:
            self.useVersionRequested.emit(item.data(Qt.ItemDataRole.UserRole))
