"""`segnet-studio export`: write masks of images and video frames in the formats other tools
read (see `segnet_core.export`).

Masks come from a labels folder: `<stem>.png` for an image, `<stem>_<frame:06d>.png` for a
video frame (index PNGs, as the window saves corrected masks). Without --masks the folder is
`labels/` beside the images (inside a folder given as input, beside a file given as input).
With --predict-missing, images and frames without a mask get the model's prediction.
Exit code 0 when everything was exported, 1 when inputs or items were skipped or left out
of a format that cannot hold their name (the summary names them), 2 on an error, 130 when
stopped with Ctrl-C (the files written so far and the manifest stay).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segnet_core.errors import SegNetError

HELP = "Export masks as index/colour PNGs, overlays, video, CamVid, VOC or COCO"


def _split(text: str) -> tuple[float, ...]:
    from segnet_core.export import check_split

    try:
        return check_split(tuple(float(part) for part in text.split(",")))  # type: ignore
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{error}; expected e.g. 0.8,0.1,0.1 (train,val,test)") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segnet_core.commands.arguments import (MODEL_DEFAULT, add_model_arguments, fraction,
                                                positive_number, whole_number)
    from segnet_core.export import FORMATS, ExportOptions

    parser.add_argument("--images", nargs="+", required=True, metavar="PATH",
                        help="image files, folders (their images, then their videos) or video "
                             "files")
    parser.add_argument("--masks", metavar="DIR",
                        help="labels folder: <stem>.png per image, <stem>_<frame:06d>.png per "
                             "video frame (default: labels/ beside the images)")
    parser.add_argument("--predict-missing", action="store_true",
                        help="segment images and frames that have no mask with the model")
    parser.add_argument("--format", action="append", required=True, choices=FORMATS,
                        dest="formats", metavar="FMT",
                        help=f"one of {', '.join(FORMATS)}; repeat for several")
    parser.add_argument("--out", required=True, metavar="DIR", type=Path,
                        help="output folder (one subfolder per format, and manifest.json)")
    parser.add_argument("--split", type=_split, metavar="TRAIN,VAL,TEST",
                        help="split the camvid and voc layouts, e.g. 0.8,0.1,0.1")
    parser.add_argument("--corrected-only", action="store_true",
                        help="export only frames with corrected masks (mask files), never "
                             "the model's predictions")
    parser.add_argument("--include-propagated", action="store_true",
                        help="also export masks holding propagated labels nobody accepted yet "
                             "(listed in the labels folder's propagated.txt), marked "
                             "\"propagated\" in the manifest, never as corrected (left out by "
                             "default, and by --corrected-only)")
    parser.add_argument("--min-area", type=whole_number, default=0, metavar="PIXELS",
                        help="COCO: leave out regions under PIXELS pixels, e.g. prediction "
                             "speckle (default: 0, every region)")
    parser.add_argument("--coco-rle", choices=("compressed", "uncompressed", "polygons"),
                        default="polygons",
                        help="COCO segmentations: polygons (RLE for regions with holes), or "
                             "compressed or uncompressed RLE (default: polygons)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (default: 0)")
    parser.add_argument("--alpha", type=fraction, default=ExportOptions.alpha,
                        help=f"weight of the colours in overlays and video "
                             f"(default: {ExportOptions.alpha})")
    parser.add_argument("--fps", type=positive_number,
                        help="frame rate of the video format (default: the source video's)")
    parser.add_argument("--label-set", metavar="FILE",
                        help="label_colors.txt or .json of the masks (default: the model's, "
                             "else one found in the labels folder, else CamVid's)")
    parser.add_argument("--model", metavar="CKPT",
                        help="checkpoint for --predict-missing (" + MODEL_DEFAULT
                             + ") and for the label set")
    add_model_arguments(parser, model=False, batch=False)
    parser.set_defaults(batch_size=1, compile=False)  # items are predicted one at a time


def _label_set(args, masks_dirs: list[Path], predictor):
    from segnet_core.commands.arguments import load_model_checkpoint
    from segnet_core.data.datasets import LABEL_SET_FILES
    from segnet_core.labels import LabelSet, camvid_label_set

    if args.label_set:
        labels = LabelSet.read(args.label_set)
        if predictor is not None and labels.num_classes != predictor.label_set.num_classes:
            raise SegNetError(f"--label-set {args.label_set} has {labels.num_classes} classes "
                              f"but the model predicts {predictor.label_set.num_classes}")
        return labels
    if predictor is not None:
        return predictor.label_set
    if args.model:
        return load_model_checkpoint(args).label_set()
    for folder in masks_dirs:
        for name in LABEL_SET_FILES:
            if (folder / name).is_file():
                return LabelSet.read(folder / name)
    return camvid_label_set()


def run(args: argparse.Namespace) -> int:
    from segnet_core.commands.arguments import follow_project, load_predictor
    from segnet_core.commands.interrupt import cancel_on_ctrl_c
    from segnet_core.commands.progress_bar import ProgressBar
    from segnet_core.export import export_masks
    from segnet_core.export.sources import MaskedInputs

    skipped = 0

    def report(path, error: SegNetError) -> None:
        nonlocal skipped
        skipped += 1
        print(f"skipped {path}: {error.reason}", file=sys.stderr, flush=True)

    if args.out.exists() and not args.out.is_dir():
        raise SegNetError(f"--out {args.out}: exists and is not a folder")
    if args.predict_missing:
        follow_project(args, args.images, "predicting the missing masks")
    predictor = load_predictor(args) if args.predict_missing else None
    inputs = MaskedInputs(args.images, args.masks, args.predict_missing, report)
    try:
        inputs.scan()
        label_set = _label_set(args, inputs.masks_dirs(), predictor)
        items = inputs.items(label_set, predictor)
        keep_propagated = args.include_propagated and not args.corrected_only
        left_out = 0 if keep_propagated else sum(item.propagated for item in items)
        if not keep_propagated:
            items = [item for item in items if not item.propagated]
        if args.corrected_only:
            items = [item for item in items if item.corrected]
        if not items and left_out:
            raise SegNetError(f"nothing to export: {left_out} mask(s) hold propagated labels "
                              "not accepted yet (--include-propagated exports them)")
        if not items:
            hint = "" if args.predict_missing else "; pass --masks DIR or --predict-missing"
            raise SegNetError(f"nothing to export: no masks found for the inputs{hint}")

        bar = ProgressBar(len(items), "export", stream=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.update(done, f"{bar.rate(done):.1f} items/s")

        def on_error(item, error: SegNetError) -> None:
            report(item.problem_at(error), error)

        try:
            with cancel_on_ctrl_c("stopping after this item") as cancel:
                result = export_masks(items, args.out, args.formats, label_set,
                                      split=args.split, seed=args.seed, alpha=args.alpha,
                                      fps=args.fps, min_area=args.min_area,
                                      coco_segmentation=args.coco_rle,
                                      progress=progress, cancel=cancel, on_error=on_error)
        finally:
            bar.close()
    finally:
        inputs.close()

    missing = f", {inputs.without_mask} without a mask" if inputs.without_mask else ""
    if left_out:
        how = ("--corrected-only leaves them out" if args.corrected_only
               else "--include-propagated exports them")
        missing += f", {left_out} with propagated labels not accepted yet left out ({how})"
    print(f"{result.summary()}{missing}; manifest {result.manifest}")
    if result.cancelled:
        return 130
    return 1 if skipped or result.left_out else 0
