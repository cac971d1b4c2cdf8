"""Go > Next suggested frame (N): goes to a frame of the plan for this round
(`segnet_core.frame_order.next_plan_pick`: the frames that, with those corrected, best cover
the frames in the list, near ones in the sequence counting, frames the model is unsure of
weighing more, planned ten corrected frames at a time; the most valuable of them first)
among the frames that have an estimate and are not corrected, other than the frame shown.
Frames the user flagged (Go > Flag frame to correct first, `app.quality.flags`) and has not
corrected come before the plan, the lowest estimate first, estimated or not. Frames holding
propagated labels not accepted yet count as not corrected: the plan may offer them, to be
looked over.

It reads the estimates, and what levels them, from `app.quality.controller`.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal

from segnet_core.frame_order import PLAN_ROUND, next_plan_pick

from app.context import FeatureContext, MessageTime
from app.frames import LABELLED, FrameRef, FrameStatus
from app.menus import Place
from app.navigation import NavigationController
from app.quality.controller import QualityController

#: Frames Next suggested frame never offers (flagged or not).
NOT_OFFERED = LABELLED + (FrameStatus.UNREADABLE,)


class NextSuggested(QObject):
    """Go > Next suggested frame. Emits `suggested(ref)` when it goes to `ref`."""

    suggested = Signal(object)

    def __init__(self, context: FeatureContext, navigation: NavigationController,
                 quality: QualityController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.navigation = navigation
        self.quality = quality
        #: the frames the user flagged to correct first (the window sets `FrameFlags.refs`)
        self.flagged: Callable[[], set[FrameRef]] = set
        #: the frames offered since the corrected and flagged frames and the model were last
        #: these (so pressing N without correcting walks through the plan instead of two
        #: frames)
        self._offered: list[FrameRef] = []
        self._offered_for: tuple = ()
        self.action = context.host.action(
            "Next &suggested frame", "N",
            tip="Go to the frame most worth correcting: one of the frames that, with those "
                "already corrected, best cover the video or folder (planned ten at a time), low "
                "estimated accuracy weighing more")
        context.menus.add(Place.GO_SUGGEST, self.action)
        self.action.triggered.connect(self.go)

    def pick(self) -> tuple[FrameRef, str] | None:
        """The frame to correct next and why (in words); None when no frame is left."""
        quality = self.quality
        frames = self.context.frames
        labelled, unreviewed, left_out = self._corrected_and_left_out()
        shown = self.navigation.wanted
        flagged = {ref for ref in self.flagged()
                   if ref not in left_out and frames.row_of(ref) is not None}
        estimated = [ref for ref in quality.estimates if ref not in left_out]
        # propagated labels not accepted that the model in use was trained on have no
        # estimate (it would flatter the model there), and are to be looked over all the
        # same (a user's check: Next suggested never offered them)
        candidates = estimated + [ref for ref in unreviewed if ref not in quality.estimates
                                  and quality.trained(ref)]
        others = [ref for ref in set(candidates) | flagged if ref != shown]
        if not others:
            return None
        refs = sorted(set(candidates) | labelled | flagged, key=frames.row_of)
        walk = (frozenset(labelled), frozenset(flagged), quality.model_number)
        if walk != self._offered_for:  # a correction, a flag or a new model: a new walk
            self._offered, self._offered_for = [], walk
        done = [i for i, ref in enumerate(refs) if ref in labelled]
        estimates = [quality.estimates.get(ref, 1.0) for ref in refs]

        def pick_skipping(skipped: set[FrameRef]) -> int | None:
            return next_plan_pick(estimates, positions=[frames.row_of(ref) for ref in refs],
                                  corrected=done,
                                  skip=[i for i, ref in enumerate(refs) if ref in skipped],
                                  flagged=[i for i, ref in enumerate(refs) if ref in flagged])

        chosen = pick_skipping({shown, *self._offered})
        if chosen is None and self._offered:  # every frame of the plan offered: again
            self._offered = []
            chosen = pick_skipping({shown})
        if chosen is None:
            return None
        best = refs[chosen]
        if best in flagged:
            return best, self._flagged_why(best, flagged - {best})
        value = quality.estimates.get(best)
        if best in unreviewed:
            about = ("the model in use was trained on them" if value is None else
                     f"estimated accuracy {100 * value:.0f} %")
            return best, (f"propagated labels not accepted yet ({about}): look them over, "
                          f"then Edit > Accept propagated labels or correct them")
        lowest = min(estimated, key=lambda ref: (quality.estimates[ref], ref != shown))
        to_flag = len(flagged - labelled)  # flagged, not corrected: the plan goes around them
        planned = min(PLAN_ROUND - (len(done) + to_flag) % PLAN_ROUND, len(candidates))
        with_corrected = (" with the corrected and flagged ones" if done and to_flag else
                          " with the corrected ones" if done else
                          " with the flagged ones" if to_flag else "")
        count = f"{len(estimated)} uncorrected frame(s) estimated"
        tied = sum(1 for ref in estimated if quality.estimates[ref] == value)
        lowest_of = f", tied with {tied - 1} other(s) for the lowest of" if tied > 1 else \
            ", the lowest of"  # a user's check: two frames each "the lowest of 2"
        # what matters first: the bar shows about a hundred characters, the tooltip all
        why = (f"estimated accuracy {100 * value:.0f} %"
               + (f"{lowest_of} {count}" if value <= quality.estimates[lowest] else
                  f", one of {planned} frame(s) planned to cover the "
                  f"{'video' if shown is not None and shown.is_video_frame else 'frames'}"
                  f"{with_corrected} "
                  f"(low estimates weigh more); the lowest is {lowest.name}"
                  f"{' (the frame you left)' if lowest == shown else ''}, "
                  f"{100 * quality.estimates[lowest]:.0f} %; {count}"))
        if not quality.calibration.fitted_on:
            why += "; not calibrated: the model's mean confidence"
        if quality.measured_frames:
            why += (f"; levelled by {quality.measured_frames} corrected frame(s) "
                    f"({100 * quality.offset:+.0f} points)")
        waiting = self._not_estimated(left_out)
        if waiting:  # the plan covers only the frames estimated so far
            why += (f"; {waiting} frame(s) not estimated yet (Segment all, Ctrl+Shift+A, "
                    "estimates them)")
        return best, why

    def _corrected_and_left_out(self) -> tuple[set[FrameRef], set[FrameRef], set[FrameRef]]:
        """The frames that count as corrected, those holding propagated labels not accepted
        yet, and those never offered. Propagated labels not accepted are offered, to be looked
        over, like the uncorrected frames (their estimates are the model's, their labels
        unchecked)."""
        frames = self.context.frames
        labelled = {ref for status in LABELLED for ref in frames.with_status(status)}
        unreviewed = {ref for ref in labelled if self.quality.unreviewed(ref)}
        left_out = {ref for status in NOT_OFFERED for ref in frames.with_status(status)}
        return labelled - unreviewed, unreviewed, left_out - unreviewed

    def _not_estimated(self, left_out: set[FrameRef]) -> int:
        """How many frames that could be offered have no estimate yet (those the model in
        use was trained on never get one: Segment all leaves them alone)."""
        return sum(1 for ref in self.context.frames if ref not in self.quality.estimates
                   and ref not in left_out and not self.quality.trained(ref))

    def _flagged_why(self, ref: FrameRef, others: set[FrameRef]) -> str:
        quality = self.quality
        value = quality.estimates.get(ref)
        why = "flagged by you" + ("" if value is None
                                  else f", estimated accuracy {100 * value:.0f} %")
        if others:
            why += f"; {len(others)} more flagged frame(s) to correct before the plan"
        return why + " (Ctrl+B unflags)"

    def go(self) -> FrameRef | None:
        if self.context.said_nothing_open():
            return None
        quality = self.quality
        found = self.pick()
        if found is None:
            labelled, _unreviewed, left_out = self._corrected_and_left_out()
            shown = self.navigation.wanted
            waiting = self._not_estimated(left_out | {shown})
            shown_left = shown is not None and shown not in left_out | labelled and (
                shown in quality.estimates or shown in self.flagged())
            text = ("No model is loaded: File > Load model... (or File > Models), then "
                    "Segment all estimates every frame" if not quality.estimates and
                    quality.model_number == 0 and not shown_left else
                    "No estimates yet: Segment > Segment all estimates every frame"
                    if not quality.estimates and not shown_left else
                    f"No other frame to suggest yet: {waiting} frame(s) not estimated "
                    f"(Segment > Segment all, Ctrl+Shift+A, estimates them)" if waiting else
                    f"No other frame to suggest: {shown.name}, shown, is the only one left "
                    f"to correct" if shown_left else
                    "No frame to suggest: every segmented frame is corrected")
            self.context.host.show_message(text, MessageTime.LONG)
            return None
        ref, why = found
        self._offered.append(ref)
        self.navigation.show_row(self.context.frames.row_of(ref))
        self.context.host.show_message(f"Suggested {ref.name}: {why}", MessageTime.LONG)
        self.suggested.emit(ref)
        return ref
