"""The fine-tune panel's layout (issue 18, item 5): its actions stay in view at the window's
default 1280x800 without scrolling, the results sit in tabs, the dock leaves the canvas room
and can float; a new model that scores worse on the held-out frames is said so plainly and
"Use this model" asks first."""

from __future__ import annotations

from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QMessageBox

from app.training.panel import TrainingPanel

BEFORE = {"global_accuracy": 0.9, "class_accuracy": 0.7, "miou": 0.6, "bf": 0.5,
          "per_class": [{"name": "void", "iou": 0.9, "accuracy": 0.95, "bf": 0.5},
                        {"name": "road", "iou": 0.3, "accuracy": 0.45, "bf": 0.4}]}
AFTER = {"global_accuracy": 0.85, "class_accuracy": 0.65, "miou": 0.5, "bf": 0.45,
         "per_class": [{"name": "void", "iou": 0.8, "accuracy": 0.9, "bf": 0.45},
                       {"name": "road", "iou": 0.2, "accuracy": 0.4, "bf": 0.3}]}


def test_actions_in_view_and_results_in_tabs_at_1280x800(qtbot, make_window):
    window = make_window()
    layer, panel = window.training, window.training.panel
    assert (window.width(), window.height()) == (1280, 800)
    with qtbot.waitSignal(layer.dock.visibilityChanged, timeout=10000):
        layer.action.trigger()  # Train > Fine-tune...
    qtbot.waitUntil(lambda: panel.train_button.isVisible(), timeout=10000)
    QApplication.processEvents()
    dock_rect = QRect(layer.dock.mapTo(window, layer.dock.rect().topLeft()), layer.dock.size())
    for button in (panel.train_button, panel.cancel_button, panel.use_button,
                   panel.use_version_button):
        assert button.isVisible(), button.text()
        shown = QRect(button.mapTo(window, button.rect().topLeft()), button.size())
        assert dock_rect.contains(shown), button.text()  # no scrolling needed to reach it
        assert button.visibleRegion().boundingRect() == button.rect(), button.text()
    assert panel.version_list.isVisible()
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == [
        "Setup", "Result", "Per class", "Balance", "Loss"]
    assert layer.dock.width() <= 420 and window.canvas.width() >= 600
    assert layer.dock.features() & QDockWidget.DockWidgetFeature.DockWidgetFloatable


def _answer_box(button: QMessageBox.StandardButton, seen: list) -> None:
    """Click `button` of the modal box once it is up (and note what was up)."""
    def answer() -> None:
        box = QApplication.activeModalWidget()
        seen.append(box)
        if isinstance(box, QMessageBox):
            box.button(button).click()
    QTimer.singleShot(100, answer)


def test_a_worse_model_is_said_plainly_and_use_asks_first(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.resize(380, 700)
    panel.show()
    uses = []
    panel.useModelRequested.connect(lambda: uses.append(True))
    panel.show_result(BEFORE, AFTER, "Finished", True, held=3, drift=0.0312, drift_frames=5)
    assert panel.verdict_label.text() == (
        "mIoU 60.0 -> 50.0 %, G 90.0 -> 85.0 % on 3 held-out frame(s); drift "
        "3.1 %. The new model scores WORSE than the current one on the held-out frames.")
    assert panel.summary_table.horizontalHeaderItem(0).text().startswith("3 held-out")
    assert "3.1 %" in panel.drift_label.text() and "5 uncorrected" in panel.drift_label.text()
    assert panel.class_table.rowCount() == 2
    assert panel.tabs.currentWidget() is panel.result_tab

    seen: list = []
    _answer_box(QMessageBox.StandardButton.No, seen)
    panel.use_button.click()
    assert isinstance(seen[0], QMessageBox) and uses == []
    _answer_box(QMessageBox.StandardButton.Yes, seen)
    panel.use_button.click()
    assert isinstance(seen[1], QMessageBox) and uses == [True]

    panel.show_result(AFTER, BEFORE, "Finished", True, held=3, drift=None)
    assert "WORSE" not in panel.verdict_label.text()
    assert "not measured" in panel.drift_label.text()
    panel.use_button.click()  # better: no question
    assert uses == [True, True]

    # one held-out frame: more pixels right, but mIoU lower (a stray class scored 0): mixed,
    # rough, and no question
    mixed = dict(AFTER, global_accuracy=0.95)
    panel.show_result(BEFORE, mixed, "Finished", True, held=1)
    assert panel.verdict_label.text() == (
        "mIoU 60.0 -> 50.0 %, G 90.0 -> 95.0 % on 1 held-out frame(s) (rough: so "
        "few frames). Mixed: G rose, mIoU fell.")
    assert panel.verdict_label.styleSheet() == ""
    assert "stray pixels" in panel.verdict_label.toolTip()
    panel.use_button.click()
    assert uses == [True, True, True]


def test_a_short_dock_scrolls_the_result_instead_of_drawing_it_over_the_table(qtbot):
    """Docked above another dock the panel may be short: the Result tab then scrolls, its
    text below the table, not painted over it; the version list says which version is in
    use first (the list is narrow)."""
    from pathlib import Path
    from segnet_core.finetune.versions import Version

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.resize(300, 470)
    panel.show()
    long_text = "Finished in 0:17: held-out mIoU 67.1 % -> 32.2 %, 7 frame(s) trained. " * 4
    panel.show_result(BEFORE, AFTER, long_text, True, held=2, drift=0.178, drift_frames=11)
    QApplication.processEvents()
    table, drift, text = panel.summary_table, panel.drift_label, panel.result_label
    assert table.geometry().bottom() < drift.geometry().top()
    assert drift.geometry().bottom() < text.geometry().top()
    assert text.height() >= text.heightForWidth(text.width())  # whole, to scroll to
    assert panel.result_tab.verticalScrollBar().maximum() > 0

    versions = [Version(f"v00{i}", i, Path(f"/p/v00{i}.pt"), None if i == 1 else f"v00{i - 1}",
                        "2026-12-06T11:26:00", {}, 0.671, 0.322, 0.85, 0.88) for i in (1, 2)]
    versions.append(Version("v003", 3, Path("/p/v003.pt"), "v002", "2026-12-06T12:00:00", {},
                            0.5, 0.6))  # an index written before G was kept
    panel.set_versions(versions, "v002", "/p/v002.pt", "Saved in /p")
    # the marks (the verdict among them), then the figures, the date last: the list is narrow
    assert panel.version_list.item(1).text() == (
        "v002 (in use, project's, mixed)  mIoU 67.1 -> 32.2, G 85.0 -> 88.0  2026-12-06 11:26")
    assert panel.version_list.item(2).text().startswith("v001 (original, mixed)")
    assert panel.version_list.item(0).text() == "v003  mIoU 50.0 -> 60.0  2026-12-06 12:00"


def test_in_a_short_dock_the_status_and_verdict_show_whole_and_the_tabs_give_way(qtbot):
    """A user's check saw the red verdict cut at top and bottom in a dock shared with the
    class panel: the wrapped status and verdict keep the height their text needs, the tabs
    below get what is left."""
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 420)
    panel.show()
    status = ("Finished in 10:20: saved as v002, which scores WORSE on the held-out frames "
              "(figures in the Result tab). ") * 2
    panel.show_status(status)
    panel.show_result(BEFORE, AFTER, "Finished", True, held=1, drift=0.076, drift_frames=30)
    QApplication.processEvents()
    for label in (panel.status_label, panel.verdict_label):
        assert label.text()
        assert label.height() >= label.heightForWidth(label.width()), label.text()
    assert panel.status_label.geometry().bottom() < panel.verdict_label.geometry().top()
    panel.resize(320, 700)  # taller again: the labels keep what they need, no more
    QApplication.processEvents()
    assert panel.verdict_label.height() == panel.verdict_label.heightForWidth(
        panel.verdict_label.width())


def test_a_long_status_is_cut_at_its_lines_and_never_makes_the_window_grow(qtbot, make_window):
    """A fine-tune that leaves out many frames lists each reason in its status: the label
    asks for a few lines at most (its tooltip holds it whole), so the window keeps its size
    (a review saw 40 reasons grow the window to 1325 px)."""
    window = make_window()
    layer, panel = window.training, window.training.panel
    with qtbot.waitSignal(layer.dock.visibilityChanged, timeout=10000):
        layer.action.trigger()
    qtbot.waitUntil(lambda: panel.train_button.isVisible(), timeout=10000)
    status = "Left out: " + "; ".join(f"frame_{i:03d}.png: its mask is 100x100, its image "
                                      "360x480" for i in range(40))
    panel.show_status(status)
    for _ in range(3):
        QApplication.processEvents()
    label = panel.status_label
    assert (window.width(), window.height()) == (1280, 800)
    assert window.minimumSizeHint().height() <= 800
    assert label.cap() <= label.height() < label.heightForWidth(label.width())
    assert label.toolTip() == status
    for button in (panel.train_button, panel.use_button):
        assert button.visibleRegion().boundingRect() == button.rect()


def test_the_balance_table_shows_its_figures_whole_in_a_narrow_dock(qtbot):
    """A user's check saw the Pixels column cut to "110,..." in the dock's width: each column
    is as wide as its widest figure, and the table scrolls sideways instead."""
    from segnet_core.finetune.settings import ClassBalanceRow
    from segnet_core.labels import camvid_label_set

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 600)
    panel.show()
    rows = [ClassBalanceRow(name, 110_592_000 + i, 0.1234, 1.234, 0.25, 30)
            for i, name in enumerate(["Sky", "Building", "Pavement"])]
    label_set = camvid_label_set()
    panel.balance_panel.set_rows({mode: rows for mode in
                                  [panel.balance_mode.itemData(i)
                                   for i in range(panel.balance_mode.count())]}, label_set)
    panel.tabs.setCurrentIndex(3)
    QApplication.processEvents()
    table = panel.balance_table
    metrics = table.fontMetrics()
    for column in range(table.columnCount()):
        widest = max(metrics.horizontalAdvance(table.item(row, column).text())
                     for row in range(table.rowCount()))
        assert table.columnWidth(column) >= widest, table.horizontalHeaderItem(column).text()
    assert table.horizontalScrollBar().maximum() > 0  # more than the dock's width: it scrolls


def test_the_drift_says_when_it_rests_on_frames_spread_over_more_uncorrected_ones(qtbot):
    """The drift is measured on at most 30 frames spread over the uncorrected ones: a user
    read "30 uncorrected frame(s)" of a video with 33 and could not tell where 30 came from."""
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.show_result(BEFORE, AFTER, "Finished", True, held=1, drift=0.077, drift_frames=30,
                      uncorrected=33)
    assert panel.drift_label.text() == ("Drift: 7.7 % of the pixels of 30 frames spread over "
                                        "the 33 uncorrected ones change class with the new model")
    panel.show_result(BEFORE, AFTER, "Finished", True, held=1, drift=0.077, drift_frames=12,
                      uncorrected=12)
    assert panel.drift_label.text() == ("Drift: 7.7 % of the pixels of 12 uncorrected frame(s) "
                                        "change class with the new model")


def test_the_wheel_over_a_setting_scrolls_the_setup_and_changes_nothing_until_clicked(qtbot):
    """A user's check: a wheel over the Setup tab turned "Start from" to "Scratch (same
    architecture)" and left the tab unscrolled."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QScrollArea

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.resize(380, 420)  # the Setup tab shorter than its form
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=5000)
    scroll = panel.tabs.widget(0)
    assert isinstance(scroll, QScrollArea) and scroll.verticalScrollBar().maximum() > 0
    bar = scroll.verticalScrollBar()

    def wheel_over(widget, notches: int) -> None:
        """A wheel over `widget`'s middle, as Qt gives it the event: a spin box's line edit
        is under the pointer, ignores the wheel, and Qt passes it to the spin box (an event
        sent, not spontaneous, is not passed on by Qt 6, so it goes to the spin box here)."""
        point = widget.rect().center()
        QApplication.sendEvent(widget, QWheelEvent(
            QPointF(point), QPointF(widget.mapToGlobal(point)), QPoint(0, 0),
            QPoint(0, 120 * notches), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase, False))

    for setting in (panel.start_mode, panel.epochs, panel.holdout_share):
        scroll.ensureWidgetVisible(setting)
        values = (panel.start_mode.currentIndex(), panel.epochs.value(),
                  panel.holdout_share.value())
        before = bar.value()
        wheel_over(setting, -1 if before < bar.maximum() else 1)
        assert (panel.start_mode.currentIndex(), panel.epochs.value(),
                panel.holdout_share.value()) == values
        assert bar.value() != before, setting  # the form scrolled instead
    # clicked into, the spin box takes the wheel as usual
    scroll.ensureWidgetVisible(panel.epochs)
    edit = panel.epochs.lineEdit()  # under the pointer
    QTest.mouseClick(edit, Qt.MouseButton.LeftButton, pos=edit.rect().center())
    assert panel.epochs.hasFocus()
    epochs = panel.epochs.value()
    wheel_over(panel.epochs, 1)
    assert panel.epochs.value() == epochs + 1
