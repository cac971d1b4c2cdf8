"""Plays a generated 720p video of 300 frames through the window's own playback pipeline
(offscreen: a real MainWindow, its decoder thread, inference worker and overlay) and prints
display frames/s, segmentation frames/s and the largest overlay lag in frames.

    .venv/bin/python benchmarks/video.py [--frames 300] [--fps 30] [--model PATH]

Model: --model, else resources/models/segnet-basic-lcn-camvid.pt, else
runs/camvid-basic-180x240/best.pt, else a small untrained SegNet-Basic (said in the output).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

CANDIDATES = (ROOT / "resources" / "models" / "segnet-basic-lcn-camvid.pt",
              ROOT / "runs" / "camvid-basic-180x240" / "best.pt")


def make_video(path: Path, frames: int, fps: float, size=(720, 1280)) -> Path:
    h, w = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise SystemExit("OpenCV cannot write MJPG video here")
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    base = np.empty((h, w, 3), np.uint8)
    base[:] = (np.stack([150 + 80 * yy, 120 + 60 * yy, 90 + 40 * yy], -1)
               .astype(np.uint8))
    base[h // 2:] = (70, 70, 70)  # a "road"
    for i in range(frames):
        image = base.copy()
        x = int((i * 9) % (w - 200))
        cv2.rectangle(image, (x, h // 2 - 60), (x + 200, h // 2 + 80), (40, 40, 200), -1)
        cv2.circle(image, (w - x // 2 - 100, h // 3), 70, (30, 160, 30), -1)
        writer.write(image)
    writer.release()
    return path


def choose_model(option: str | None, tmp: Path) -> tuple[Path, str]:
    if option:
        return Path(option), f"given: {option}"
    for candidate in CANDIDATES:
        if candidate.is_file():
            return candidate, str(candidate.relative_to(ROOT))
    import torch

    from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
    from segnet_core.labels import camvid_label_set
    from segnet_core.models import build_model

    labels = camvid_label_set()
    torch.manual_seed(0)
    model = build_model("segnet-basic", labels.num_classes)
    path = tmp / "untrained.pt"
    save_checkpoint(path, checkpoint_from_model(model, labels.to_dict(), (360, 480)))
    return path, "untrained SegNet-Basic at 360x480 (no trained model found)"



def open_window_on_video(video: Path, model, device: str):
    """An offscreen MainWindow with `model` loaded, showing the first frame of `video`."""
    from PySide6.QtWidgets import QApplication

    from app.frames import FrameRef
    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(model, device=device)
    ready = []
    window.modelReady.connect(ready.append)
    window.show()
    deadline = time.monotonic() + 120
    while not ready and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    if not ready:
        raise SystemExit("the model did not load")
    window.open_paths([video])
    first = FrameRef(video.resolve(), 0)
    while window.current_key != first:
        app.processEvents()
        time.sleep(0.005)
    return app, window

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--model")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    from app.settings import SETTINGS_ENV

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ[SETTINGS_ENV] = str(tmp / "settings.ini")
        video = make_video(tmp / "drive.avi", args.frames, args.fps)
        model, model_text = choose_model(args.model, tmp)
        app, window = open_window_on_video(video, model, args.device)
        playback = window.playback
        shown, drawn, results, inference = [], [], [], []
        playback.frameShown.connect(lambda d, r: shown.append((d, r)))
        playback.resultDrawn.connect(lambda d, r: drawn.append((d, r)))
        window.worker.resultReady.connect(
            lambda key, *rest: (results.append(time.monotonic()), inference.append(rest[-1])))
        started = time.monotonic()
        playback.play()
        while playback.playing:
            app.processEvents()
            time.sleep(0.001)
        elapsed = time.monotonic() - started
        in_play = [t for t in results if t <= started + elapsed]
        lags = [d - r for d, r in shown + drawn if r >= 0]
        without = sum(1 for _, r in shown if r < 0)
        device = window.model_info.device
        window.close()

    last = shown[-1][0] if shown else -1
    print(f"model: {model_text} ({device})")
    print(f"video: {args.frames} frames, 1280x720, {args.fps:g} frames/s, "
          f"{args.frames / args.fps:.1f} s; played in {elapsed:.2f} s to frame {last + 1}")
    print(f"display: {len(shown) / elapsed:.1f} frames/s ({len(shown)} frames shown, "
          f"{args.frames - 1 - len(shown)} skipped to keep the pace)")
    print(f"segmentation: {len(in_play) / elapsed:.1f} frames/s "
          f"(model time {1000 * float(np.median(inference)) if inference else 0:.0f} ms "
          f"median per frame)")
    print(f"overlay lag: largest {max(lags) if lags else 'n/a'} frames, median "
          f"{int(np.median(lags)) if lags else 'n/a'}; {without} frames shown without an "
          f"overlay (none within one inference yet)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
