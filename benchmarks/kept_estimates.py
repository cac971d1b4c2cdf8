"""What keeping the estimates between sessions costs (`segnet_core.kept_estimates`).

    python benchmarks/kept_estimates.py [--frames 9000] [--corrected 100] [--repeats 3]

For a video of FRAMES frames and for a folder of FRAMES image files (empty stand-ins: the store
only looks at their stamps), with CORRECTED of them corrected (a mask each): the kept file's
size, bytes per frame, and the time to write it (a session's save, on the window's kept-estimates
thread) and to read it back with every stamp checked (as the frames open), best of REPEATS.
Segment all with the shipped model on the 2-core CPU takes ~93 ms a frame (docs/training.md),
so these figures set against FRAMES x 93 ms are what reopening saves.

    python benchmarks/kept_estimates.py --rank PATH... [--model CKPT]

instead times `segnet-studio rank`'s work (`ranking.rank_inputs`, the shipped model on the
CPU) on real frames twice in this process, with an empty store and then with what the first
run kept, and checks that both print the same.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from segnet_core.kept_estimates import EstimateStore, SourceEstimates, model_key
from segnet_core.masks.labels_folder import LABELS_FOLDER, mask_name

SEGMENT_MS = 93.0  # the shipped model's Segment all, a frame, 2-core CPU (docs/training.md)


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(root: Path, video: bool, frames: int, corrected: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    model = model_key(_write(root / "model.pt", b"weights"))
    labels = root / LABELS_FOLDER
    labels.mkdir()
    if video:
        source = _write(root / "drive.avi", b"frames")
        keys = list(range(frames))
    else:
        source = root / "images"
        source.mkdir()
        keys = [f"frame_{i:05d}.png" for i in range(frames)]
        for key in keys:
            _write(source / key, b"")
        labels = source / LABELS_FOLDER
        labels.mkdir()
    done = keys[::max(1, frames // max(corrected, 1))][:corrected]
    for key in done:
        _write(labels / (mask_name(source, key) if video else mask_name(source / key)), b"m")
    kept = SourceEstimates({key: float(v) for key, v in zip(keys, rng.uniform(0.5, 1, frames))},
                           {key: 0.8 for key in done})
    store = EstimateStore(root / "kept")
    write_s = best_of(repeats, lambda: store.save(model, source, video, set(keys), kept))
    read_s = best_of(repeats, lambda: store.load(model, source, video))
    back = store.load(model, source, video)
    assert back.estimates.keys() == kept.estimates.keys() and back.measured == kept.measured
    size = store.path_of(model, source).stat().st_size
    return {"source": "video" if video else "image folder", "bytes": size,
            "per_frame": size / frames, "write_ms": 1000 * write_s, "read_ms": 1000 * read_s}


def measure_rank(paths: list[str], model: str | None) -> None:
    from segnet_core.inference import Predictor
    from segnet_core.kept_estimates import ModelEstimates
    from segnet_core.ranking import rank_inputs
    from segnet_core.resources import named_model_path

    path = named_model_path(model)
    predictor = Predictor.from_checkpoint(path, device="cpu")
    with tempfile.TemporaryDirectory() as folder:
        store = EstimateStore(folder)
        runs = []
        for run in ("empty store", "kept"):
            kept = ModelEstimates(store, model_key(path))
            start = time.perf_counter()
            ranked = rank_inputs(paths, predictor, kept=kept)
            runs.append((run, time.perf_counter() - start, kept.given, ranked))
    (_, first_s, _, first), (_, kept_s, given, again) = runs
    assert [frame.as_dict() for frame in again] == [frame.as_dict() for frame in first]
    print(f"rank of {len(first)} frames, {path.name} on the CPU ({predictor.device_description})")
    print(f"{'run':<12} {'seconds':>8} {'ms/frame':>9} {'kept':>6}")
    for run, seconds, kept_frames, ranked in runs:
        print(f"{run:<12} {seconds:>8.2f} {1000 * seconds / len(ranked):>9.1f} "
              f"{kept_frames:>6}")
    print(f"the same output; {first_s / kept_s:.1f}x faster with the kept estimates")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=9000)
    parser.add_argument("--corrected", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rank", nargs="+", metavar="PATH",
                        help="time rank on these images, folders or videos instead")
    parser.add_argument("--model", help="for --rank (default: the shipped model)")
    args = parser.parse_args()
    if args.rank:
        measure_rank(args.rank, args.model)
        return 0
    rows = []
    for video in (True, False):
        with tempfile.TemporaryDirectory() as folder:
            rows.append(measure(Path(folder), video, args.frames, args.corrected, args.repeats))
    segment_s = args.frames * SEGMENT_MS / 1000
    print(f"{args.frames} frames, {args.corrected} corrected; best of {args.repeats}")
    print(f"{'source':<13} {'file KB':>8} {'B/frame':>8} {'write ms':>9} {'read ms':>8} "
          f"{'Segment all / read':>19}")
    for row in rows:
        print(f"{row['source']:<13} {row['bytes'] / 1024:>8.0f} {row['per_frame']:>8.1f} "
              f"{row['write_ms']:>9.1f} {row['read_ms']:>8.1f} "
              f"{segment_s / (row['read_ms'] / 1000):>18.0f}x")
    print(f"(Segment all at {SEGMENT_MS:.0f} ms a frame: {segment_s / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
