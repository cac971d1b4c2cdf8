"""`segnet-studio import`: bring in masks made by other tools (see `segnet_core.importing`).

Masks are matched to the images in --images by file stem and written as index PNGs to the
images' labels folder (or --masks), where the window reads corrected masks. Exit code 0 when
every source mask was written with every class known, 1 when something was reported (a mask
without an image, a kept mask, an unknown class), 2 on an error (nothing written), 130 when
stopped with Ctrl-C (nothing written).
"""

from __future__ import annotations

import argparse
import sys

HELP = "Import masks from CamVid, VOC, COCO, colour or index PNGs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segnet_core.importing import FORMAT_NAMES

    parser.add_argument("source", metavar="SOURCE",
                        help="a CamVid folder or list file, a VOC folder, a COCO JSON file, "
                             "or a folder of colour or index masks")
    parser.add_argument("--images", required=True, metavar="DIR",
                        help="folder of the images the masks belong to (matched by stem)")
    parser.add_argument("--format", default="auto", choices=FORMAT_NAMES, dest="fmt",
                        help="auto (default: detect and say which), " +
                             ", ".join(FORMAT_NAMES[1:]))
    parser.add_argument("--masks", metavar="OUT",
                        help="folder to write the masks to (default: labels/ in --images)")
    parser.add_argument("--include-uncorrected", action="store_true",
                        help="also import the masks a SegNet Studio export's manifest marks "
                             "as not corrected (a model's predictions, propagated labels not "
                             "accepted): they then count as corrections (left out by default)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace masks that exist already (default: keep them)")
    parser.add_argument("--label-set", metavar="FILE",
                        help="label_colors.txt or .json to import into (default: the model's, "
                             "else the one saved in the labels folder, else CamVid's)")
    parser.add_argument("--model", metavar="CKPT",
                        help="import into the label set of this checkpoint")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from segnet_core.errors import CheckpointError, SegNetError
    from segnet_core.importing import choose_label_set, import_labels
    from segnet_core.masks.labels_folder import LABELS_FOLDER
    from segnet_core.commands.progress_bar import ProgressBar

    out = Path(args.masks) if args.masks else Path(args.images) / LABELS_FOLDER
    try:
        label_set = choose_label_set(args.label_set, args.model, out)
    except CheckpointError as error:
        raise SegNetError(f"--model {error}") from None
    bar: ProgressBar | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = ProgressBar(total, "import", stream=sys.stderr)
        bar.update(done)

    try:
        report = import_labels(args.source, args.images, args.fmt, out, label_set,
                               args.overwrite, progress, uncorrected=args.include_uncorrected)
    finally:
        if bar is not None:
            bar.close()
    print(report.format_line())
    for line in report.lines():
        print(line)
    return 0 if report.complete else 1
