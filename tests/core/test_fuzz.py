"""Fuzzed and foreign inputs for every reader (a short budget; `benchmarks/fuzz.py --budget N`
runs the same targets long): each input loads or raises the project's own error naming the
file; another exception, a hang or a crash fails. Inputs run in a worker process
(tests/core/fuzz_targets.py). Examples pinned with @example are inputs that found bugs.
Budget per target: $SEGNET_FUZZ_EXAMPLES (default 40)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.core.fuzz_targets import TARGETS, Runner, foreign, make_input, png_with_size, seeds

EXAMPLES = int(os.environ.get("SEGNET_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    with Runner(tmp_path_factory.mktemp("fuzz"), timeout=60.0) as worker:
        yield worker


def check(runner: Runner, name: str, data: bytes) -> None:
    status, detail = runner.check(name, data)
    assert status in ("ok", "error"), f"{name}: {status}: {detail}"


def inputs(name: str):
    return st.integers(0, 2 ** 40).map(lambda n: make_input(name, n))


@pytest.mark.parametrize("name", list(TARGETS))
def test_seeds_load_and_foreign_inputs_are_refused_cleanly(runner, name):
    for data in seeds(name):
        assert runner.check(name, data) == ("ok", ""), name
    for data in foreign(name):
        check(runner, name, data)


# Found: a PNG header declaring 100000x100000 made read_image raise cv2.error
# (CV_IO_MAX_IMAGE_PIXELS) instead of DataError.
@given(data=inputs("image_png"))
@example(data=png_with_size(100_000, 100_000))
@FUZZ
def test_fuzz_image_png(runner, data):
    check(runner, "image_png", data)


@given(data=inputs("image_jpg"))
@example(data=png_with_size(100_000, 100_000))
@FUZZ
def test_fuzz_image_jpg(runner, data):
    check(runner, "image_jpg", data)


@given(data=inputs("mask"))
@example(data=png_with_size(100_000, 100_000))
@FUZZ
def test_fuzz_mask(runner, data):
    check(runner, "mask", data)


@given(data=inputs("labels_txt"))
@example(data=b"999999999999999999999999 0 0 Big\n")
@example(data=b"70 130\x00 180 Sky\n")
@FUZZ
def test_fuzz_label_set_txt(runner, data):
    check(runner, "labels_txt", data)


# Found: deeply nested JSON made LabelSet.read raise RecursionError (labels_json #13).
@given(data=inputs("labels_json"))
@example(data=b"[" * 100_000)
@example(data=b'{"classes": [{"name": "a", "color": [1e999, 2, 3]}]}')
@FUZZ
def test_fuzz_label_set_json(runner, data):
    check(runner, "labels_json", data)


# Found: a line naming a path too long for the file system made read_list_file raise
# OSError (ENAMETOOLONG from Path.is_file) instead of DataError (list_file #100540).
@given(data=inputs("list_file"))
@example(data=b"a.png " + b"x" * 300 + b".png\n")
@example(data=b"a.png\x00 a_mask.png\n")
@example(data=b"\xff\xfe a.png a_mask.png\n")
@FUZZ
def test_fuzz_list_file(runner, data):
    check(runner, "list_file", data)


@given(data=inputs("video_mp4"))
@example(data=b"this is text, not a video\n")
@FUZZ
def test_fuzz_video_mp4(runner, data):
    check(runner, "video_mp4", data)


@given(data=inputs("video_avi"))
@FUZZ
def test_fuzz_video_avi(runner, data):
    check(runner, "video_avi", data)


@given(data=inputs("checkpoint"))
@FUZZ
def test_fuzz_checkpoint(runner, data):
    check(runner, "checkpoint", data)


# Found: deeply nested JSON (RecursionError), and a "current" naming a version the index
# does not list (a SegNetError naming only the folder, not index.json).
@given(data=inputs("project_index"))
@example(data=b"[" * 100_000)
@example(data=b'{"format": "segnet-studio-model-versions", "version": 1, "current": "v009", '
              b'"versions": []}')
@FUZZ
def test_fuzz_project_index(runner, data):
    check(runner, "project_index", data)
