"""Which frames fine-tuning uses, and how their masks are found.

A frame is corrected when the user's mask for it exists: saved in the labels folder (an index
PNG named by `mask_name`, `segnet_core.masks.labels_folder`), or edited and held in memory
by the window. Every other frame is uncorrected: its labels, where any are needed, are the
model's prediction (`corrected_or_predicted`). Of the corrected frames some are held out
(`split_frames`): kept out of training to measure the model before and after.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence, TypeVar

import numpy as np

from segnet_core.errors import DataError, SegNetError
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import (AS_PREDICTED, LABELS_FOLDER, PROPAGATED,
                                             PROPAGATED_FROM, LabelsFolder, MaskOwners,
                                             mask_name)
from segnet_core.finetune.links import carried_names, link_groups
from segnet_core.quality import MIN_LABELLED_PIXELS, is_as_predicted
from segnet_core.ranking import is_trained_on
from segnet_core.io.inputs import InputKind, find_inputs
from segnet_core.io.video import VideoFrames, is_video_file


class FrameLike(Protocol):
    """What the policy needs to know of a frame: its file, its index in a video (None for
    an image file) and the name people see. The window's `FrameRef` is one."""

    @property
    def path(self) -> Path: ...

    @property
    def index(self) -> int | None: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class FrameSource:
    """One frame: an image file (`index` None) or frame `index` of a video file."""

    path: Path
    index: int | None = None

    @property
    def name(self) -> str:
        """As the window's list names it: `clip.mp4 · frame 5` is index 4 (frames counted
        from 1 there; records of earlier versions said `clip.mp4 [4]`, which
        `ranking.is_trained_on` still reads)."""
        if self.index is None:
            return self.path.name
        return f"{self.path.name} · frame {self.index + 1}"


@dataclass(frozen=True)
class CorrectedFrame:
    """A corrected frame, with its mask when the caller holds it (None: the saved mask is
    read from the labels folder). `reviewed` False: its labels were propagated from another
    frame and the user has not accepted them yet (`labels/propagated.txt`); where the flow
    was not trusted they are the model's own prediction, so such a frame is never held out
    to score the model on, and trains only when the settings say so. `as_predicted` True:
    its labels are a model's prediction taken (nearly) as it is (`quality.is_as_predicted`;
    listed in `labels/as_predicted.txt` when saved); it trains, but is never held out
    either, where a model would be scored against a model's own labels. `prediction`: the
    current model's labels for the frame, when the caller has them; `read_corrected`
    compares the mask it reads with them (`taken_as_predicted`), so a mask saved as
    predicted in an earlier session is found too. `group`: the frames linked to it by
    propagation (`links.link_groups`; None: none), held out together or not at all.
    `carried` True: labels were carried to it by a propagation (`links.carried_names`),
    accepted or edited since or not; where the flow was not trusted they are the model's
    prediction, so it trains but is never held out to score a model on either."""

    frame: FrameLike
    mask: np.ndarray | None = None
    reviewed: bool = True
    as_predicted: bool = False
    prediction: np.ndarray | None = None
    group: str | None = None
    carried: bool = False

    @property
    def scorable(self) -> bool:
        """Whether its labels may score the model, as far as known before its mask is read:
        reviewed, and neither its own prediction nor carried by a propagation."""
        return self.reviewed and not self.as_predicted and not self.carried

    def taken_as_predicted(self, mask: np.ndarray | None, void_index: int) -> bool:
        """Whether `mask` (its labels; None: not at hand) is a model's prediction taken as it
        is: listed so, or the labels `prediction` gives."""
        return self.as_predicted or (mask is not None and self.prediction is not None
                                     and is_as_predicted(self.prediction, mask, void_index))


ImageReader = Callable[[FrameLike], np.ndarray]  # a frame's HxWx3 uint8 RGB image


def mask_location(frame: FrameLike, masks: LabelsFolder | None = None
                  ) -> tuple[LabelsFolder, str]:
    """The labels folder and mask file name of `frame`; `masks` None is the folder beside
    the frame's file (`<folder>/labels`)."""
    folder = masks if masks is not None else LabelsFolder.beside(frame.path)
    return folder, mask_name(frame.path, frame.index)


@dataclass
class FrameSet:
    """The frames of an image folder or a video, sorted as the window lists them, split into
    the corrected ones and the rest."""

    corrected: list[CorrectedFrame]
    uncorrected: list[FrameSource]
    masks: LabelsFolder
    problems: list[str] = field(default_factory=list)  # lists that could not be read


def _video_frames(video: Path, folder: LabelsFolder) -> list[FrameSource]:
    """Every frame of `video`, and those past its announced length that have a mask."""
    with VideoFrames(video) as frames:
        count = frames.frame_count
    pattern = re.compile(re.escape(video.stem) + r"_(\d{6,})\.png")
    masked = {int(m.group(1)) for n in folder.mask_names() if (m := pattern.fullmatch(n))}
    return [FrameSource(video, i) for i in sorted(set(range(count)) | masked)]


def find_frames(images: str | Path, masks: str | Path | None = None) -> FrameSet:
    """The frames of `images` (a folder: its images, then its videos' frames, as the window
    opens it; or a video file) and which are corrected: those with a mask in `masks`
    (default: the labels folder beside them). DataError when `images` is neither; a video of
    the folder that will not open is left out, said in the problems."""
    images = Path(images).resolve()
    problems = []
    if images.is_dir():
        folder = LabelsFolder(masks) if masks is not None else LabelsFolder(
            images / LABELS_FOLDER)
        frames = []
        owners = MaskOwners()  # as the window: a frame that would share a mask is left out

        def unusable(path: Path, error: SegNetError) -> None:
            if path == images:  # a folder with neither images nor videos
                raise error
            problems.append(f"{error}; left out")

        for found in find_inputs([images], unusable):
            try:
                found_frames = ([FrameSource(found.path)] if found.kind == InputKind.IMAGE
                                else _video_frames(found.path, folder))
            except DataError as error:
                problems.append(f"{error}; its frames are left out")
                continue
            clash = owners.clash(found.path, [f.index for f in found_frames])
            if clash:
                problems.append(f"{found.path}: {clash}; left out")
                continue
            for frame in found_frames:
                owners.claim(frame.path, frame.index, frame.name)
            frames += found_frames
    elif images.is_file() and is_video_file(images):
        folder = LabelsFolder(masks) if masks is not None else LabelsFolder.beside(images)
        frames = _video_frames(images, folder)
    else:
        raise DataError(images, "is neither a folder of images nor a video file")
    saved = folder.mask_names()
    try:
        propagated = folder.read_names(PROPAGATED)
    except DataError as error:  # it marks nothing; the masks still count
        propagated = set()
        problems.append(f"{error}; its frames count as reviewed")
    try:
        as_predicted = folder.read_names(AS_PREDICTED)
    except DataError as error:
        as_predicted = set()
        problems.append(f"{error}; its frames may be held out")
    try:
        links = folder.read_names(PROPAGATED_FROM)
    except DataError as error:
        links = set()
        problems.append(f"{error}; frames linked by propagation may be held out apart")
    named = [(f, mask_name(f.path, f.index)) for f in frames]
    corrected = [(f, name) for f, name in named if name in saved]
    groups = link_groups([(folder, name) for _f, name in corrected], lambda _folder: links)
    carried = carried_names(links)
    return FrameSet([CorrectedFrame(f, reviewed=name not in propagated,
                                    as_predicted=name in as_predicted, group=group,
                                    carried=name in carried)
                     for (f, name), group in zip(corrected, groups)],
                    [f for f, name in named if name not in saved], folder, problems)


@dataclass
class ReadFrames:
    """The corrected frames that could be read: (image, mask) pairs, their names, whether
    their labels may score the model (`CorrectedFrame.scorable`), their indices in the
    frames asked for, whether the model in use was trained on them (`known`: held out only
    when too few others can be), and why the others were left out; `unreviewed_left_out`:
    how many were left out unread because their labels were propagated and not accepted
    (asked for by the caller)."""

    pairs: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    scorable: list[bool] = field(default_factory=list)
    known: list[bool] = field(default_factory=list)  # the model in use was trained on it
    groups: list[str | None] = field(default_factory=list)  # `CorrectedFrame.group`
    kept: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unreviewed_left_out: int = 0

    def only(self, indices: Sequence[int]) -> "ReadFrames":
        """These frames alone (indices into the frames read), in their order; `kept` still
        points into the frames asked for."""
        pick = lambda values: [values[i] for i in indices]  # noqa: E731
        return ReadFrames(pick(self.pairs), pick(self.names), pick(self.scorable),
                          pick(self.known), pick(self.groups), pick(self.kept),
                          list(self.problems), self.unreviewed_left_out)


def read_corrected(frames: Sequence[CorrectedFrame], label_set: LabelSet,
                   read_image: ImageReader, masks: LabelsFolder | None = None,
                   unreviewed: bool = True,
                   trained_on: frozenset[str] = frozenset()) -> ReadFrames:
    """Read the images and masks of corrected frames. A frame whose image or mask cannot be
    read, or whose sizes differ, is left out and named in `problems`; with `unreviewed`
    False, so are the frames not reviewed (counted, not named). `trained_on`: the frames the
    model in use was trained on (`ranking.trained_frame_names` of its record), marked
    `known`."""
    read = ReadFrames()
    for index, corrected in enumerate(frames):
        frame = corrected.frame
        if not (unreviewed or corrected.reviewed):
            read.unreviewed_left_out += 1
            continue
        try:
            image = read_image(frame)
            mask = corrected.mask
            if mask is None:
                folder, name = mask_location(frame, masks)
                mask = folder.read(name, label_set)
            if mask is None:
                raise SegNetError("its saved mask is gone")
        except SegNetError as error:
            read.problems.append(f"{frame.name}: {getattr(error, 'reason', error)}")
            continue
        if mask.shape != image.shape[:2]:
            read.problems.append(f"{frame.name}: mask is {mask.shape[0]}x{mask.shape[1]} "
                                 f"(height x width) but the image is "
                                 f"{image.shape[0]}x{image.shape[1]}")
            continue
        read.pairs.append((image, mask))
        read.names.append(frame.name)
        void = label_set.void_index
        read.scorable.append(corrected.scorable and not corrected.taken_as_predicted(mask, void)
                             # a few pixels score a model no better than they are evidence
                             and np.count_nonzero(mask != void) >= MIN_LABELLED_PIXELS)
        read.known.append(is_trained_on(trained_on, frame.path, frame.index))
        read.groups.append(corrected.group)
        read.kept.append(index)
    return read


Holdout = float | tuple[int, ...]


def remap_holdout(holdout: Holdout, kept: Sequence[int]) -> Holdout:
    """Held-out indices chosen among all the frames, as indices among the `kept` ones (a
    share stays as it is)."""
    if isinstance(holdout, (int, float)):
        return holdout
    position = {original: new for new, original in enumerate(kept)}
    return tuple(position[i] for i in holdout if i in position)


def _draw_key(seed: int, name: str) -> bytes:
    """Where a frame named `name` comes in a draw with `seed`: the same in every process
    and whatever the other frames (unlike Python's `hash`, which varies per process)."""
    return hashlib.blake2b(f"{seed}\0{name}".encode("utf-8"), digest_size=8).digest()


def split_frames(count: int, holdout: float | Sequence[int] = 0.25, seed: int = 0,
                 scorable: Sequence[bool] | None = None,
                 known: Sequence[bool] | None = None,
                 groups: Sequence[str | None] | None = None,
                 names: Sequence[str] | None = None) -> tuple[list[int], list[int]]:
    """(training indices, held-out indices) of `count` frames, both sorted. The frames in
    neither are set aside: linked by propagation to a held-out frame (`groups`).

    holdout: a fraction in [0, 1): round(fraction * count) frames drawn at random (by
        `seed`), at least 1 when count >= 2 and the fraction is above 0, at most count - 1;
        or the explicit held-out indices, which must be distinct, in range, and leave at
        least one frame to train on.
    scorable: per frame, whether its labels may score the model (None: all): a person
        reviewed them and they are not the model's own prediction taken as it is. A drawn
        share is a share of the scorable frames, drawn among them, and leaves at least one
        of them to train (none is held out when only one is scorable): the model is scored
        on labels a person looked over, not on labels partly or wholly its own, and never
        trains on those alone. Explicit indices are the user's choice and stand.
    known: per frame, whether the model in use was trained on it (None: none was). A drawn
        share takes the frames it was not trained on first (a group: none of its frames):
        scored on a frame it learnt, the current model's "before" figure flatters it
        against the new model's.
    groups: per frame, the frames linked to it by propagation (`CorrectedFrame.group`;
        None: none). A frame linked to a held-out frame never trains: a drawn share holds
        out a group's scorable frames together and sets its others aside, taking each group
        that still fits in the share, those that set fewer frames aside first (when none
        fits, the smallest that leaves a scorable frame to train); explicit indices set
        aside the frames linked to them.
    names: per frame, its name (None: the draw goes by position). A drawn share then draws
        each frame by its name and the seed (`_draw_key`), so a frame keeps its draw when
        frames are added or taken away: the held-out frames change only where the share's
        count does, or a frame drawn first comes or goes (a user's check: the panel's
        held-out frame changed each time another frame was corrected).
    """
    if count < 1:
        raise SegNetError("no frames to fine-tune on: correct at least one frame first")
    for flags, what in ((scorable, "scorable flags"), (known, "trained-on flags"),
                        (groups, "groups"), (names, "names")):
        if flags is not None and len(flags) != count:
            raise SegNetError(f"{len(flags)} {what} for {count} frames")
    units = _units(count, groups)
    if isinstance(holdout, (int, float)) and not isinstance(holdout, bool):
        fraction = float(holdout)
        if not 0 <= fraction < 1:
            raise SegNetError(f"the held-out share must be in [0, 1), not {holdout!r}")
        eligible = [i for i in range(count) if scorable is None or scorable[i]]
        held_count = share_count(len(eligible), fraction)
        if names is None:
            order = np.random.default_rng(seed).permutation(len(eligible))
            drawn = [eligible[int(i)] for i in order]
        else:
            drawn = sorted(eligible, key=lambda i: _draw_key(seed, names[i]))
        held = _draw_units(drawn, units, set(eligible), held_count, known)
    else:
        held = sorted(int(i) for i in holdout)
        if len(set(held)) != len(held):
            raise SegNetError(f"held-out frame indices repeat: {held}")
        bad = [i for i in held if not 0 <= i < count]
        if bad:
            raise SegNetError(f"held-out frame index {bad[0]} is not one of the {count} frames "
                              f"(0..{count - 1})")
        if len(held) >= count:
            raise SegNetError("every frame is held out: leave at least one frame to train on")
    out = {j for i in held for j in units[i]}
    if len(out) >= count:
        raise SegNetError("every frame not held out is linked by propagation to a held-out "
                          "one, so none would train: hold out other frames, or free one "
                          "relabelled from scratch (delete the line that begins with its mask "
                          "in labels/propagated_from.txt)")
    return [i for i in range(count) if i not in out], held


def share_count(eligible: int, fraction: float) -> int:
    """How many of `eligible` scorable frames a drawn share holds out: the share rounded,
    at least 1 when there are two or more and the share is above 0, at most all but one
    (`split_frames`; frames linked by propagation can make it fewer)."""
    if fraction <= 0 or eligible < 2:
        return 0
    return min(max(1, math.floor(fraction * eligible + 0.5)), eligible - 1)


def _units(count: int, groups: Sequence[str | None] | None) -> list[tuple[int, ...]]:
    """Per frame, the frames held out with it (itself and those linked to it)."""
    members: dict[str, list[int]] = {}
    for i, group in enumerate(groups or ()):
        if group is not None:
            members.setdefault(group, []).append(i)
    return [tuple(members[groups[i]]) if groups and groups[i] is not None else (i,)
            for i in range(count)]


def _draw_units(drawn: list[int], units: list[tuple[int, ...]], eligible: set[int],
                target: int, known: Sequence[bool] | None) -> list[int]:
    """The held-out frames: the scorable frames of whole units, each unit that still fits in
    `target` taken in turn (`split_frames`). The turn is the draw's, after two preferences,
    the first one first: units none of whose frames the model in use learnt, then units that
    set fewer frames aside (a group of one accepted frame and thirty not accepted would
    otherwise take thirty frames from training)."""
    if target < 1:
        return []
    seen, candidates = set(), []  # (scorable frames, learnt, set aside), in the draw's order
    for i in drawn:
        if units[i] not in seen:
            seen.add(units[i])
            frames = [j for j in units[i] if j in eligible]
            learnt = known is not None and any(known[j] for j in units[i])
            candidates.append((frames, learnt, len(units[i]) - len(frames)))
    candidates.sort(key=lambda c: (c[1], c[2]))  # stable: the draw's order within
    held: list[int] = []
    for frames, _learnt, _aside in candidates:
        if len(held) + len(frames) <= target:
            held += frames
    if not held:  # none fits in the share: the smallest that leaves one to train
        fitting = [c for c in candidates if len(c[0]) < len(eligible)]
        if fitting:
            held = min(fitting, key=lambda c: (len(c[0]), c[1], c[2]))[0]
    return sorted(held)


Mask = TypeVar("Mask")


def corrected_or_predicted(corrected: Mask | None, predicted: Mask | None
                           ) -> tuple[Mask, bool] | None:
    """The labels a frame stands for: its correction when there is one, else the model's
    prediction; with whether they are the correction. None when there is neither. A mask
    may be an array or anything that gives one later (a loader)."""
    if corrected is not None:
        return corrected, True
    if predicted is not None:
        return predicted, False
    return None
