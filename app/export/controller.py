"""File > Export...: gathers the frames to export (every frame with corrected labels, and
optionally the cached model predictions of the others), asks where and how with the
export dialog and runs `export_masks` in the export worker, with a progress bar and Cancel
in the status bar. Problems (a disk error names the file) go to the Problems dock.

Predictions: only frames already segmented (held in the prediction cache) are exported
with their predictions; frames never segmented are left out (run Segment > Segment all
first). The dialog says how many are cached.

Frames holding propagated labels not accepted yet are no correction: they are exported only
when the dialog's box for them is ticked, marked "propagated" in the manifest (never as
corrected, nor replaced by the model's prediction).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QProgressBar, QPushButton

from segnet_core.export import ExportItem, SourceSizes
from segnet_core.finetune.frames import corrected_or_predicted
from segnet_core.masks.labels_folder import MASK_SUFFIX, mask_name

from app.context import FeatureContext, MessageTime
from app.editing.store import location
from app.export.dialog import ExportDialog, ExportRequest
from app.export.worker import ExportWorker
from app.frames import FrameReader, FrameRef
from app.menus import Place


def export_name(ref: FrameRef) -> str:
    """The stem of a frame's exported files: that of its mask in the labels folder."""
    return mask_name(ref.path, ref.index)[: -len(MASK_SUFFIX)]


class ExportController(QObject):
    """Emits `exportFinished(result or None)` when an export ends (None: it failed)."""

    exportFinished = Signal(object)

    def __init__(self, context: FeatureContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.worker = ExportWorker()
        self.dialog: ExportDialog | None = None
        self.last_result = None
        self.split_box: QMessageBox | None = None  # the warning that a split got nothing
        self._reader: FrameReader | None = None
        self._left_out = 0  # frames with propagated labels not accepted, left out of the export
        self._unsaved = 0  # frames exported with edits not saved yet (as shown)
        #: whether a frame's labels may score a model: not carried by a propagation nor saved
        #: as predicted (the window sets it); a split puts only those in val and test
        self.may_score: Callable[[FrameRef], bool] = lambda _ref: True
        #: the masks (names) a frame's labels were carried from by a propagation (the window
        #: sets `PropagationController.carried_from`): a split keeps them together
        self.carried_from: Callable[[FrameRef], tuple[str, ...]] = lambda _ref: ()
        self.action = context.host.action(
            "&Export...", "Ctrl+E", tip="Write the corrected masks in other tools' formats")
        context.menus.add(Place.FILE_EXPORT, self.action)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setFormat("export %v / %m")
        self.cancel_button = QPushButton("Cancel export")
        context.host.add_status_widget(self.progress)
        context.host.add_status_widget(self.cancel_button)
        self._show_progress(False)
        self.action.triggered.connect(self.ask)
        self.cancel_button.clicked.connect(self.cancel)
        self.worker.progress.connect(self._on_progress)
        self.worker.problem.connect(context.problems.add)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)

    # ------------------------------------------------------------ items

    def corrected_refs(self) -> list[FrameRef]:
        """The frames with labels of the user's (the frame list's corrected frames), those
        with propagated labels not accepted yet among them."""
        return self.context.frames.corrected()

    def counts(self) -> tuple[int, int, int]:
        """(corrected, propagated not accepted yet, segmented among the others) frames."""
        with_labels = set(self.corrected_refs())
        propagated = sum(1 for ref in with_labels if self.context.labels.unaccepted(ref))
        cached = sum(1 for ref in self.context.frames
                     if ref not in with_labels and ref in self.context.cache)
        return len(with_labels) - propagated, propagated, cached

    def items(self, include_predictions: bool,
              include_propagated: bool = False) -> list[ExportItem]:
        context = self.context
        store, label_set, cache = context.labels, context.display.label_set, context.cache
        reader = self._reader = FrameReader()  # used on the export thread only
        corrected = set(self.corrected_refs())
        sizes = SourceSizes()  # read on the export thread, once a file
        items = []
        self._unsaved = 0
        for ref in context.frames:
            labels = store.get(ref)
            correction = prediction = None
            propagated = ref in corrected and store.unaccepted(ref)
            if propagated and not include_propagated:
                continue
            if ref in corrected:
                if labels is not None and not labels.locked and labels.started:
                    correction = labels.mask.copy()  # what the user sees, saved or not
                    self._unsaved += labels.dirty
                else:
                    folder, name = location(ref)
                    correction = (lambda folder=folder, name=name: folder.read(name, label_set))
            if correction is None and include_predictions and ref in cache:
                prediction = cache.get(ref).labels
            chosen = corrected_or_predicted(correction, prediction)
            if chosen is None:
                continue
            mask, is_corrected = chosen
            image = ref.path if ref.index is None else (lambda ref=ref: reader.read(ref))
            fps = None if ref.index is None else context.frames.video_fps(ref.path)
            # the image's size, from its header or its video's, for the formats that write
            # the mask alone (a review: a saved mask of another size went out as corrected)
            size = (lambda path=ref.path: sizes.of(path))
            items.append(ExportItem(name=export_name(ref), mask=mask, corrected=is_corrected,
                                    image=image, source=ref.path, frame=ref.index, fps=fps,
                                    size=size,
                                    propagated=propagated, scorable=self.may_score(ref),
                                    carried_from=tuple(name[: -len(MASK_SUFFIX)] for name
                                                       in self.carried_from(ref))))
        return items

    # ------------------------------------------------------------ running

    def ask(self) -> ExportDialog:
        """Open the export dialog (not modal to the test driving it); Export starts it."""
        settings = self.context.settings
        project = self.context.open_folder
        folder = "" if project is None else (settings.export_folder(project)
                                             or str(project / "export"))
        corrected, propagated, cached = self.counts()
        self.dialog = ExportDialog(self.context.host.widget, Path(folder) if folder else None,
                                   corrected=corrected, cached=cached, propagated=propagated)
        if settings.export_formats:
            self.dialog.set_formats(settings.export_formats)  # as last time
        self.dialog.set_choices(**settings.export_choices)
        self.dialog.accepted.connect(lambda d=self.dialog: self._remember(d.request()))
        self.dialog.accepted.connect(lambda d=self.dialog: self.export(d.request()))
        self.dialog.open()
        return self.dialog

    def _remember(self, request: ExportRequest) -> None:
        self.context.settings.export_formats = request.formats
        project = self.context.open_folder
        if project is not None:
            self.context.settings.set_export_folder(project, request.out_dir)
        # not the propagated labels' box: leaving them out is the safe start each time
        self.context.settings.export_choices = {
            "split": list(request.split or (1.0,)), "predictions": request.include_predictions,
            "min_area": request.min_area}

    def export(self, request: ExportRequest) -> bool:
        if self.worker.busy:
            self.context.host.show_message("An export is running already", MessageTime.LONG)
            return False
        items = self.items(request.include_predictions, request.include_propagated)
        _corrected, propagated, _cached = self.counts()
        self._left_out = 0 if request.include_propagated else propagated
        if not items:
            aside = (f" ({propagated} with propagated labels not accepted yet: accept them, or "
                     "tick their box to export them as such)" if self._left_out else "")
            self.context.host.show_message(
                "Nothing to export: no frame is corrected"
                + (" or segmented" if request.include_predictions else "") + aside,
                MessageTime.LONG)
            return False
        self.progress.setRange(0, len(items))
        self.progress.setValue(0)
        self._show_progress(True)
        self.action.setEnabled(False)
        self.context.host.show_message(f"Exporting {len(items)} frame(s) to "
                                       f"{request.out_dir}...", MessageTime.UNTIL_REPLACED)
        self.worker.run(items, request.out_dir, request.formats, self.context.display.label_set,
                        {"split": request.split, "alpha": request.alpha,
                         "min_area": request.min_area})
        return True

    def cancel(self) -> None:
        self.worker.cancel()
        self.cancel_button.setEnabled(False)

    def shutdown(self) -> None:
        self.worker.shutdown()
        self._close_reader()

    def _show_progress(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)
        self.cancel_button.setEnabled(on)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _end(self) -> None:
        self._show_progress(False)
        self.action.setEnabled(True)
        self._close_reader()

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _on_finished(self, result) -> None:
        self._end()
        self.last_result = result
        what = "Export cancelled" if result.cancelled else "Exported"
        text = (f"{what}: {result.exported} of {result.total} frame(s) ({result.kinds()}), "
                f"{result.written} files; manifest {result.manifest}{result.removed_note()}")
        if self._unsaved:  # a user's check: unsaved edits were exported unsaid, and lost
            # from labels/ on a Discard at quit
            text += (f"; {self._unsaved} with edits not saved yet, exported as shown (save "
                     "them to keep them in labels/ too)")
        if self._left_out:
            text += (f"; {self._left_out} with propagated labels not accepted yet left out (the "
                     "dialog's box for them exports them)")
        if result.skipped:
            text += f"; {len(result.skipped)} skipped (see Problems)"
        text += result.left_out_notes()
        for name, fmt, reason in result.left_out:  # the status bar cuts long messages short
            self.context.problems.add(result.out_dir / fmt,
                                      f"export: {name} left out of {fmt}/ only: {reason}")
        if result.split_counts:
            text += f" ({result.split_sizes()})"
        text += result.split_notes()
        self.context.host.show_message(text, MessageTime.LONG)
        if result.empty_splits and not result.cancelled:
            self._warn_split(result)
        self.exportFinished.emit(result)

    def _warn_split(self, result) -> None:
        """Say, in a box the user sees, that a split asked for got nothing (a user's check
        found it at the end of a status message cut short)."""
        if self.split_box is not None:
            self.split_box.close()  # one box: the last export's
        box = self.split_box = QMessageBox(self.context.host.widget)
        box.setWindowTitle("Export")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(f"No frame went to {' or '.join(result.empty_splits)}.")
        counts = result.split_sizes()
        box.setInformativeText(
            "Neighbouring frames stay in one split, val and test take only corrections of "
            "your own (not predictions, propagated labels, or labels saved as predicted), and "
            "a small fraction of a few frames rounds to none: correct frames further apart, "
            "or change the fractions. "
            + (f"Exported: {counts}." if counts else "Nothing went to a split."))
        box.setModal(False)  # the window stays usable while it is read
        box.show()

    def _on_failed(self, path, reason: str) -> None:
        self._end()
        self.last_result = None
        self.context.problems.add(path, f"export failed: {reason}")
        self.context.problems.show()
        self.context.host.show_message(f"Export failed: {path}: {reason}", MessageTime.LONG)
        self.exportFinished.emit(None)
