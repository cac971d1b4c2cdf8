"""Fine-tuning without the window: a folder of frames (or a video) and its masks in, a
checkpoint file out (what `segnet-studio finetune` runs)."""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from segnet_core.atomic import cannot_write
from segnet_core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from segnet_core.errors import SegNetError
from segnet_core.finetune.frames import FrameLike, find_frames
from segnet_core.finetune.project import (FineTuneOutcome, corrections_label_set,
                                          finetune_corrected)
from segnet_core.finetune.settings import FineTuneSettings
from segnet_core.io.images import read_image
from segnet_core.events import CancelToken
from segnet_core.resources import default_model_path
from segnet_core.train_events import Message, ProgressCallback
from segnet_core.io.video import VideoFrames


class ModelNotSavedError(SegNetError):
    """The fine-tuned model could not be written where asked. `path`: that file; `fallback`:
    where the model was saved instead (None when nowhere could take it); `outcome`: the run's
    outcome, as `finetune_images` returns it."""

    def __init__(self, path: Path, reason: str, fallback: Path | None,
                 outcome: FineTuneOutcome):
        self.path, self.fallback, self.outcome = path, fallback, outcome
        kept = f"the fine-tuned model is saved in {fallback} instead" if fallback else \
            "it could not be saved anywhere else either: it is lost"
        self._why = f"cannot write: {reason}; {kept}"
        super().__init__(f"{path}: {self._why}")

    @property
    def reason(self) -> str:
        return self._why


def _save_elsewhere(out: Path, checkpoint: Checkpoint, folders: list[Path]) -> Path | None:
    """Save `checkpoint` under a new name like `out`'s in the first of `folders` that takes
    it; None when none does."""
    for folder in folders:
        try:
            fd, name = tempfile.mkstemp(prefix=f"{out.stem}-", suffix=out.suffix or ".pt",
                                        dir=folder)
        except OSError:
            continue
        os.close(fd)
        try:
            save_checkpoint(name, checkpoint)
            return Path(name)
        except OSError:
            Path(name).unlink(missing_ok=True)
    return None


def finetune_images(images: str | Path, out: str | Path, *, masks: str | Path | None = None,
                    model: str | Path | Checkpoint | None = None,
                    settings: FineTuneSettings | None = None,
                    progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None) -> FineTuneOutcome:
    """Fine-tune `model` on the corrected frames of `images` and save the new model to `out`.

    images: a folder of images, or a video file.
    masks: the corrections, index PNGs named as the labels folder names them
        (`<stem>.png`; `<stem>_<frame:06d>.png` for a video's frames); default: the labels
        folder beside the images, as the window saves them. A frame with a mask is
        corrected; the others are unlabelled data (see `run_finetune`). The classes are the label set saved there,
        else the model's.
    model: the checkpoint to start from (a file, or one loaded); default: the shipped model.
    settings: as the panel's (`FineTuneSettings()` by default: the same defaults).

    `out` is written only when the run took at least one step (it is the checkpoint the
    outcome's result holds); no project version is saved. SegNetError when no frame is
    corrected, or, before anything is trained, when `out` cannot be written (a folder, a
    folder missing or read-only); ModelNotSavedError when writing it fails all the same at
    the end (a full disk): the model is then saved beside the masks, else in the temporary
    folder, and the error says where.
    """
    out = Path(out)
    why = cannot_write(out)
    if why is not None:
        raise SegNetError(f"cannot write {out}: {why}; nothing was trained")
    settings = settings or FineTuneSettings()
    settings.validate()
    found = find_frames(images, masks)
    if progress is not None:
        for problem in found.problems:
            progress(Message(problem))
    if not found.corrected:
        raise SegNetError(f"{images}: no frame has a mask in {found.masks.root}; correct a few "
                          "frames first (or pass --masks)")
    base = model if isinstance(model, Checkpoint) else \
        load_checkpoint(model if model is not None else default_model_path())
    label_set = corrections_label_set(found.masks, base)
    with ExitStack() as stack:
        videos: dict[Path, VideoFrames] = {}

        def read(frame: FrameLike) -> np.ndarray:
            if frame.index is None:
                return read_image(frame.path)
            if frame.path not in videos:
                videos[frame.path] = stack.enter_context(VideoFrames(frame.path))
            return videos[frame.path].read(frame.index)

        outcome = finetune_corrected(found.corrected, label_set, base, settings,
                                     read_image=read, masks=found.masks,
                                     uncorrected=found.uncorrected, progress=progress,
                                     cancel=cancel)
    checkpoint = outcome.result.checkpoint
    if checkpoint is not None:
        try:
            save_checkpoint(out, checkpoint)
        except OSError as error:
            fallback = _save_elsewhere(out, checkpoint,
                                       [found.masks.root, Path(tempfile.gettempdir())])
            raise ModelNotSavedError(out, error.strerror or str(error), fallback,
                                     outcome) from None
    return outcome
