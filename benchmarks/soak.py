"""Soak: plays a generated 720p video through the window's own playback pipeline (offscreen
MainWindow, decoder thread, inference worker, overlay; segmentation on) for --minutes of video
time, and prints the memory (RSS) at each minute of video and the longest event-loop stall
(the largest gap between ticks of a 10 ms QTimer, less 10 ms).

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--fps 15] [--model PATH]

Targets: memory growth under 5 % after the first minute; no stall over 100 ms.
The video and model come from benchmarks/video.py (make_video, choose_model).
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from video import choose_model, make_video, open_window_on_video  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def major_faults() -> int:
    """Page faults of this process that had to read from disk (/proc/self/stat, field 12)."""
    try:
        with open("/proc/self/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[9])
    except (OSError, IndexError, ValueError):
        return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="video time")
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--model")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QTimer

    from app.settings import SETTINGS_ENV

    frames = int(round(args.minutes * 60 * args.fps))
    per_minute = int(round(60 * args.fps))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ[SETTINGS_ENV] = str(tmp / "settings.ini")
        made = time.monotonic()
        video = make_video(tmp / "soak.avi", frames, args.fps)
        print(f"video: {frames} frames, 1280x720, {args.fps:g} frames/s, "
              f"{args.minutes:g} min ({video.stat().st_size / 2**20:.0f} MiB, made in "
              f"{time.monotonic() - made:.0f} s)", flush=True)
        model, model_text = choose_model(args.model, tmp)
        app, window = open_window_on_video(video, model, args.device)
        playback = window.playback
        memory: list[tuple[int, float, float]] = []  # (minute, RSS MiB, wall s)
        results = []
        shown = [0]
        window.worker.resultReady.connect(lambda *a: results.append(1))
        started = time.monotonic()

        def on_frame(display, _result):
            shown[0] += 1
            minute = display // per_minute
            if display >= per_minute * (len(memory) + 1) - 1 or (
                    not memory and display >= per_minute - 1):
                memory.append((minute + 1 if display % per_minute else minute, rss_mib(),
                               time.monotonic() - started))
                print(f"minute {len(memory)}: RSS {memory[-1][1]:.0f} MiB, prediction cache "
                      f"{window.cache.bytes_used / 2**20:.0f} MiB of its "
                      f"{window.cache.max_bytes / 2**20:.0f} MiB budget "
                      f"({shown[0]} frames shown, {len(results)} segmented, "
                      f"{memory[-1][2]:.0f} s)", flush=True)

        playback.frameShown.connect(on_frame)
        start_rss = rss_mib()
        ticks = {"last": time.monotonic(), "worst": 0.0, "worst_at": 0.0, "cpu": 0.0,
                 "faults": major_faults(), "worst_cpu": 0.0, "worst_faults": 0, "over": 0}
        timer = QTimer()
        timer.setInterval(10)

        def tick():
            # what the GUI thread did during a gap tells a busy GUI thread (its CPU time ~
            # the gap) from a blocked one (waiting for the GIL, for pages read from disk)
            now, cpu, faults = time.monotonic(), time.thread_time(), major_faults()
            gap = now - ticks["last"] - 0.010
            ticks["over"] += gap > 0.100
            if gap > ticks["worst"]:
                ticks["worst"], ticks["worst_at"] = gap, now - started
                ticks["worst_cpu"] = cpu - ticks["cpu"]
                ticks["worst_faults"] = faults - ticks["faults"]
            ticks["last"], ticks["cpu"], ticks["faults"] = now, cpu, faults

        timer.timeout.connect(tick)
        loop = QEventLoop()
        watch = QTimer()
        watch.setInterval(200)
        watch.timeout.connect(lambda: None if playback.playing else loop.quit())
        playback.play()
        ticks["last"], ticks["cpu"] = time.monotonic(), time.thread_time()
        timer.start()
        watch.start()
        loop.exec()
        timer.stop()
        elapsed = time.monotonic() - started
        end_rss = rss_mib()
        device = window.model_info.device
        window.close()

    print(f"model: {model_text} ({device})")
    print(f"played {shown[0]} of {frames} frames in {elapsed:.0f} s; {len(results)} segmented")
    print(f"RSS before play {start_rss:.0f} MiB; at each minute of video: "
          + ", ".join(f"{m:.0f}" for _, m, _ in memory) + f"; at the end {end_rss:.0f} MiB")
    if memory:
        base = memory[0][1]
        growth = 100 * (max(end_rss, *(m for _, m, _ in memory)) - base) / base
        print(f"growth after the first minute: {growth:+.1f} % (target < 5 %) "
              f"{'PASS' if growth < 5 else 'FAIL'}")
    worst_ms = 1000 * ticks["worst"]
    print(f"longest event-loop stall: {worst_ms:.0f} ms at {ticks['worst_at']:.0f} s "
          f"(target <= 100 ms) {'PASS' if worst_ms <= 100 else 'FAIL'}; the GUI thread ran "
          f"{1000 * ticks['worst_cpu']:.0f} ms of it, the process took "
          f"{ticks['worst_faults']} major page faults; {ticks['over']} gaps over 100 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
