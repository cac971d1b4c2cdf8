"""`segnet-studio predict`: segment images, folders and videos and write one PNG per image or
frame (`<stem>.png`, `<stem>_<frame:06d>.png` for video frames).

Formats: see `segnet_core.io.predictions`. Unusable inputs, and those whose output name is
too long for the file system, are reported and skipped; the exit code is 1 when any was.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path

from segnet_core.errors import SegNetError

HELP = "Segment images, folders or videos and write masks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segnet_core.commands.arguments import (add_model_arguments, fraction, path_text,
                                                positive_int)
    from segnet_core.export import ExportOptions
    from segnet_core.io.predictions import PREDICTION_FORMATS

    parser.add_argument("inputs", nargs="+", metavar="INPUT", type=path_text,
                        help="image files, folders (their images, then their videos) or video "
                             "files")
    parser.add_argument("--out", required=True, metavar="DIR", type=path_text,
                        help="folder for the outputs")
    parser.add_argument("--format", default=PREDICTION_FORMATS[0], choices=PREDICTION_FORMATS,
                        help="index (palette PNG, default), color, overlay or confidence")
    parser.add_argument("--every", type=positive_int, default=1, metavar="N",
                        help="segment every N-th video frame (default: every frame)")
    parser.add_argument("--alpha", type=fraction, default=ExportOptions.alpha,
                        help=f"weight of the colours in --format overlay "
                             f"(default: {ExportOptions.alpha})")
    add_model_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from segnet_core.atomic import cannot_write_in
    from segnet_core.commands.arguments import follow_project, load_predictor
    from segnet_core.commands.input_problems import InputProblems
    from segnet_core.commands.progress_bar import ProgressBar
    from segnet_core.io.images import is_image_file
    from segnet_core.io.inputs import count_inputs, iter_inputs, output_name
    from segnet_core.io.predictions import write_prediction

    follow_project(args, args.inputs, "segmenting")
    out = Path(args.out)
    made = _missing(out)
    problem = cannot_write_in(out, "prediction.png")  # said before the model loads
    if problem:
        raise SegNetError(f"--out {out}: {problem}")
    try:
        predictor = load_predictor(args)
    except BaseException:
        _remove_empty(made)  # a run that never began leaves no output folder
        raise

    report = InputProblems("segmented", args.every)
    total = count_inputs(args.inputs, args.every)
    bar = ProgressBar(total, "predict", stream=sys.stderr)
    unread = 0  # image files that could not be read: count_inputs counted them

    def skipped(path: Path, error: SegNetError) -> None:
        nonlocal unread
        report(path, error)
        unread += int(is_image_file(path) and Path(path).is_file())

    items = ((item, item.image) for item in iter_inputs(args.inputs, args.every, skipped))
    written: dict[str, Path] = {}
    clashes: dict[tuple[Path, Path], int] = {}  # (input, the one written first): more skipped
    model_seconds = 0.0
    predicted = 0
    for item, prediction in predictor.predict_iter(items):
        predicted += 1
        model_seconds = predictor.last_inference_seconds
        name = output_name(item)
        done = predicted + unread  # the images and frames gone through, as counted
        if name in written:
            pair = (item.source, written[name])
            if pair in clashes:  # one line per pair of files, not per frame (a probe: a
                clashes[pair] += 1  # clip.avi beside clip.mp4 printed one per frame)
                report.skipped += 1
            else:
                clashes[pair] = 0
                report(item.source, SegNetError(f"output {name} was already written for "
                                                f"{written[name]}; rename one of them"))
            bar.update(done)
            continue
        target = out / name
        try:
            write_prediction(target, args.format, item.image, prediction,
                             predictor.label_set, args.alpha)
        except OSError as error:
            why = f"cannot write {target}: {error.strerror or error}"
            if error.errno != errno.ENAMETOOLONG:
                raise SegNetError(why) from None
            report(item.source, SegNetError(why))  # that file only: the others can be
            bar.update(done)
            continue
        written[name] = item.source
        bar.total = max(bar.total, done)
        bar.update(done, f"{bar.rate(predicted):.1f} images/s")
    bar.finish(predicted + unread, f"{bar.rate(predicted):.1f} images/s")
    for (source, first), more in clashes.items():
        if more:
            print(f"skipped {more} more output(s) of {source} for the same reason: "
                  f"{first} has them", file=sys.stderr, flush=True)

    ms = f"{1000.0 * model_seconds / predicted:.1f} ms/image" if predicted else "no images"
    in_part = f", {report.in_part} video(s) read in part" if report.in_part else ""
    print(f"written {len(written)} files to {out}, skipped {report.skipped}{in_part}; "
          f"device {predictor.device_description}, precision {predictor.precision}, {ms}")
    return 1 if report.any else 0


def _missing(folder: Path) -> list[Path]:
    """`folder` and the folders above it that are not there yet, deepest first."""
    missing = []
    for place in (folder, *folder.parents):
        try:
            if place.exists() or place.is_symlink():
                break
        except OSError:
            break
        missing.append(place)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (someone else's files), or gone
            return
