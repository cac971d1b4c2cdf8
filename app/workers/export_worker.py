"""Runs `export_masks` on a thread of its own, with progress and cancel.

The items' masks and images are functions called on the export thread; video frames are
read there by a FrameReader of the export's own (an OpenCV capture must not be shared).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from segnet_core.errors import FileFormatError, SegNetError
from segnet_core.export import export_masks
from segnet_core.events import CancelToken


class ExportWorker(QObject):
    """`run(items, out_dir, formats, label_set, **options)` from the GUI thread; `progress`
    per item, `problem(path, reason)` per skipped item, then `finished(ExportResult)` or
    `failed(path, reason)` (a disk error names the file)."""

    progress = Signal(int, int)
    problem = Signal(object, str)
    finished = Signal(object)
    failed = Signal(object, str)
    _start = Signal(object, object, object, object, object)

    def __init__(self) -> None:
        super().__init__()
        self._cancel: CancelToken | None = None
        self._thread = QThread()
        self._thread.setObjectName("export")
        self.moveToThread(self._thread)
        self._start.connect(self._run, Qt.ConnectionType.QueuedConnection)
        self._thread.start()
        self.busy = False

    def run(self, items, out_dir: str | Path, formats, label_set, options: dict[str, Any]) -> None:
        self.busy = True
        self._cancel = CancelToken()
        self._start.emit(list(items), Path(out_dir), list(formats), label_set,
                         dict(options, cancel=self._cancel))

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        self.cancel()
        self._thread.quit()
        return self._thread.wait(timeout_ms)

    @Slot(object, object, object, object, object)
    def _run(self, items, out_dir, formats, label_set, options) -> None:
        def on_error(item, error: SegNetError) -> None:
            reason = getattr(error, "reason", str(error))
            self.problem.emit(item.where, f"{item.name}: not exported: {reason}")

        try:
            result = export_masks(items, out_dir, formats, label_set,
                                  progress=lambda done, total: self.progress.emit(done, total),
                                  on_error=on_error, **options)
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
