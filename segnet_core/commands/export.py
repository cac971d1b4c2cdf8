"""`segnet-studio export`: write masks of images and video frames in the formats other tools
read (see `segnet_core.export`).

Masks come from a labels folder: `<stem>.png` for an image, `<stem>_<frame:06d>.png` for a
video frame (index PNGs, as the window saves corrected masks). Without --masks the folder is
`labels/` beside the images (inside a folder given as input, beside a file given as input).
With --predict-missing, images and frames without a mask get the model's prediction.
Exit code 0 when everything was exported, 1 when inputs or items were skipped, 2 on an
error, 130 when stopped with Ctrl-C (the files written so far and the manifest stay).
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import time
from pathlib import Path

from segnet_core.errors import FileFormatError, SegNetError
from segnet_core.masks.labels_folder import LABELS_FOLDER, mask_name

HELP = "Export masks as index/colour PNGs, overlays, video, CamVid, VOC or COCO"
FORMAT_NAMES = ("index", "color", "per-class", "overlay", "video", "camvid", "voc", "coco")


def _split(text: str) -> tuple[float, ...]:
    from segnet_core.export import check_split

    try:
        return check_split(tuple(float(part) for part in text.split(",")))  # type: ignore
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{error}; expected e.g. 0.8,0.1,0.1 (train,val,test)") from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from segnet_core.commands.predict import _fraction
    from segnet_core.device import PRECISIONS

    parser.add_argument("--images", nargs="+", required=True, metavar="PATH",
                        help="image files, folders of images or video files")
    parser.add_argument("--masks", metavar="DIR",
                        help="labels folder: <stem>.png per image, <stem>_<frame:06d>.png per "
                             "video frame (default: labels/ beside the images)")
    parser.add_argument("--predict-missing", action="store_true",
                        help="segment images and frames that have no mask with the model")
    parser.add_argument("--format", action="append", required=True, choices=FORMAT_NAMES,
                        dest="formats", metavar="FMT",
                        help=f"one of {', '.join(FORMAT_NAMES)}; repeat for several")
    parser.add_argument("--out", required=True, metavar="DIR", type=Path,
                        help="output folder (one subfolder per format, and manifest.json)")
    parser.add_argument("--split", type=_split, metavar="TRAIN,VAL,TEST",
                        help="split the camvid and voc layouts, e.g. 0.8,0.1,0.1")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (default: 0)")
    parser.add_argument("--alpha", type=_fraction, default=0.5,
                        help="weight of the colours in overlays and video (default: 0.5)")
    parser.add_argument("--fps", type=_positive,
                        help="frame rate of the video format (default: the source video's)")
    parser.add_argument("--label-set", metavar="FILE",
                        help="label_colors.txt or .json of the masks (default: the model's, "
                             "else one found in the labels folder, else CamVid's)")
    parser.add_argument("--model", metavar="CKPT",
                        help="checkpoint for --predict-missing and the label set "
                             "(default: the shipped model)")
    parser.add_argument("--device", default="auto",
                        help="auto (default: CUDA when there is one), cpu, cuda or cuda:N")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="auto (default), fp32, bf16 or fp16")
    parser.set_defaults(batch_size=1)  # items are predicted one at a time, as reached


def _reason(error: SegNetError) -> str:
    return error.reason if isinstance(error, FileFormatError) else str(error)


def _label_set(args, masks_dirs: list[Path], predictor):
    from segnet_core.checkpoint import load_checkpoint
    from segnet_core.data.datasets import LABEL_SET_FILES
    from segnet_core.errors import CheckpointError
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
        try:
            return load_checkpoint(args.model).label_set()
        except CheckpointError as error:
            raise SegNetError(f"--model {error}") from None
    for folder in masks_dirs:
        for name in LABEL_SET_FILES:
            if (folder / name).is_file():
                return LabelSet.read(folder / name)
    return camvid_label_set()


class _Inputs:
    """The export items of --images, found lazily: masks and images are read when the export
    reaches them, and each video stays open for its frames."""

    def __init__(self, args, report):
        self.args = args
        self.report = report
        self.videos = []
        self.entries: list[tuple[str, Path, int | None, Path | None, object]] = []
        self.without_mask = 0

    def masks_dir(self, path: Path) -> Path:
        if self.args.masks:
            return Path(self.args.masks)
        return (path if path.is_dir() else path.parent) / LABELS_FOLDER

    def scan(self) -> None:
        from segnet_core.errors import DataError
        from segnet_core.masks.io import IMAGE_EXTENSIONS
        from segnet_core.video import (VIDEO_EXTENSIONS, folder_images, is_image_file,
                                       is_video_file)

        for raw in self.args.images:
            path = Path(raw)
            if path.is_dir():
                try:
                    files = folder_images(path)
                except OSError as error:
                    self.report(path, DataError(path, f"cannot list folder: "
                                                      f"{error.strerror or error}"))
                    continue
                if not files:
                    self.report(path, DataError(path, "folder holds no images"))
                for file in files:
                    self._image(file, self.masks_dir(path))
            elif not path.exists():
                self.report(path, DataError(path, "no such file or folder"))
            elif is_image_file(path):
                self._image(path, self.masks_dir(path))
            elif is_video_file(path):
                self._video(path, self.masks_dir(path))
            else:
                kinds = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)
                self.report(path, DataError(path, f"unknown file type; use {kinds}"))

    def _image(self, file: Path, masks: Path) -> None:
        mask = masks / f"{file.stem}.png"
        if mask.is_file():
            self.entries.append((file.stem, file, None, mask, file))
        elif self.args.predict_missing:
            self.entries.append((file.stem, file, None, None, file))
        else:
            self.without_mask += 1

    def _video(self, path: Path, masks: Path) -> None:
        from segnet_core.video import VideoFrames

        try:
            video = VideoFrames(path)
        except SegNetError as error:
            self.report(path, error)
            return
        self.videos.append(video)
        pattern = re.compile(re.escape(path.stem) + r"_(\d{6,})\.png$")
        masked: dict[int, Path] = {}
        if masks.is_dir():
            for file in masks.iterdir():
                match = pattern.fullmatch(file.name)
                if match and file.is_file():
                    masked[int(match.group(1))] = file
        if self.args.predict_missing:
            for _ in video.frames(every=1 << 30):  # grab to the end: the true frame count
                pass
            frames = range(max(video.frames_read, max(masked, default=-1) + 1))
        else:
            frames = sorted(masked)
            self.without_mask += max(0, (video.frame_count or 0) - len(masked))
        for index in frames:
            self.entries.append((Path(mask_name(path, index)).stem, path, index, masked.get(index),
                                 video))

    def close(self) -> None:
        for video in self.videos:
            video.close()

    def items(self, label_set, predictor):
        from segnet_core.export import ExportItem
        from segnet_core.finetune.frames import corrected_or_predicted
        from segnet_core.masks.io import read_mask

        items = []
        for name, source, frame, mask_file, reader in self.entries:
            if frame is None:
                image = source
                fps = None
            else:
                image = (lambda video=reader, index=frame: video.read(index))
                fps = reader.fps or None
            item = ExportItem(name=name, mask=None, corrected=False, image=image,
                              source=source, frame=frame, fps=fps)
            correction = None if mask_file is None else (
                lambda file=mask_file: read_mask(file, label_set))
            item.mask, item.corrected = corrected_or_predicted(
                correction, lambda it=item: predictor.predict(it.load_image()).labels)
            items.append(item)
        return items


def run(args: argparse.Namespace) -> int:
    from segnet_core.commands.predict import load_predictor
    from segnet_core.export import export_masks
    from segnet_core.progress import CancelToken, ProgressBar

    skipped = 0

    def report(path, error: SegNetError) -> None:
        nonlocal skipped
        skipped += 1
        print(f"skipped {path}: {_reason(error)}", file=sys.stderr, flush=True)

    if args.out.exists() and not args.out.is_dir():
        raise SegNetError(f"--out {args.out}: exists and is not a folder")
    predictor = load_predictor(args) if args.predict_missing else None
    inputs = _Inputs(args, report)
    try:
        inputs.scan()
        dirs = list(dict.fromkeys(inputs.masks_dir(Path(p)) for p in args.images))
        label_set = _label_set(args, dirs, predictor)
        items = inputs.items(label_set, predictor)
        if not items:
            hint = "" if args.predict_missing else "; pass --masks DIR or --predict-missing"
            raise SegNetError(f"nothing to export: no masks found for the inputs{hint}")

        bar = ProgressBar(len(items), "export", stream=sys.stderr)

        def progress(done: int, total: int) -> None:
            elapsed = max(1e-9, time.monotonic() - bar.start)
            bar.update(done, f"{done / elapsed:.1f} items/s")

        def on_error(item, error: SegNetError) -> None:
            report(item.where if item.frame is None else f"{item.where} frame {item.frame}",
                   error)

        cancel = CancelToken()

        def on_interrupt(signum, frame):
            if cancel.cancelled:
                raise KeyboardInterrupt
            cancel.cancel()
            print("\nstopping after this item (Ctrl-C again to abort now)", file=sys.stderr)

        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, on_interrupt) if main_thread else None
        try:
            result = export_masks(items, args.out, args.formats, label_set, split=args.split,
                                  seed=args.seed, alpha=args.alpha, fps=args.fps,
                                  progress=progress, cancel=cancel, on_error=on_error)
        finally:
            if main_thread:
                signal.signal(signal.SIGINT, previous)
            bar.close()
    finally:
        inputs.close()

    missing = f", {inputs.without_mask} without a mask" if inputs.without_mask else ""
    print(f"{result.summary()}{missing}; manifest {result.manifest}")
    if result.cancelled:
        return 130
    return 1 if skipped else 0
