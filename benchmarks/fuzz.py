"""Feeds mutated and foreign inputs to every reader of the project (the targets of
tests/core/fuzz_targets.py) and prints, per target, the inputs tried and the failures.

    .venv/bin/python benchmarks/fuzz.py [--budget 10000] [--targets a,b] [--start 0]

The budget is the number of inputs in all, shared evenly between the targets. Inputs run in a
worker process (restarted after a crash or a hang, which count as failures); each input must
load or raise the project's own error naming the file. Input n of a target is reproducible:
`make_input(target, n)`; failing inputs are saved under --keep (default: a temporary folder,
printed) for @example regressions. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")

from tests.core.fuzz_targets import TARGETS, Runner, make_input  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--start", type=int, default=0, help="first input number")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per input")
    parser.add_argument("--keep", help="folder for failing inputs")
    args = parser.parse_args(argv)
    names = [n for n in args.targets.split(",") if n]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}; targets: {', '.join(TARGETS)}")
    per_target = {n: args.budget // len(names) + (i < args.budget % len(names))
                  for i, n in enumerate(names)}
    keep = Path(args.keep or tempfile.mkdtemp(prefix="segnet-fuzz-failures-"))
    tried: Counter = Counter()
    outcomes: dict[str, Counter] = {n: Counter() for n in names}
    failures: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as work, Runner(Path(work), args.timeout) as runner:
        for name in names:
            target_start = time.monotonic()
            for n in range(args.start, args.start + per_target[name]):
                data = make_input(name, n)
                status, detail = runner.check(name, data)
                tried[name] += 1
                outcomes[name][status] += 1
                if status in ("fail", "crash", "hang"):
                    keep.mkdir(parents=True, exist_ok=True)
                    saved = keep / f"{name}-{n}{Path(TARGETS[name].file_name).suffix}"
                    saved.write_bytes(data)
                    failures.append(f"{name} #{n} ({saved}): {status}: {detail}")
                    print(f"FAIL {name} #{n}: {status}: {detail.splitlines()[0] if detail else ''}",
                          flush=True)
            counts = outcomes[name]
            bad = counts["fail"] + counts["crash"] + counts["hang"]
            print(f"{name:14s} {tried[name]:6d} inputs  {bad:3d} failures  "
                  f"(loaded {counts['ok']}, refused with our error {counts['error']}, "
                  f"crash {counts['crash']}, hang {counts['hang']})  "
                  f"{time.monotonic() - target_start:6.1f} s", flush=True)
    total_bad = len(failures)
    print(f"total: {sum(tried.values())} inputs, {total_bad} failures, "
          f"{time.monotonic() - started:.0f} s")
    for line in failures[:20]:
        print(line)
    if failures:
        print(f"failing inputs kept in {keep}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
