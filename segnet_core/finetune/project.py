"""Fine-tuning a project's model on its corrected frames: the whole job the window's panel and
`segnet-studio finetune` run, from the frames to a saved model.

The project keeps its models beside the masks they were trained on, in
`<labels folder>/models/` (`ModelVersions`). The first fine-tune saves the model then in use
there as v001, made current, so the user can always go back to it; a fine-tuned model is
saved as the next version but is not made current: the user makes it current once they
choose to use it (`ModelVersions.set_current`).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from segnet_core.balance import Balance
from segnet_core.checkpoint import Checkpoint, load_checkpoint
from segnet_core.quality import MIN_LABELLED_PIXELS
from segnet_core.finetune.frames import (CorrectedFrame, FrameLike, Holdout, ImageReader,
                                         ReadFrames, read_corrected, remap_holdout,
                                         share_count, split_frames)
from segnet_core.errors import SegNetError
from segnet_core.finetune.adapt import spread
from segnet_core.finetune.run import FineTuneResult, run_finetune
from segnet_core.finetune.settings import ClassBalanceRow, FineTuneSettings, class_balance_table
from segnet_core.finetune.versions import ModelOrigin, ModelVersions, Version
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import LABELS_FOLDER, LabelsFolder, mask_name
from segnet_core.ranking import trained_frame_names
from segnet_core.events import CancelToken
from segnet_core.train_events import Message, ProgressCallback
from segnet_core.wording import some_names

MODELS_FOLDER = "models"


def versions_folder(frame: FrameLike | str | Path) -> Path:
    """Where the project of a frame (or of an image or video file, or a folder of images)
    keeps its model versions: `models/` in the labels folder beside the file (in the
    folder)."""
    path = Path(frame) if isinstance(frame, (str, Path)) else frame.path
    if path.is_dir():
        return path / LABELS_FOLDER / MODELS_FOLDER
    return LabelsFolder.beside(path).root / MODELS_FOLDER


@dataclass(frozen=True)
class ProjectVersion:
    """A project's current fine-tuned model version (`current_fine_tuned`)."""

    version: Version
    project: str  # the name of the folder the frames (or the video) are in

    @property
    def name(self) -> str:
        # not "{project}'s": a folder named "frames" made "frames's" (a user check)
        return f"the fine-tuned model {self.version.id} of {self.project}"


def current_fine_tuned(opened: str | Path) -> ProjectVersion | None:
    """The current version of the project of an image, video or folder of images, when it is
    a fine-tuned one: the model "Use this model" chose there, which the window and `rank`
    segment with unless told otherwise. None when the project was never fine-tuned on, or
    its current version is still the model the first fine-tune started from (v001, the
    model in use then, not one chosen there). SegNetError for an index that cannot be read.
    Reads one small file."""
    folder = versions_folder(Path(opened).resolve())  # absolute: the name, and comparisons
    versions = ModelVersions(folder)
    if not versions.index_path.is_file():
        return None
    current = versions.current
    if current is None or current.recipe.get("kind") != ModelOrigin.FINE_TUNE.value:
        return None
    return ProjectVersion(current, folder.parent.parent.name)


def first_fine_tuned(paths: Iterable[str | Path],
                     on_error: Callable[[Path, SegNetError], None] | None = None
                     ) -> ProjectVersion | None:
    """`current_fine_tuned` of the first of `paths` that has one; an index that cannot be
    read goes to `on_error` (with the index's path) and the next path is looked at."""
    for opened in paths:
        try:
            found = current_fine_tuned(opened)
        except (SegNetError, OSError) as error:
            if on_error is not None:
                index = ModelVersions(versions_folder(opened)).index_path
                on_error(index, error if isinstance(error, SegNetError)
                         else SegNetError(f"{index}: {error}"))
            continue
        if found is not None:
            return found
    return None


def project_to_follow(paths: Iterable[str | Path],
                      on_error: Callable[[Path, SegNetError], None] | None = None
                      ) -> tuple[ProjectVersion | None, str]:
    """The fine-tuned model to segment `paths` with when none is chosen: the project's
    (`first_fine_tuned`) when they are all in one project (labels folder), else none and
    why, "" when no project has one. One project's model is not meant for another's frames:
    the window and the commands (`rank`, `predict`) follow this one rule (a user's check:
    the window took the first project's model for both, `rank` the shipped one)."""
    paths = list(paths)
    found = first_fine_tuned(paths, on_error)
    if found is None:
        return None, ""
    projects = {versions_folder(Path(opened).resolve()) for opened in paths}
    if len(projects) > 1:
        return None, (f"the inputs are in {len(projects)} projects, and {found.project} has "
                      "a fine-tuned model")
    return found, ""


def corrections_label_set(masks: LabelsFolder, base: Checkpoint) -> LabelSet:
    """The classes the corrections are in: the label set saved beside the masks, else the
    model's own."""
    return masks.read_label_set() or base.label_set()


@dataclass
class BalanceReport:
    """The class-balance tables (one per balance mode) of the frames that would train."""

    rows: dict[Balance, list[ClassBalanceRow]]
    train_count: int
    held_count: int
    problems: list[str] = field(default_factory=list)
    held_names: list[str] = field(default_factory=list)  # the frames held out, by name
    held_known: list[str] = field(default_factory=list)  # those the model in use learnt
    #: the frames set aside: linked by propagation to a held-out frame, so they do not train
    set_aside: list[str] = field(default_factory=list)
    note: str = ""  # why the held-out choice could not be followed


def analyse_corrected(frames: Sequence[CorrectedFrame], label_set: LabelSet, holdout: Holdout,
                      *, read_image: ImageReader, seed: int = 0,
                      masks: LabelsFolder | None = None,
                      train_propagated: bool = True,
                      trained_on: frozenset[str] = frozenset()) -> BalanceReport:
    """What a fine-tune of `frames` would train on: the split and the balance tables.

    holdout: as `FineTuneSettings.holdout`, indices into `frames`; when it would leave no
    frame that could be read to train (held out, or linked to one held out), nothing is held
    out (the table still shows, and the report's note says why).
    trained_on: the frames the model in use was trained on (`ranking.trained_frame_names`),
    held out last, as `finetune_corrected` does."""
    read = read_corrected(frames, label_set, read_image, masks, unreviewed=train_propagated,
                          trained_on=trained_on)
    rows: dict[Balance, list[ClassBalanceRow]] = {}
    train: list[int] = []
    held: list[int] = []
    note = ""
    if read.pairs:
        holdout = remap_holdout(holdout, read.kept)
        try:
            train, held = _split(read, holdout, seed)
            note = _unheld_note(read, holdout, held)
        except SegNetError as error:  # the ticks leave nothing to train
            note = f"Train would refuse these ticks: {error}"
            train, held = _split(read, (), seed)
        train_masks = [read.pairs[i][1] for i in train]
        rows = {mode: class_balance_table(train_masks, label_set, mode) for mode in Balance}
    return BalanceReport(rows, len(train), len(held), read.problems,
                         [read.names[i] for i in held],
                         [read.names[i] for i in held if read.known[i]],
                         [read.names[i] for i in _aside(read, train, held)], note)


def _split(read: ReadFrames, holdout: Holdout, seed: int) -> tuple[list[int], list[int]]:
    return split_frames(len(read.pairs), holdout, seed, read.scorable, read.known, read.groups,
                        read.names)


def _unheld_note(read: ReadFrames, holdout: Holdout, held: Sequence[int]) -> str:
    """Why a share held out fewer frames than it is, which only the links do
    (`split_frames`), or nothing, where too few frames may score a model; else ""."""
    if isinstance(holdout, tuple):
        return ""
    scorable, count = sum(read.scorable), len(read.pairs)
    target = share_count(scorable, holdout)
    if not held and target == 0 and holdout > 0 and scorable < count and count >= 2:
        why = ("propagated from another frame, or saved as predicted; or too few of their "
               f"pixels are labelled, under {MIN_LABELLED_PIXELS:,})")
        if scorable:
            why += ", and a share leaves one of those to train"
        return (f"nothing held out: {scorable} of the {count} frames may score a model (the "
                f"others' labels are partly a model's own: {why}")
    if len(held) >= target:
        return ""
    if held:
        return (f"fewer than the share's {target}: frames linked by propagation are held out "
                f"together")
    return ("nothing held out: the frames that could be are linked by propagation to the "
            "others, so a before / after figure on them would flatter the new model (to free "
            "a frame relabelled from scratch, delete the line that begins with its mask in "
            f"labels/propagated_from.txt{_mask_name_example(read.names)})")


def _mask_name_example(names: Sequence[str]) -> str:
    """How a video frame the list names (`FrameSource.name`: "clip.avi · frame 5") is named
    among the masks, taken from the first such frame of `names`; "" when none is."""
    for name in names:
        video, sep, number = name.rpartition(" · frame ")
        if sep and number.isdigit() and int(number) > 0:
            return (f"; a video's masks count its frames from 0: {video}'s frame {number} is "
                    f"{mask_name(video, int(number) - 1)}")
    return ""


def _aside(read: ReadFrames, train: Sequence[int], held: Sequence[int]) -> list[int]:
    """The frames read that neither train nor are held out (`split_frames`)."""
    used = set(train) | set(held)
    return [i for i in range(len(read.pairs)) if i not in used]


@dataclass
class FineTuneOutcome:
    """What a fine-tune of a project left.

    result: the engine's `FineTuneResult` (the new checkpoint, before / after figures...).
    version: the version the new model was saved as; None when no versions are kept or
        the run was cancelled before a step was taken.
    base_version: the version saved for the model it started from (when the project had
        none yet).
    seconds: wall time of the whole job; problems: the frames left out, and why.
    """

    result: FineTuneResult
    version: Version | None
    base_version: Version | None
    seconds: float
    problems: list[str] = field(default_factory=list)


def finetune_corrected(frames: Sequence[CorrectedFrame], label_set: LabelSet,
                       base: Checkpoint | str | Path, settings: FineTuneSettings, *,
                       read_image: ImageReader, versions: ModelVersions | None = None,
                       masks: LabelsFolder | None = None,
                       uncorrected: Sequence[FrameLike] = (),
                       progress: ProgressCallback | None = None,
                       cancel: CancelToken | None = None) -> FineTuneOutcome:
    """Read the corrected frames, fine-tune a copy of `base` on them (`run_finetune`) and,
    with `versions`, keep the new model as the project's next version.

    frames: the corrected frames, in the order the user sees them; settings.holdout's
        indices point into them. Frames that cannot be read are left out (reported as
        messages and in `problems`) and the held-out indices follow the frames kept.
    base: the model in use (a checkpoint or its file).
    read_image: gives a frame's image (the window passes its frame reader).
    masks: the labels folder to read masks that `frames` do not hold from (default: the
        one beside each frame).
    versions: the project's versions (see the module's docstring); None keeps nothing.
    uncorrected: the frames nobody corrected; up to `settings.unlabelled_limit` of them,
        spread evenly, are read as unlabelled data (see `run_finetune`).
    """
    started = time.perf_counter()
    emit = progress or (lambda event: None)
    emit(Message(f"reading {len(frames)} corrected frame(s)"))
    if not isinstance(base, Checkpoint):
        base = load_checkpoint(base)
    read = read_corrected(frames, label_set, read_image, masks,
                          unreviewed=settings.train_propagated,
                          trained_on=trained_frame_names(base.training))
    for problem in read.problems:
        emit(Message(f"left out {problem}"))
    if read.unreviewed_left_out:
        if not read.pairs and not read.problems:
            raise SegNetError(f"all {read.unreviewed_left_out} corrected frame(s) hold "
                              f"propagated labels not accepted yet: accept them once looked "
                              f"over, or let them train")
        emit(Message(f"left out {read.unreviewed_left_out} frame(s) with propagated labels "
                     f"not accepted yet"))
    if not read.pairs and read.problems:
        raise SegNetError(f"no corrected frame to fine-tune on could be read ("
                          f"{'; '.join(read.problems[:3])}"
                          + (f"; {len(read.problems) - 3} more" if len(read.problems) > 3
                             else "") + ")")
    holdout = remap_holdout(settings.holdout, read.kept)
    drawn = not isinstance(holdout, tuple)
    aside_names: list[str] = []
    if read.pairs:  # a share is drawn among scorable frames
        train, held = _split(read, holdout, settings.seed)
        aside = _aside(read, train, held)
        unheld = _unheld_note(read, holdout, held)
        if unheld:
            emit(Message(unheld))
        aside_names = [read.names[i] for i in aside]
        if aside:
            they = "they do" if len(aside) > 1 else "it does"
            emit(Message(f"set aside {some_names(aside_names, 4)}: linked by propagation to a "
                         f"held-out frame, so {they} not train this round"))
        used, held_set = sorted(train + held), set(held)
        read = read.only(used)
        holdout = tuple(i for i, frame in enumerate(used) if frame in held_set)
    settings = replace(settings, holdout=holdout)
    known = [read.names[i] for i in holdout if read.known[i]]
    if known:
        why = " (too few other frames could be)" if drawn else ""
        emit(Message(f"held out {some_names(known, 4)}, which the model in use was trained "
                     f"on{why}: its 'before' figure flatters it"))
    base_version = None
    if versions is not None and not versions.list():
        base_version = versions.save(base, make_current=True)
        base = versions.load(base_version)
    elif versions is not None and "model_version" not in base.training:
        # the model file the project started from, saved as its original: fine-tuned again
        # from that file, the new version names it as its parent (a user saw null there)
        original = versions.saved_from(base.path)
        if original is not None:
            base = versions.load(original)
    unlabelled = []
    chosen = spread(uncorrected, settings.unlabelled_limit)
    if chosen:
        emit(Message(f"reading {len(chosen)} uncorrected frame(s)"))
    for frame in chosen:
        if cancel is not None and cancel.cancelled:
            break
        try:
            unlabelled.append(read_image(frame))
        except SegNetError as error:
            emit(Message(f"left out uncorrected {error}"))
    with tempfile.TemporaryDirectory(prefix="segnet-finetune-") as out_dir:
        result = run_finetune(base, read.pairs, label_set, settings, out_dir=out_dir,
                              progress=emit, cancel=cancel, frame_names=read.names,
                              unlabelled=unlabelled, started=started)
    if aside_names and result.checkpoint is not None:  # in the record, with train / held_out
        result.checkpoint.training["fine_tune"]["frames"]["set_aside"] = aside_names
    if result.checkpoint is not None:  # all of them, not the `unlabelled_limit` read
        result.checkpoint.training["fine_tune"]["uncorrected_frames"] = len(uncorrected)
    version = None
    if versions is not None and result.checkpoint is not None:
        version = versions.save(result.checkpoint, make_current=False)
    return FineTuneOutcome(result, version, base_version, time.perf_counter() - started,
                           read.problems)
