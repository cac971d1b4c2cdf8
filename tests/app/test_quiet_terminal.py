"""Files the Problems dock names leave the terminal quiet: broken PNGs are refused before
libpng reads them, and OpenCV's and FFmpeg's logs are off in the window (unless asked for).
Run in a fresh process, as the terminal output of native libraries cannot be caught here."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib

import cv2
import numpy as np

from segnet_core.io.images import read_image
from tests.app.conftest import H, W, scene_image, write_png

SCRIPT = """
import sys
from segnet_core.io.video import quiet_native_logs
if sys.argv[2] == "quiet":
    quiet_native_logs()
from segnet_core.errors import DataError
from app.frames import FrameList, FrameReader
frames = FrameList()
report = frames.add_paths([sys.argv[1]])
for problem in report.problems:
    print("problem", problem.path.name, problem.reason)
reader = FrameReader()
for ref in frames:
    try:
        reader.read(ref)
    except DataError as error:
        print("problem", ref.name, error.reason)
reader.close()
"""


def broken_files(folder) -> None:
    good = write_png(folder / "good.png", scene_image(0)).read_bytes()
    damaged = bytearray(good)
    idat = good.index(b"IDAT")
    damaged[idat + 40] ^= 0xFF  # inside IDAT: its CRC no longer matches
    (folder / "crc.png").write_bytes(bytes(damaged))
    (folder / "cut.png").write_bytes(good[: len(good) // 2])
    (folder / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    writer = cv2.VideoWriter(str(folder / "street.mp4"), cv2.VideoWriter_fourcc(*"mp4v"),
                             10.0, (W, H))
    rng = np.random.default_rng(1)
    for i in range(20):
        writer.write(rng.integers(0, 255, (H, W, 3)).astype(np.uint8))
    writer.release()
    video = bytearray((folder / "street.mp4").read_bytes())
    third = len(video) // 3
    video[third:third + 3000] = rng.integers(0, 255, 3000).astype(np.uint8).tobytes()
    (folder / "street.mp4").write_bytes(bytes(video))


def run(folder, mode: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", SCRIPT, str(folder), mode], env=env,
                          capture_output=True, text=True, timeout=120)


def test_broken_files_are_named_as_problems_and_the_terminal_stays_quiet(tmp_path):
    folder = tmp_path / "street"
    folder.mkdir()
    broken_files(folder)
    quiet = run(folder, "quiet")
    assert quiet.returncode == 0, quiet.stderr
    named = {line.split()[1] for line in quiet.stdout.splitlines() if line.startswith("problem")}
    assert {"crc.png", "cut.png", "fake.png"} <= named
    assert quiet.stderr == ""
    loud = run(folder, "loud")  # the same without quieting: OpenCV and FFmpeg speak
    assert loud.stdout == quiet.stdout and loud.stderr != ""


def test_damaged_pngs_are_refused_with_the_chunk_named(tmp_path):
    good = write_png(tmp_path / "good.png", scene_image(0)).read_bytes()
    assert read_image(tmp_path / "good.png").shape == (H, W, 3)
    idat = good.index(b"IDAT")
    damaged = bytearray(good)
    damaged[idat + 40] ^= 0xFF
    (tmp_path / "crc.png").write_bytes(bytes(damaged))
    cut = tmp_path / "cut.png"
    cut.write_bytes(good[: idat + 30])
    for path, words in ((tmp_path / "crc.png", "'IDAT' is damaged"), (cut, "inside chunk 'IDAT'")):
        try:
            read_image(path)
        except Exception as error:  # noqa: BLE001 - the type is checked below
            assert type(error).__name__ == "DataError" and words in str(error)
        else:
            raise AssertionError(f"{path.name} was read")
    # an ancillary chunk with a bad CRC is only a warning for libpng: still read
    text = b"tEXtComment\x00hello"
    chunk = len(text[4:]).to_bytes(4, "big") + text + (zlib.crc32(text) ^ 1).to_bytes(4, "big")
    end = good.index(b"IEND") - 4
    (tmp_path / "text.png").write_bytes(good[:end] + chunk + good[end:])
    assert read_image(tmp_path / "text.png").shape == (H, W, 3)
