"""Moving between the open frames: the frame asked for, the list, timeline and title that
follow it at once, the image once the loader has read it, the overlay from the cache or
once the inference worker has segmented it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QSignalBlocker, Signal

from app.context import FeatureContext, MessageTime
from app.document import FrameDocument
from app.editing.store import MaskFile
from app.frames import LABELLED, FrameRef
from app.widgets.frame_list import FrameListView
from app.widgets.timeline import Timeline
from app.workers.frame_loader import FrameLoader


class NavigationController(QObject):
    """Emits `stepped()` after a step to the next, previous, first or last frame (playback
    pauses)."""

    stepped = Signal()

    def __init__(self, context: FeatureContext, loader: FrameLoader, frame_view: FrameListView,
                 timeline: Timeline, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.loader = loader
        self.frame_view = frame_view
        self.timeline = timeline
        self._wanted: FrameRef | None = None  # the frame asked for, shown once loaded
        self._unreadable_said: str | None = None  # the status bar's "X cannot be read"
        #: the frames shown above and below the one gone to, when it was (None: an end)
        self._neighbours: tuple[FrameRef | None, FrameRef | None] = (None, None)
        self._arrived_as = None  # the status of the frame gone to, when it was
        loader.loaded.connect(self._on_frame_loaded)
        loader.failed.connect(self._on_frame_failed)
        frame_view.rowChosen.connect(self.show_row)
        timeline.frameChosen.connect(self._on_timeline)

    @property
    def wanted(self) -> FrameRef | None:
        """The frame last asked for (its image may still be loading)."""
        return self._wanted

    def current_row(self) -> int | None:
        return None if self._wanted is None else self.context.frames.row_of(self._wanted)

    def step(self, delta: int) -> None:
        """Go `delta` rows on in the list as it is shown: sorted by estimate, the next row
        of the sorted list, so a labeller working down it keeps their place."""
        row = self.current_row()
        if row is not None:
            frames = self.context.frames
            # only an edit of the frame itself moves it away from where the user is (it
            # became labelled since): rows moving around it, or the frame segmented, move no
            # place (a review; a user's re-check)
            status = frames.status(frames[row])
            edited = status != self._arrived_as and status in LABELLED
            rows = tuple(None if ref is None else frames.row_of(ref) for ref in self._neighbours)
            self.show_row(self.frame_view.step_from(row, delta, rows if edited else None))
        self.stepped.emit()

    def go_to_end(self, last: bool) -> None:
        """Go to the first (last) frame of the list as it is shown (Home, End; a user's
        check: no key went there)."""
        row = self.frame_view.end_row(last)
        if row is not None:
            self.show_row(row)
        self.stepped.emit()

    def show_row(self, row: int) -> None:
        """Go to frame `row`: the list, timeline and title follow at once, the image when the
        loader has read it, the overlay from the cache or when the worker has segmented it."""
        frames = self.context.frames
        if not 0 <= row < len(frames) or frames[row] == self._wanted:
            return
        ref = self._wanted = frames[row]
        self._select(row)
        span = frames.video_span(ref.path) if ref.is_video_frame else None
        if span is None:
            self.timeline.setVisible(False)
        else:
            self.timeline.show_video(span[1], ref.index)
        self.context.host.set_title(f"{ref.name} - SegNet Studio")
        self.context.inference.drop_pending()  # the frame it waits for is no longer wanted
        self.loader.request(ref)

    def follow(self, ref: FrameRef) -> None:
        """`ref` is on screen, shown by someone else (playback): its row is selected, and
        loads of other frames no longer count."""
        self._wanted = ref
        row = self.context.frames.row_of(ref)
        if row is not None:
            self._select(row)

    def reload(self) -> None:
        """Show the frame asked for again the usual way (its own prediction or a request for
        it, its labels for editing), e.g. after playback."""
        row = self.current_row()
        if row is not None:
            self._wanted = None
            self.show_row(row)

    def readable_again(self, ref: FrameRef) -> None:
        """`ref` was read after all (a file mended since it failed): shown as nothing while
        wanted, it is loaded again."""
        if ref == self._wanted and self.context.display.document is None:
            self.reload()

    def _select(self, row: int) -> None:
        with QSignalBlocker(self.frame_view):  # no second show_row from the list
            self.frame_view.select_row(row)
        frames = self.context.frames  # where the user is in the list: between these
        self._neighbours = tuple(None if other is None else frames[other]
                                 for other in self.frame_view.neighbours(row))
        self._arrived_as = frames.status(frames[row])

    def _on_frame_loaded(self, ref: FrameRef, image: np.ndarray, saved: MaskFile) -> None:
        if ref != self._wanted:
            return
        context = self.context
        context.frames_model.mark_read(ref)
        if self._unreadable_said is not None:  # an earlier frame's "cannot be read"
            context.host.withdraw_message(self._unreadable_said)
            self._unreadable_said = None
        document = FrameDocument(ref, image, context.cache.get(ref),
                                 context.labels.open(ref, image.shape[:2], saved))
        context.display.show(document)
        if document.prediction is None or context.cache.is_unestimated(ref):
            context.inference.request(ref, image)  # the result, or (again) its estimate

    def _on_frame_failed(self, ref: FrameRef, reason: str) -> None:
        if self.context.frames_model.mark_unreadable(ref):  # said once
            self.context.problems.add(ref.path, reason, unreadable=True)
        if ref == self._wanted:
            self.context.display.show(None)
            self._unreadable_said = f"{ref.name} cannot be read (View > Problems)"
            self.context.host.show_message(self._unreadable_said, MessageTime.LONG)
            self.context.display.canvas.set_placeholder(  # where the user looks
                f"{ref.name} cannot be read: {reason}\n\n{ref.path}\n\nD / A: the next or "
                "previous frame. View > Problems lists every file that cannot be read.")

    def _on_timeline(self, index: int) -> None:
        key = self._wanted
        span = self.context.frames.video_span(key.path) if key is not None else None
        if span is not None:
            self.show_row(span[0] + min(index, span[1] - 1))
