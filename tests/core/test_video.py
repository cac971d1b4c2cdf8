"""VideoFrames over small MJPG files, and find_inputs / iter_inputs over files, folders and
videos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from segnet_core.errors import DataError, SegNetError
from segnet_core.io.inputs import (InputFile, InputItem, InputKind, count_inputs, find_inputs,
                                   iter_inputs, output_name)
from segnet_core.io.video import VIDEO_EXTENSIONS, VideoFrames

H, W = 48, 64
_TEXTURE = np.random.default_rng(0).integers(-20, 21, (H, W, 3))


def frame_color(i: int) -> np.ndarray:
    """Frame i's mean RGB: red rises and green falls with i, so the order shows."""
    return np.array([40 + 17 * i, 215 - 17 * i, 128], dtype=np.float64)


def write_video(path: Path, frames: int = 10) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (W, H))
    assert writer.isOpened()
    for i in range(frames):
        rgb = np.clip(frame_color(i) + _TEXTURE, 0, 255).astype(np.uint8)
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def frame_number(frame: np.ndarray) -> int:
    """Which frame this is, read back from its colour."""
    assert frame.shape == (H, W, 3) and frame.dtype == np.uint8
    mean = frame.reshape(-1, 3).mean(axis=0)
    distances = [np.abs(mean - frame_color(i)).max() for i in range(12)]
    best = int(np.argmin(distances))
    assert distances[best] < 5, (mean, best)
    return best


@pytest.fixture
def video(tmp_path) -> Path:
    return write_video(tmp_path / "clip.avi")


def test_properties_and_iteration(video):
    with VideoFrames(video) as frames:
        assert frames.frame_count == 10 and len(frames) == 10
        assert frames.fps == pytest.approx(10.0)
        assert frames.size == (H, W)
        got = list(frames)
        assert [i for i, _ in got] == list(range(10))
        assert [frame_number(f) for _, f in got] == list(range(10))
        assert frames.frames_read == 10
        again = list(frames)  # a second pass starts at frame 0 again
        assert [frame_number(f) for _, f in again] == list(range(10))
        for (_, a), (_, b) in zip(got, again):
            np.testing.assert_array_equal(a, b)


def test_read_seeks(video):
    with VideoFrames(video) as frames:
        every = dict(frames)
        for index in (5, 2, 9, 0, 5):
            np.testing.assert_array_equal(frames.read(index), every[index])
        for bad in (10, 50, -1):
            with pytest.raises(DataError) as info:
                frames.read(bad)
            said = str(bad + 1) if bad >= 0 else str(bad)  # frames counted from 1 when said
            assert "clip.avi" in str(info.value) and f"frame {said}" in str(info.value)
        np.testing.assert_array_equal(frames.read(3), every[3])  # still usable after a miss


def test_every_third_frame(video):
    with VideoFrames(video) as frames:
        picked = list(frames.frames(3))
    assert [i for i, _ in picked] == [0, 3, 6, 9]
    assert [frame_number(f) for _, f in picked] == [0, 3, 6, 9]
    items = list(iter_inputs([video], every=3))
    assert [(item.stem, item.frame) for item in items] == [("clip", f) for f in (0, 3, 6, 9)]
    assert [frame_number(item.image) for item in items] == [0, 3, 6, 9]
    assert count_inputs([video], every=3) == 4


def test_closed_video_refuses_reads(video):
    frames = VideoFrames(video)
    frames.close()
    with pytest.raises(DataError, match="clip.avi"):
        frames.read(0)


def test_truncated_video_stops_at_the_last_good_frame(video, tmp_path):
    data = video.read_bytes()
    opened = 0
    for fraction in (0.9, 0.8, 0.5, 0.2):
        cut = tmp_path / f"cut{int(fraction * 100)}.avi"
        cut.write_bytes(data[:int(len(data) * fraction)])
        try:
            frames = VideoFrames(cut)
        except DataError as error:
            assert cut.name in str(error)
            continue
        with frames:
            got = list(frames)  # must not raise
        assert 1 <= len(got) < 10
        assert [i for i, _ in got] == list(range(len(got)))
        assert frames.frames_read == len(got)
        # FFmpeg conceals the damage of a frame cut in the middle, so the last one may be
        # partly grey; every frame before it is intact and in order
        assert [frame_number(f) for _, f in got[:-1]] == list(range(len(got) - 1))
        assert got[-1][1].shape == (H, W, 3)
        # through iter_inputs the frames that decode come out, then the rest are reported
        # once, naming the file and the frames
        errors = []
        items = list(iter_inputs([cut], on_error=lambda p, e: errors.append((p, e))))
        assert len(items) == len(got) and [p for p, _ in errors] == [cut]
        assert str(errors[0][1]).startswith(str(cut))
        which = ("frame 9 (counted from 0; the window's 10)" if len(got) == 9 else
                 f"frames {len(got)}-9 (counted from 0; the window's {len(got) + 1}-10)")
        assert f"{which} of the 10" in str(errors[0][1])
        opened += 1
    assert opened  # at least one cut (here 90 %) opens and is iterated


def test_not_a_video(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    with pytest.raises(DataError) as info:
        VideoFrames(text)
    assert "notes.mp4" in str(info.value) and "cannot open as a video" in str(info.value)
    with pytest.raises(DataError, match="missing.avi"):
        VideoFrames(tmp_path / "missing.avi")
    with pytest.raises(DataError, match="folder"):
        VideoFrames(tmp_path)


def test_an_mp4_cut_in_half_may_be_damaged_and_an_empty_one_is_said_to_be(tmp_path):
    """An mp4 cut short loses its index (the moov atom at the end) and OpenCV cannot open
    it at all: the message names damage as a reason, not only a foreign file or codec."""
    whole = tmp_path / "whole.mp4"
    writer = cv2.VideoWriter(str(whole), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (W, H))
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    for _ in range(10):
        writer.write(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
    writer.release()
    data = whole.read_bytes()
    assert data.find(b"moov") > len(data) // 2  # its index comes after the frames
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(DataError) as info:
        VideoFrames(cut)
    assert info.value.reason == ("cannot open as a video (not a video file, a codec this "
                                 "OpenCV lacks, or it is damaged or truncated)")
    (tmp_path / "empty.avi").write_bytes(b"")
    with pytest.raises(DataError) as info:
        VideoFrames(tmp_path / "empty.avi")
    assert info.value.reason == "cannot open as a video (the file is empty)"
    (tmp_path / "clip.bin").write_bytes(data[:len(data) // 2])  # not named as a video
    with pytest.raises(DataError) as info:
        VideoFrames(tmp_path / "clip.bin")
    assert info.value.reason.endswith("(not a video file, or a codec this OpenCV lacks)")


def test_iter_inputs_files_folders_videos_and_errors(tmp_path, video):
    folder = tmp_path / "images"
    folder.mkdir()
    for name, value in (("b.png", 10), ("a.jpg", 20), ("c.bmp", 30)):
        cv2.imwrite(str(folder / name), np.full((20 + value, 30, 3), value, np.uint8))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / ".hidden.png").write_bytes(b"")
    (folder / "readme.txt").write_text("not an image")
    (folder / "sub").mkdir()
    cv2.imwrite(str(folder / "sub" / "deep.png"), np.zeros((8, 8, 3), np.uint8))
    single = tmp_path / "single.png"
    cv2.imwrite(str(single), np.full((9, 11, 3), 200, np.uint8))
    unknown = tmp_path / "data.xyz"
    unknown.write_text("?")
    empty = tmp_path / "empty"
    empty.mkdir()
    paths = [folder, tmp_path / "missing.png", unknown, single, video, empty]

    errors: list[tuple[Path, SegNetError]] = []
    items = list(iter_inputs(paths, every=4, on_error=lambda p, e: errors.append((p, e))))
    assert [output_name(item) for item in items] == [
        "a.png", "b.png", "c.png", "single.png",
        "clip_000000.png", "clip_000004.png", "clip_000008.png"]
    assert all(isinstance(item, InputItem) for item in items)
    assert items[0].source == folder / "a.jpg" and items[0].frame is None
    assert items[0].image.shape == (40, 30, 3) and items[0].image.dtype == np.uint8
    assert items[4].source == video and items[4].frame == 0
    assert [p.name for p, _ in errors] == ["broken.png", "missing.png", "data.xyz", "empty"]
    assert all(isinstance(e, DataError) for _, e in errors)
    assert "unknown file type" in str(errors[2][1]) and "no images" in str(errors[3][1])
    assert count_inputs(paths, every=4) == 4 + 1 + 3  # broken.png counts: it looks like one

    with pytest.raises(DataError, match="broken.png"):
        list(iter_inputs([folder]))


def test_find_inputs_says_what_each_path_is(tmp_path, video):
    folder = tmp_path / "shots"
    folder.mkdir()
    for name in ("b.png", "a.JPG", ".hidden.png", "notes.txt"):
        (folder / name).write_bytes(b"not decoded here")
    (folder / "sub").mkdir()
    single = tmp_path / "one.tif"
    single.write_bytes(b"?")
    unknown = tmp_path / "clip.webm"
    unknown.write_text("?")
    empty = tmp_path / "empty"
    empty.mkdir()
    paths = [folder, single, video, tmp_path / "gone.png", unknown, empty]

    errors: list[tuple[Path, SegNetError]] = []
    found = list(find_inputs(paths, on_error=lambda p, e: errors.append((p, e))))
    assert found == [InputFile(folder / "a.JPG", InputKind.IMAGE, folder),
                     InputFile(folder / "b.png", InputKind.IMAGE, folder),
                     InputFile(single, InputKind.IMAGE, single),
                     InputFile(video, InputKind.VIDEO, video)]
    assert [(p.name, e.path.name) for p, e in errors] == [
        ("gone.png", "gone.png"), ("clip.webm", "clip.webm"), ("empty", "empty")]
    reasons = [e.reason for _, e in errors]
    assert reasons[0] == "no such file or folder"
    assert "unknown file type '.webm'" in reasons[1] and "mp4" in reasons[1]
    assert reasons[2].startswith("folder holds no images or videos (png, jpg")
    with pytest.raises(DataError, match="gone.png"):  # without a handler the error is raised
        list(find_inputs([single, tmp_path / "gone.png"]))


def test_links_in_a_folder_that_lead_to_no_file_are_inputs_that_cannot_be_read(tmp_path,
                                                                              capsys):
    from segnet_core.cli import main
    from tests.core.test_predict import tiny_checkpoint

    folder = tmp_path / "shots"
    folder.mkdir()
    cv2.imwrite(str(folder / "good.png"), np.full((40, 48, 3), 90, np.uint8))
    (folder / "a.png").symlink_to("b.png")  # a.png -> b.png -> a.png
    (folder / "b.png").symlink_to("a.png")
    (folder / "gone.mp4").symlink_to(tmp_path / "nowhere.mp4")
    (folder / ".hidden.png").symlink_to("nowhere.png")  # hidden: not an input
    (folder / "notes.txt").symlink_to("nowhere.txt")  # not an image or video by name
    errors: list[tuple[Path, SegNetError]] = []
    found = list(find_inputs([folder], on_error=lambda p, e: errors.append((p, e))))
    assert found == [InputFile(folder / "good.png", InputKind.IMAGE, folder)]
    assert [(p, e.path, e.reason) for p, e in errors] == [
        (folder / "a.png", folder / "a.png",
         "cannot be read: a symbolic link that loops back on itself"),
        (folder / "b.png", folder / "b.png",
         "cannot be read: a symbolic link that loops back on itself"),
        (folder / "gone.mp4", folder / "gone.mp4",
         f"cannot be read: a symbolic link to {tmp_path / 'nowhere.mp4'}, which does not "
         "exist")]
    assert main(["predict", str(folder), "--out", str(tmp_path / "out"), "--device", "cpu",
                 "--model", str(tiny_checkpoint(tmp_path))]) == 1
    captured = capsys.readouterr()
    assert f"skipped {folder / 'a.png'}: cannot be read: a symbolic link that loops" in \
        captured.err and f"skipped {folder / 'gone.mp4'}: cannot be read" in captured.err
    assert "written 1 files" in captured.out and "skipped 3" in captured.out


def test_names_and_extensions():
    image = np.zeros((1, 1, 3), np.uint8)
    assert output_name(InputItem(Path("x/a b.jpg"), "a b", None, image)) == "a b.png"
    assert output_name(InputItem(Path("v.mp4"), "v", 12, image)) == "v_000012.png"
    assert output_name(InputItem(Path("v.mp4"), "v", 1234567, image)) == "v_1234567.png"
    assert VIDEO_EXTENSIONS == (".mp4", ".avi", ".mov", ".mkv")
    with pytest.raises(ValueError):
        list(iter_inputs([], every=0))


def test_a_whole_mkv_whose_frame_count_is_estimated_is_not_reported(tmp_path):
    """Matroska stores no frame count: OpenCV estimates it from the duration (the longest
    stream's: here an audio track would end 0.1 s after the video, written into the Duration
    element) times the frame rate. Every frame decodes, so nothing is reported."""
    import struct

    path = tmp_path / "clip.mkv"
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"MJPG"), 30,
                             (W, H))
    assert writer.isOpened()
    for i in range(10):
        writer.write(np.full((H, W, 3), 20 * i, np.uint8))
    writer.release()
    data = bytearray(path.read_bytes())
    at = data.find(bytes([0x44, 0x89, 0x88]))  # Segment Info > Duration, 8-byte float (ms)
    duration = struct.unpack(">d", data[at + 3:at + 11])[0]
    data[at + 3:at + 11] = struct.pack(">d", duration + 100)
    path.write_bytes(data)
    with VideoFrames(path) as video:
        assert sum(1 for _ in video) == 10 and video.frame_count == 13
    errors = []
    assert len(list(iter_inputs([path], on_error=lambda p, e: errors.append(e)))) == 10
    assert errors == []
