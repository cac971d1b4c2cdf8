"""Fine-tuning without the window: a folder of frames (or a video) and its masks in, a
checkpoint file out (what `segnet-studio finetune` runs)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import numpy as np

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
    corrected.
    """
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
    if outcome.result.checkpoint is not None:
        save_checkpoint(out, outcome.result.checkpoint)
    return outcome
