"""Runs `export_masks` on a thread of its own, with progress and cancel.

The items' masks and images are functions called on the export thread; video frames are
read there by a FrameReader of the export's own (an OpenCV capture must not be shared).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from segnet_core.errors import FileFormatError, SegNetError
from segnet_core.export import export_masks

from app.workers.task import Task, WorkerThread


class ExportWorker(QObject):
    """`run(items, out_dir, formats, label_set, **options)` from the GUI thread; `progress`
    per item, `problem(path, reason)` per skipped item, then `finished(ExportResult)` or
    `failed(path, reason)` (a disk error names the file)."""

    progress = Signal(int, int)
    problem = Signal(object, str)
    finished = Signal(object)
    failed = Signal(object, str)

    def __init__(self) -> None:
        super().__init__()
        self._task: Task | None = None
        self.tasks = WorkerThread("export", self)
        self.tasks.start()
        self.busy = False

    def run(self, items, out_dir: str | Path, formats, label_set, options: dict[str, Any]) -> None:
        self.busy = True
        self._task = self.tasks.submit(self._run, list(items), Path(out_dir), list(formats),
                                        label_set, dict(options))

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        self.cancel()
        return self.tasks.shutdown(timeout_ms)

    def _run(self, task: Task, items, out_dir, formats, label_set, options) -> None:
        def on_error(item, error: SegNetError) -> None:
            reason = error.reason
            self.problem.emit(item.problem_file(error), f"{item.name}: not exported: {reason}")

        try:
            result = export_masks(items, out_dir, formats, label_set,
                                  progress=lambda done, total: self.progress.emit(done, total),
                                  on_error=on_error, cancel=task.token, **options)
        except FileFormatError as error:  # ExportError, DataError: they name the file
            self.busy = False
            self.failed.emit(Path(error.path), error.reason)
        except (SegNetError, ValueError, OSError) as error:
            self.busy = False
            self.failed.emit(Path(out_dir), str(error))
        else:
            self.busy = False
            self.finished.emit(result)
        finally:
            for item in items:
                release = getattr(item, "release", None)
                if release is not None:
                    release()
