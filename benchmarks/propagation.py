"""Accuracy of label propagation 1..10 frames out, against copying the mask unchanged, and the
time per frame at 360x480.

    .venv/bin/python benchmarks/propagation.py [--scenes 3] [--frames 10]

Clips with known truth: a 30 fps camera drifting, panning and zooming over a labelled CamVid
frame (/work/shared/data/camvid; synthetic textured scenes when it is absent), 360x480, each
frame's truth the same crop of the annotation (tests/core/moving_clip.py). The mask of frame 0
(its truth) is carried to frames 1..N; "backward" carries that of frame N back to N-1..0, so
the zooms become zoom-outs and pixels enter at every edge. Accuracy: share of labelled pixels
given the right label; void (where the flow is not trusted; no fallback model here) counts as
wrong. Unreliable: share of pixels of each step where the flow was not trusted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from segnet_core.editing.propagate import (  # noqa: E402
    FlowQuality,
    FlowSettings,
    propagate_sequence,
)
from tests.core import moving_clip  # noqa: E402
from tests.core.moving_clip import CAMVID_VOID, CameraPath  # noqa: E402

SIZE = (360, 480)
ZOOM = 1.25  # output pixels per scene pixel at frame 0: a 288x384 crop of the 360x480 scene
#: (name, scene pixels a frame (down, right), zoom change a frame); 30 fps
PATHS = (("drive forward", (0.5, 1.5), 0.01),
         ("pan right", (0.0, 2.0), 0.0),
         ("pan left, tilt", (1.0, -2.5), 0.005),
         ("zoom in", (0.0, 0.0), 0.015))
METHODS = (("flow (default)", FlowSettings()),
           ("flow, fast preset", FlowSettings(quality=FlowQuality.FAST)),
           ("flow at half size", FlowSettings(max_side=240)))


def scenes(count: int):
    found = moving_clip.camvid_scenes(count)
    if found:
        return [(image, labels) for image, labels, _ in found], "CamVid train frames"
    return ([moving_clip.textured_scene(*SIZE, seed=seed) for seed in range(count)],
            "synthetic scenes (CamVid not found)")


def clips(scene_list, frames: int):
    for image, labels in scene_list:
        centre = (image.shape[0] / 2, image.shape[1] / 2)
        for _, velocity, zoom_rate in PATHS:
            path = CameraPath(centre, velocity, ZOOM, zoom_rate)
            yield moving_clip.crop_clip(image, labels, path, frames + 1, SIZE, CAMVID_VOID)


def measure(clip_list, frames: int, settings: FlowSettings | None, backward: bool = False):
    """Per k = 1..frames out, means over the clips of: accuracy, accuracy where the mask is
    not void, unreliable share; and the seconds each step took."""
    sums = {"accuracy": [0.0] * frames, "labelled": [0.0] * frames, "unreliable": [0.0] * frames}
    seconds = []
    for images, truths in clip_list:
        start = frames if backward else 0
        if settings is None:  # copy the mask unchanged
            masks = ((start - k if backward else k, truths[start], 0.0)
                     for k in range(1, frames + 1))
        else:
            masks = timed(propagate_sequence(images, start, truths[start], frames,
                                             void_index=CAMVID_VOID, settings=settings,
                                             direction=-1 if backward else 1), seconds)
        for k, (index, mask, unreliable) in enumerate(masks):
            truth = truths[index]
            where_labelled = np.where(mask == CAMVID_VOID, CAMVID_VOID, truth)
            sums["accuracy"][k] += moving_clip.pixel_accuracy(mask, truth, CAMVID_VOID)
            sums["labelled"][k] += moving_clip.pixel_accuracy(mask, where_labelled, CAMVID_VOID)
            sums["unreliable"][k] += unreliable
    return {key: [v / len(clip_list) for v in values] for key, values in sums.items()}, seconds


def timed(steps, seconds: list):
    """(index, mask, unreliable share) of each step, its time appended to `seconds`."""
    began = time.perf_counter()
    for step in steps:
        seconds.append(time.perf_counter() - began)
        yield step.index, step.mask, step.unreliable_share
        began = time.perf_counter()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=3, help="scenes (CamVid frames) to use")
    parser.add_argument("--frames", type=int, default=10, help="frames to propagate")
    args = parser.parse_args(argv)
    scene_list, source = scenes(args.scenes)
    clip_list = list(clips(scene_list, args.frames))
    print(f"{len(clip_list)} clips at {SIZE[0]}x{SIZE[1]}: {len(scene_list)} {source} x "
          f"{len(PATHS)} camera paths ({', '.join(name for name, _, _ in PATHS)})")
    header = f"{'method':<24}{'ms/frame':>9} " + "".join(
        f"{k:>6}" for k in range(1, args.frames + 1))
    rows = [("copy the mask", None, False)]
    rows += [(name, settings, False) for name, settings in METHODS]
    rows += [("copy the mask, backward", None, True), ("flow, backward", FlowSettings(), True)]
    results = {}
    for name, settings, backward in rows:
        results[name] = measure(clip_list, args.frames, settings, backward)
    tables = (("accuracy", "pixel accuracy (%) k frames out (void counts as wrong)"),
              ("labelled", "accuracy (%) where the mask is not void (what a fallback keeps)"),
              ("unreliable", "unreliable share (%) of each step (fallback or void used)"))
    for key, title in tables:
        print(f"\n{title}")
        print(header)
        for name, (figures, seconds) in results.items():
            if key == "unreliable" and not seconds:
                continue
            timing = f"{1000 * statistics.median(seconds):9.1f}" if seconds else f"{'-':>9}"
            print(f"{name:<24}{timing} " + "".join(f"{100 * v:6.1f}" for v in figures[key]))
    if args.frames >= 5:
        flow = results["flow (default)"][0]["accuracy"][4]
        copied = results["copy the mask"][0]["accuracy"][4]
        verdict = "met" if flow >= 0.95 and flow > copied else "NOT met"
        print(f"\n5 frames out: flow {100 * flow:.1f} %, copying {100 * copied:.1f} % "
              f"(target: >= 95 % and better than copying: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
