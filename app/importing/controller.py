"""File > Import labels...: masks made by other tools (CamVid, Pascal VOC, COCO, colour or
index PNGs) for the images of the open folder, written into its labels folder by
`segnet_core.importing.import_labels` on a worker thread, with progress and Cancel in the
status bar. The report (written, kept, unknown classes, unmatched files) is shown in a box
that does not block the window; the imported frames are then corrected everywhere (the
frame statuses are read again from the labels folder)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QMessageBox

from segnet_core.errors import SegNetError
from segnet_core.importing import ImportReport, import_labels
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import LABELS_FOLDER, LabelsFolder

from app.context import FeatureContext, MessageTime
from app.editing.store import location
from app.importing.dialog import ImportDialog, ImportRequest
from app.menus import Place
from app.widgets.task_progress import TaskProgress
from app.workers.task import Task, WorkerThread


def _run(task: Task, request: ImportRequest, images_dir: Path,
         label_set: LabelSet, held: frozenset[str]) -> ImportReport:
    return import_labels(request.source, images_dir, request.format, label_set=label_set,
                         overwrite=request.overwrite, uncorrected=request.uncorrected,
                         progress=lambda done, total: task.report((done, total)),
                         cancel=task.token, held=held)


class ImportController(QObject):
    """Emits `importFinished(ImportReport or None)` when an import ends (None: it failed).
    `rescan(labels folder root)` reads a labels folder's masks again (the frame statuses)."""

    importFinished = Signal(object)

    def __init__(self, context: FeatureContext, rescan: Callable[[Path], int],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._rescan = rescan
        #: the import noted masks as carried by propagation in `propagated_from.txt` (the
        #: window sets `PropagationController.refresh_links`)
        self.links_written: Callable[[], None] = lambda: None
        #: the import listed masks (names in a labels folder) as saved as predicted (the
        #: window sets `AsPredictedList.list_imported`)
        self.as_predicted_written: Callable[[Path, list[str]], None] = lambda _f, _n: None
        self.dialog: ImportDialog | None = None
        self.report_box: QMessageBox | None = None
        self.last_report: ImportReport | None = None
        self._task: Task | None = None
        self.action = context.host.action(
            "&Import labels...", tip="Bring in masks made by other tools (CamVid, VOC, COCO, "
                                     "colour or index PNGs) for the open folder's images")
        context.menus.add(Place.FILE_LABELS, self.action)
        self.progress = TaskProgress("import")
        context.host.add_status_widget(self.progress)
        self.tasks = WorkerThread("import", self)
        self.tasks.progress.connect(lambda task, value: task is self._task
                                    and self.progress.set_progress(*value))
        self.tasks.returned.connect(lambda task, report: task is self._task
                                    and self._on_report(report))
        self.tasks.errored.connect(lambda task, error: task is self._task
                                   and self._on_error(error))
        self.progress.cancelClicked.connect(self.cancel)
        self.action.triggered.connect(self.ask)
        self.tasks.start()

    def images_dir(self) -> Path | None:
        """The open folder: that of the frame shown, else of the first frame."""
        return self.context.open_folder

    def ask(self) -> ImportDialog | None:
        """Open the import dialog (not modal to the test driving it); Import starts it."""
        images = self.images_dir()
        if images is None:
            self.context.host.show_message("Open the images first: masks are imported for "
                                           "the open folder", MessageTime.LONG)
            return None
        existing = len(LabelsFolder(images / LABELS_FOLDER).mask_names())
        self.dialog = ImportDialog(self.context.host.widget, images, existing,
                                   self.context.settings.last_folder,
                                   self.context.settings.import_source(images))
        self.dialog.finished.connect(
            lambda result, d=self.dialog: result == QDialog.DialogCode.Accepted
            and self.start(d.request()))
        self.dialog.open()
        return self.dialog

    def start(self, request: ImportRequest) -> bool:
        """Import for the open folder with the current model's classes."""
        images = self.images_dir()
        if self._task is not None:
            self.context.host.show_message("An import is running already", MessageTime.LONG)
            return False
        if images is None:
            return False
        self.context.settings.set_import_source(images, request.source, request.format.value)
        self.action.setEnabled(False)
        self.progress.start()
        self.context.host.show_message(f"Importing labels from {request.source}...",
                                       MessageTime.UNTIL_REPLACED)
        self._task = self.tasks.submit(_run, request, images, self.context.display.label_set,
                                       self._held(images / LABELS_FOLDER))
        return True

    def _held(self, labels_root: Path) -> frozenset[str]:
        """The masks of `labels_root` the window holds edits of that are not saved yet, or
        whose save is on its way: saved, they would replace what is imported (a user's
        check: two propagated frames not saved were counted as imported, then their
        autosave put the propagated labels back over the imported masks)."""
        store = self.context.labels
        held = set()
        for ref in self.context.frames:
            labels = store.get(ref)
            if (labels is not None and labels.dirty) or store.saving(ref):
                folder, name = location(ref)
                if folder.root == labels_root:
                    held.add(name)
        return frozenset(held)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def shutdown(self) -> None:
        self.cancel()
        self.tasks.shutdown()

    def _end(self) -> None:
        self._task = None
        self.progress.end()
        self.action.setEnabled(True)

    def _on_report(self, report: ImportReport) -> None:
        self._end()
        self.last_report = report
        if report.carried_noted:
            self.links_written()  # before the masks are measured: they are no evidence
        if not report.cancelled:
            self._rescan(report.out_dir)
        if report.as_predicted_noted:  # after the rescan, which takes changed masks off it
            self.as_predicted_written(report.out_dir, report.as_predicted_noted)
        lines = report.lines(limit=3)
        if report.cancelled:
            summary = "Import cancelled: nothing was written"
        else:
            replaced = len(report.replaced)
            # counted as export counts them: propagated labels not accepted are not (a
            # user's check: import said 15 corrected in all, export 14)
            unaccepted = self.context.labels.unaccepted
            corrected = sum(1 for ref in self.context.frames.corrected() if not unaccepted(ref))
            summary = (f"Imported {len(report.written)} mask(s) ({report.format.value}): "
                       f"{len(report.written) - replaced} new, {replaced} replacing saved "
                       f"ones; {corrected} corrected in all")
        self.context.host.show_message(summary, MessageTime.LONG)
        self._show_report(summary, lines[1:] if not report.cancelled else [],
                          report.format_line(), report.lines(limit=100000),
                          warn=report.needs_attention)
        self.importFinished.emit(report)

    def _on_error(self, error: Exception) -> None:
        self._end()
        self.last_report = None
        where = error.path if isinstance(error, SegNetError) else None
        reason = error.reason if isinstance(error, SegNetError) else str(error)
        self.context.problems.add(where, f"import failed: {reason}")
        self.context.host.show_message(f"Import failed: {reason}", MessageTime.LONG)
        self.importFinished.emit(None)
        if not isinstance(error, (SegNetError, OSError, ValueError)):
            sys.excepthook(type(error), error, error.__traceback__)  # a bug, not a bad file

    def _show_report(self, summary: str, lines: list[str], format_line: str,
                     everything: list[str], warn: bool = False) -> None:
        """`warn`: a warning's icon (something lost or maybe wrong), else an information's
        (a user's import of four corrections from a folder of many showed a warning)."""
        box = self.report_box = QMessageBox(self.context.host.widget)
        box.setWindowTitle("Import labels")
        box.setIcon(QMessageBox.Icon.Warning if warn else QMessageBox.Icon.Information)
        box.setText(summary)
        box.setInformativeText("\n".join([format_line, *lines]))
        box.setDetailedText("\n".join([format_line, *everything]))  # every file named
        box.setModal(False)  # the window stays usable while the report is read
        box.show()
