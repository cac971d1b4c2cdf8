"""`segnet-studio rank`: which frames to correct first. Every frame of the images, folders or
videos given gets the model's estimated pixel accuracy and a priority (1 = correct this
first); frames with a mask in their labels folder count as corrected. Without `--model` the
estimates come from the model the window would use: the current fine-tuned version of the
inputs' project, else the shipped model. Frames whose estimates that model gave before, here
or in the window, are not segmented again (`segnet_core.kept_estimates`; --estimate-again
to). The work is `segnet_core.ranking.rank_inputs`; this module parses the arguments and
prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Estimate each frame's accuracy and rank the frames to correct first"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segnet_core.commands.arguments import add_model_arguments

    parser.add_argument("--images", nargs="+", required=True, metavar="PATH",
                        help="image files, folders (their images, then their videos) or video "
                             "files (every frame; a video's frames are named as the window "
                             "names them, 'clip.mp4 · frame 13', counted from 1; its mask "
                             "counts from 0: clip_000012.png)")
    parser.add_argument("--json", action="store_true",
                        help='print a JSON list of {"frame", "estimated_accuracy", "priority", '
                             '"corrected", "flagged", "propagated", "trained_on", '
                             '"as_predicted", "carried", "real_accuracy", "path", "index", '
                             '"mask"} (true or false: the marks the table shows; carried: '
                             'labels were carried to it by a propagation, accepted or not, '
                             'labels/propagated_from.txt; real_accuracy: how right the '
                             'model is by a correction the model was not trained on, else '
                             'null; path: the file, absolute; index: the video frame from 0, '
                             'null for an image; mask: its mask file name in labels/)')
    parser.add_argument("--order", choices=("priority", "frame"), default="priority",
                        help="list the frames by priority (default) or in input order")
    parser.add_argument("--estimate-again", action="store_true",
                        help="segment and estimate every frame, not taking the estimates this "
                             "model gave before, here or in the window, and keep the new ones "
                             "in their place (kept in the user's cache folder, or in "
                             "$SEGNET_STUDIO_CACHE: an empty value keeps none)")
    add_model_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from segnet_core.commands.arguments import follow_project, load_predictor, model_path
    from segnet_core.commands.input_problems import InputProblems
    from segnet_core.commands.progress_bar import ProgressBar
    from segnet_core.kept_estimates import model_key
    from segnet_core.ranking import by_priority, rank_inputs, ranking_table
    from segnet_core.io.inputs import count_inputs

    follow_project(args, args.images, "estimating")
    named = model_path(args)
    key = model_key(named)  # before loading: a file rewritten meanwhile keeps nothing
    predictor = load_predictor(args)
    problems = InputProblems("ranked")
    bar = ProgressBar(count_inputs(args.images), "rank", stream=sys.stderr)

    def progress(done: int) -> None:
        bar.total = max(bar.total, done)
        bar.update(done)

    loaded = model_path(args)  # the shipped model when the project's version would not load
    kept = kept_values(loaded, key if loaded == named else None, not args.estimate_again)
    frames = rank_inputs(args.images, predictor, on_error=problems, progress=progress,
                         warn=lambda text: print(f"warning: {text}", file=sys.stderr,
                                                 flush=True), kept=kept)
    bar.finish(len(frames))
    if kept is not None and kept.given:
        print(f"{kept.given} of {len(frames)} frame(s) kept their estimates from before "
              f"(--estimate-again to estimate them again)", file=sys.stderr, flush=True)
    if args.order == "priority":
        frames = by_priority(frames)
    if args.json:
        print(json.dumps([frame.as_dict() for frame in frames], indent=1))
    elif frames:
        print(ranking_table(frames))
    else:
        print(f"no frame to rank ({problems.skipped} input(s) skipped)" if problems.skipped
              else "no frame to rank: the inputs hold no image or video", file=sys.stderr)
    return 1 if problems.any or not frames else 0


def kept_values(model: Path, key: str | None, read: bool):
    """The estimates kept for the model file `model` (`kept_estimates.ModelEstimates`; with
    `read` False, only kept); None when none are kept (an empty $SEGNET_STUDIO_CACHE), the
    file cannot be looked at, or it is no longer the file `key` was taken of (rewritten
    while it loaded; `key` None: take it now)."""
    from segnet_core.kept_estimates import (EstimateStore, ModelEstimates, estimates_folder,
                                            model_key)

    folder, now = estimates_folder(), model_key(model)
    if folder is None or now is None or (key is not None and key != now):
        return None
    return ModelEstimates(EstimateStore(folder), now, read=read)
