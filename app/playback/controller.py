"""Plays the video on screen: a QTimer at the video's frame rate (times the speed) shows the
frame the clock has reached, decoded ahead by a `FrameDecoder`; each shown frame is handed
to the inference worker, whose newest-wins slot drops frames rather than queueing them.

Overlay during playback: the worker's result for frame r arrives while the display has moved
on to frame d > r. It is drawn over frame d when d - r <= `lag_limit()` frames, i.e. the
result is from the inference that finished last while the next one runs (the frame was the
newest when the model started on it, one inference ago, and it stays until the next result,
one more inference later); an older result is never drawn: no overlay then. A frame with a
cached prediction (e.g. after "Segment all") or saved labels always shows its own.

Space: a press and release of Space with no drag in between plays or pauses (held Space with
a mouse drag still pans the canvas); the Play button and Go > Play/Pause do the same. A
widget that needs Space itself opts in (`app.widgets.own_keys.takes_space`: the fine-tune
panel's list of frames to tick); everywhere else Space plays or pauses.
A frame that does not decode stops playback at the last good frame and is reported in the
Problems dock.
"""

from __future__ import annotations

import math
import time
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QInputDialog, QLabel

from segnet_core.inference import Prediction

from app.canvas.view import CanvasView
from app.context import FeatureContext
from app.document import FrameDocument
from app.frames import DEFAULT_FPS, FrameRef, FrameStatus
from app.menus import Place
from app.navigation import NavigationController
from app.playback.decoder import Decoded, End, FrameDecoder
from app.widgets.timeline import Timeline

RATE_WINDOW_S = 2.0
#: The frame rates (per second) a video's file may say: one outside plays (and counts its
#: time) at DEFAULT_FPS, as one that says none. A tester's AVI claimed 0.001 fps (1000 s a
#: frame) and another 100000 (a 1 ms timer): broken headers. From 1 (a slide show, a
#: time-lapse) to 500 (a phone's 240 or 480 fps slow motion).
PLAYBACK_FPS = (1.0, 500.0)
#: The most frames a second the window shows: a faster video keeps its pace by skipping
#: frames (the clock says which is due); 120 is what screens show, and its 8 ms timer one the
#: decoder and the canvas keep up with (a review: a 240 fps video played at 25 fps and its
#: timeline said 0:09.60 for frame 241).
MAX_SHOWN_FPS = 120.0


class PlaybackController(QObject):
    """Owns the play/pause and go-to actions, the playback timer and the frame/s readout.

    Emits `frameShown(index, result index or -1)` for every frame shown while playing and
    `resultDrawn(index, result index)` when a late result is drawn over frame `index`, so
    tests and the benchmark can measure the overlay lag; `stopped(reason)` when playback
    stops ('' for a pause or the end of the video)."""

    frameShown = Signal(int, int)
    resultDrawn = Signal(int, int)
    stopped = Signal(str)

    def __init__(self, context: FeatureContext, navigation: NavigationController,
                 timeline: Timeline, canvas: CanvasView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.navigation = navigation
        self.timeline = timeline
        self.canvas = canvas
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.speed = 1.0
        self.clock = time.monotonic  # seconds; a test may drive playback by its own clock
        self.path: Path | None = None
        self.fps = DEFAULT_FPS
        self.frame_count = 0
        self.decoder: FrameDecoder | None = None
        self.shown_index = -1
        self._origin = (0, 0.0)  # (frame index, `clock()` time) the clock counts from
        self._latest: tuple[int, Prediction] | None = None  # newest result while playing
        self._overlay_from: int | None = None  # frame of the result drawn now
        self._result_times: deque[float] = deque(maxlen=6)
        self._display_times: deque[float] = deque()
        self._seg_times: deque[float] = deque()
        self._shown_cached = False  # the frame shown last had its result kept already
        self.rate_label = QLabel()
        context.host.add_status_widget(self.rate_label)
        self.play_action = context.host.action("&Play / pause", Qt.Key.Key_Space)
        self.play_action.setStatusTip("Play or pause the video (Space)")
        self.goto_action = context.host.action("&Go to frame...", "Ctrl+G")
        context.menus.add(Place.GO_PLAYBACK, self.play_action, self.goto_action)
        self.play_action.triggered.connect(self.toggle)
        self.goto_action.triggered.connect(self._focus_frame_box)
        timeline.frame_box.editingFinished.connect(self._leave_frame_box)
        canvas.spaceTapped.connect(self.toggle)
        timeline.playClicked.connect(self.toggle)
        timeline.speedChanged.connect(self.set_speed)
        timeline.frameChosen.connect(self._on_seek)
        navigation.stepped.connect(self.pause)
        context.inference.resultReady.connect(self._on_result)
        context.display.documentShown.connect(self._on_document)
        context.frames_model.dataChanged.connect(lambda *_: self._update_ticks())

    # ------------------------------------------------------------ controls

    @property
    def playing(self) -> bool:
        return self.decoder is not None

    def interval_ms(self) -> int:
        return max(1, round(1000.0 / min(MAX_SHOWN_FPS, self.fps * self.speed)))

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> bool:
        """Play the video of the frame on screen from that frame; False when it is not a
        video frame."""
        ref = self.context.display.current_key
        if self.playing or ref is None or not ref.is_video_frame:
            return False
        span = self.context.frames.video_span(ref.path)
        if span is None:
            return False
        self.path, self.frame_count = ref.path, span[1]
        self.fps = self._video_fps(ref.path)
        start = 0 if ref.index >= self.frame_count - 1 else ref.index
        if start != ref.index:
            self.navigation.show_row(span[0])
        self._start_decoder(start)
        self._latest, self._overlay_from = None, None
        self._result_times.clear()
        self.timer.start(self.interval_ms())
        self.timeline.set_playing(True)
        self.context.host.withdraw_message("End of the video")  # played again from frame 1
        return True

    def pause(self, reason: str = "") -> None:
        if not self.playing:
            return
        self.timer.stop()
        self.decoder.close()
        self.decoder = None
        self.timeline.set_playing(False)
        self.rate_label.setText("")
        self._redisplay_current()
        self.stopped.emit(reason)

    def set_speed(self, factor: float) -> None:
        self.speed = min(4.0, max(0.25, float(factor)))
        if abs(self.timeline.speed_factor - self.speed) > 1e-9:
            self.timeline.set_speed(self.speed)
        if self.playing:
            self._origin = (self.shown_index, self.clock())
            self.timer.setInterval(self.interval_ms())

    def lag_limit(self) -> int:
        """Frames the shown overlay may trail the displayed frame by: the frames the video
        moves through during the last inference in flight and the one shown (at least 1)."""
        if not self._result_times:
            return 1
        cycle = self._cycle_seconds()
        return max(1, math.ceil(2 * cycle * self.fps * self.speed) + 1)

    def shutdown(self) -> None:
        self.timer.stop()
        if self.decoder is not None:
            self.decoder.close()
            self.decoder = None

    # ------------------------------------------------------------ the clock

    def _start_decoder(self, index: int) -> None:
        if self.decoder is not None:
            self.decoder.close()
        path = self.path
        read_saved = self.context.labels.read_file
        self.decoder = FrameDecoder(path, index + 1, self.frame_count,
                                    companion=lambda i: read_saved(FrameRef(path, i)))
        self.shown_index = index
        self._origin = (index, self.clock())

    def _tick(self) -> None:
        if self.decoder is None:
            return
        first, since = self._origin
        target = min(self.frame_count - 1,
                     first + int((self.clock() - since) * self.fps * self.speed))
        if target <= self.shown_index:
            return
        got = self.decoder.take(target)
        if got is None:
            return  # not decoded yet: the next tick shows the newest frame then decoded
        if isinstance(got, End):
            self._on_end(got)
            return
        self._show(got)
        if got.index >= self.frame_count - 1:
            self.pause()
            self.context.host.show_message("End of the video")

    def _on_end(self, end: End) -> None:
        last = self.shown_index
        if end.index >= self.frame_count or not end.reason:
            self.pause()
            return
        detail = "" if "cannot read frame" in end.reason else f" ({end.reason})"
        reason = (f"playback stopped at frame {last + 1}, the last good frame: frame "
                  f"{end.index + 1} cannot be read{detail}")
        self.context.problems.add(self.path, reason)
        self.context.host.show_message(f"{self.path.name}: {reason}")
        self.pause(reason)

    def _show(self, decoded: Decoded) -> None:
        context = self.context
        ref = FrameRef(self.path, decoded.index)
        self.shown_index = decoded.index
        self.navigation.follow(ref)  # loads of older frames are ignored
        self.timeline.show_video(self.frame_count, decoded.index, self.fps)
        prediction = context.cache.get(ref)
        self._overlay_from = decoded.index if prediction is not None else None
        if prediction is None and self._latest is not None and \
                decoded.index - self._latest[0] <= self.lag_limit():
            self._overlay_from, prediction = self._latest
        document = FrameDocument(ref, decoded.image, prediction, self._labels(ref, decoded))
        context.display.show(document)
        now = self.clock()
        self._shown_cached = ref in context.cache
        if not self._shown_cached:
            context.inference.request(ref, decoded.image)  # replaces a request still waiting
        self._display_times.append(now)
        self._show_rates(now)
        self.frameShown.emit(decoded.index, -1 if self._overlay_from is None
                             else self._overlay_from)

    def _labels(self, ref: FrameRef, decoded: Decoded):
        """The frame's labels only when it has some (kept, or saved): playing a long video
        must not start a void mask for every frame."""
        store = self.context.labels
        labels = store.get(ref)
        saved = decoded.extra
        if labels is None and saved is not None and (saved.mask is not None or saved.error):
            labels = store.open(ref, decoded.image.shape[:2], saved)
        return labels

    def _on_result(self, key, labels, confidence, seconds: float) -> None:
        if not self.playing or not isinstance(key, FrameRef) or key.path != self.path:
            return
        now = self.clock()
        self._result_times.append(now)
        self._seg_times.append(now)
        self._latest = (key.index, Prediction(labels, confidence))
        document = self.context.display.document
        if document is None or document.key == key or document.shows_labels:
            return
        if key.index <= self.shown_index and \
                self.shown_index - key.index <= self.lag_limit() and \
                (self._overlay_from is None or key.index > self._overlay_from):
            self._overlay_from = key.index
            self.context.display.set_prediction(document.key, self._latest[1])
            self.resultDrawn.emit(self.shown_index, key.index)

    def _cycle_seconds(self) -> float:
        times = list(self._result_times)
        gaps = [b - a for a, b in zip(times, times[1:])]
        return max(gaps) if gaps else 0.0

    def _show_rates(self, now: float) -> None:
        for times in (self._display_times, self._seg_times):
            while times and now - times[0] > RATE_WINDOW_S:
                times.popleft()
        span = min(RATE_WINDOW_S, max(1e-3, now - self._origin[1]))
        # frames segmented before need none: "segmentation 0.0 frames/s" over a video
        # segmented already looked broken (a user's check)
        segmented = ("each frame segmented already" if self._shown_cached and
                     not self._seg_times else
                     f"segmentation {len(self._seg_times) / span:.1f} frames/s")
        self.rate_label.setText(f"display {len(self._display_times) / span:.1f} frames/s, "
                                f"{segmented}")

    # ------------------------------------------------------------ the rest

    def _redisplay_current(self) -> None:
        """After playing, show the frame stopped at the usual way (its own prediction or a
        request for it, its labels for editing)."""
        self.navigation.reload()

    def _on_seek(self, index: int) -> None:
        if self.playing:
            self._start_decoder(index)

    def _focus_frame_box(self) -> None:
        """Ctrl+G: the timeline's frame box for a video; for stills, a box asking which
        frame of the list (a user's check: it did nothing in an image folder)."""
        if self.timeline.isVisible():
            self.timeline.frame_box.setFocus()
            self.timeline.frame_box.selectAll()
            return
        frames = self.context.frames
        if self.context.said_nothing_open():
            return
        current = self.context.display.current_key
        row = frames.row_of(current) if current is not None else None
        number, chosen = QInputDialog.getInt(
            self.context.host.widget, "Go to frame", f"Frame (1 to {len(frames)}):",
            (row or 0) + 1, 1, len(frames))
        if chosen:
            self.navigation.show_row(number - 1)

    def _leave_frame_box(self) -> None:
        """Enter in the frame box went to the frame: the keys go to the canvas again (D, A,
        N step; in the box they would type)."""
        if self.timeline.frame_box.hasFocus():
            self.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_document(self, document) -> None:
        ref = None if document is None else document.key
        if ref is not None and ref.is_video_frame and not self.playing:
            fps = self._video_fps(ref.path)
            if fps != self.timeline.fps:
                self.timeline.set_fps(fps, ref.index)
            if ref.path != self.path:
                self.path = ref.path
                self._update_ticks()

    def _video_fps(self, path: Path) -> float:
        fps = self.context.frames.video_fps(path) or DEFAULT_FPS
        low, high = PLAYBACK_FPS
        return fps if low <= fps <= high else DEFAULT_FPS

    def _update_ticks(self) -> None:
        """A tick under each corrected frame, and one in the list's "to review" colour under
        each frame whose propagated labels are not accepted yet (saved or not: an accept of
        saved labels undone is unsaved)."""
        if self.path is None:
            self.timeline.slider.set_ticks([], [])
            return
        frames, unaccepted = self.context.frames, self.context.labels.unaccepted
        saved = frames.video_frames_with_status(self.path, FrameStatus.CORRECTED)
        unsaved = frames.video_frames_with_status(self.path, FrameStatus.UNSAVED)
        review = [index for index in (*saved, *unsaved)
                  if unaccepted(FrameRef(self.path, index))]
        self.timeline.slider.set_ticks(set(saved) - set(review), review)

    def corrected_ticks(self) -> list[int]:
        return list(self.timeline.slider.ticks)

