"""Label propagation along a video, on clips with known truth: a camera drifting and zooming
over one labelled scene at 30 fps (tests/core/moving_clip.py), each frame's truth the same crop
of the scene's labels. The scene is synthetic, or a CamVid frame when the data set is there."""

from functools import lru_cache
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from segnet_core.editing.propagate import (
    FlowEstimator,
    FlowSettings,
    propagate,
    propagate_sequence,
)
from tests.core.moving_clip import (
    CAMVID_VOID,
    CameraPath,
    camvid_scenes,
    crop_clip,
    pixel_accuracy,
    sliding_object_clip,
    textured_scene,
)

VOID = CAMVID_VOID
SCENES = ["synthetic", "camvid-0", "camvid-1", "camvid-2"]


@lru_cache(maxsize=None)
def scene(name: str):
    """(image, labels, frame size, zoom at frame 0) for a scene name."""
    if name == "synthetic":
        image, labels = textured_scene(240, 320, seed=3)
        return image, labels, (180, 240), 1.0
    found = camvid_scenes(3)
    number = int(name.split("-")[1])
    if number >= len(found):
        pytest.skip("CamVid is not in /work/shared/data/camvid")
    image, labels, _ = found[number]
    return image, labels, (360, 480), 1.25


def clip(name: str, velocity, zoom_rate: float, count: int = 6):
    image, labels, size, zoom = scene(name)
    centre = (image.shape[0] / 2, image.shape[1] / 2)
    path = CameraPath(centre, velocity, zoom, zoom_rate)
    return crop_clip(image, labels, path, count, size, VOID)


@pytest.mark.parametrize("name", SCENES)
def test_five_frames_forward_keep_95_percent_and_beat_copying_the_mask(name):
    # Driving forward: 1 % zoom a frame, drifting 1.5 scene pixels right and 0.5 down.
    frames, truths = clip(name, (0.5, 1.5), 0.01)
    steps = list(propagate_sequence(frames, 0, truths[0], 5, void_index=VOID))
    assert [step.index for step in steps] == [1, 2, 3, 4, 5]
    accuracy = pixel_accuracy(steps[-1].mask, truths[5], VOID)
    copied = pixel_accuracy(truths[0], truths[5], VOID)
    assert accuracy >= 0.95
    assert accuracy > copied + 0.03


@pytest.mark.parametrize("name", SCENES)
def test_five_frames_backward_keep_95_percent_and_beat_copying_the_mask(name):
    frames, truths = clip(name, (0.0, 2.0), 0.0)  # panning right 2 scene pixels a frame
    steps = list(propagate_sequence(frames, 5, truths[5], 5, void_index=VOID, direction=-1))
    assert [step.index for step in steps] == [4, 3, 2, 1, 0]
    accuracy = pixel_accuracy(steps[-1].mask, truths[0], VOID)
    assert accuracy >= 0.95
    assert accuracy > pixel_accuracy(truths[5], truths[0], VOID) + 0.03


def test_flow_at_reduced_size_is_scaled_back_to_the_frame():
    image, labels = textured_scene(480, 640, seed=5)
    path = CameraPath((240, 320), (0.5, 1.5), 1.0, 0.01)
    frames, truths = crop_clip(image, labels, path, 6, (360, 480), VOID)
    settings = FlowSettings(max_side=240)
    assert FlowEstimator(settings).flow_size(360, 480) == (180, 240)
    steps = list(propagate_sequence(frames, 0, truths[0], 5, void_index=VOID, settings=settings))
    assert pixel_accuracy(steps[-1].mask, truths[5], VOID) >= 0.95


def test_pixels_entering_the_view_are_unreliable_and_take_the_fallback():
    frames, truths = clip("synthetic", (0.0, 3.0), 0.0, count=2)  # 3 pixels enter at the right
    result = propagate(frames[0], truths[0], frames[1], void_index=VOID)
    assert result.unreliable[:, -3:].mean() >= 0.9
    assert result.unreliable[:, :-6].mean() < 0.01
    assert 0.01 < result.unreliable_share < 0.03
    assert (result.mask[result.unreliable] == VOID).all()

    fallback = np.full_like(truths[1], 9)  # a label the scene does not have
    filled = propagate(frames[0], truths[0], frames[1], void_index=VOID, fallback=fallback)
    assert ((filled.mask == 9) == filled.unreliable).all()
    assert (filled.mask[~filled.unreliable] == result.mask[~result.unreliable]).all()


def test_fallback_labels_are_carried_on_to_later_frames():
    frames, truths = clip("synthetic", (0.0, 3.0), 0.0)
    steps = list(propagate_sequence(frames, 0, truths[0], 5, void_index=VOID,
                                    fallback=lambda index, image: np.full_like(truths[0], 9)))
    # After five steps the 15 columns that entered hold the fallback's label, not void.
    assert (steps[-1].mask[:, -14:] == 9).mean() >= 0.9
    assert (steps[-1].mask[:, :-20] == 9).mean() < 0.01
    assert not (steps[-1].mask == VOID).any()


def test_masks_hold_only_labels_of_the_input_the_fallback_and_void():
    image, labels = textured_scene(240, 320, seed=7, classes=3)
    labels = np.array([2, 4, 7], np.uint8)[labels]  # blending any two would make 3, 5 or 6
    path = CameraPath((120, 160), (1.0, 2.5), 1.0, 0.015)
    frames, truths = crop_clip(image, labels, path, 7, (180, 240), VOID)
    rng = np.random.default_rng(0)

    def noisy_model(index, frame):
        return rng.choice(np.array([1, 9], np.uint8), size=frame.shape[:2])

    seen = set()
    for fallback in (None, noisy_model):
        for step in propagate_sequence(frames, 0, truths[0], 6, void_index=VOID,
                                       fallback=fallback):
            seen |= set(np.unique(step.mask).tolist())
    assert seen <= {2, 4, 7, 1, 9, VOID}
    assert {1, 9, VOID} <= seen  # the fallback and void were used, so the test bites


def test_uncovered_background_takes_the_fallback():
    frames, truths = sliding_object_clip(3, step=8)  # a disc (label 6) moving 8 px a frame
    for t in range(2):
        uncovered = (truths[t] == 6) & (truths[t + 1] != 6)
        alone = propagate(frames[t], truths[t], frames[t + 1], void_index=VOID)
        assert alone.unreliable[uncovered].mean() >= 0.8
        assert (alone.mask[uncovered] == 6).mean() <= 0.05
        helped = propagate(frames[t], truths[t], frames[t + 1], void_index=VOID,
                           fallback=truths[t + 1])
        assert (helped.mask[uncovered] == truths[t + 1][uncovered]).mean() >= 0.95
        assert pixel_accuracy(helped.mask, truths[t + 1], VOID) >= 0.99


def test_forward_backward_check_alone_finds_background_uncovered_by_a_look_alike():
    # The disc is cut from the scene itself, so colour hardly gives it away: the check that the
    # forward flow leads back to where the backward flow came from has to.
    frames, truths = sliding_object_clip(2, step=8, camouflaged=True)
    uncovered = (truths[0] == 6) & (truths[1] != 6)
    flow_check_only = FlowSettings(max_colour_change=None)
    result = propagate(frames[0], truths[0], frames[1], void_index=VOID, settings=flow_check_only)
    assert result.unreliable[uncovered].mean() >= 0.7
    assert (result.mask[uncovered] == 6).mean() <= 0.2
    no_checks = FlowSettings(max_colour_change=None, max_mismatch=1e9)
    unchecked = propagate(frames[0], truths[0], frames[1], void_index=VOID, settings=no_checks)
    assert unchecked.unreliable[uncovered].mean() < 0.1
    assert (unchecked.mask[uncovered] == 6).mean() >= 0.4


class CountingFrames:
    """A lazy frame source: len() and indexing, counting the reads."""

    def __init__(self, frames):
        self.frames, self.reads = frames, []

    def __len__(self):
        return len(self.frames)

    def __getitem__(self, index):
        self.reads.append(index)
        return self.frames[index]


def test_sequence_reads_each_frame_once_stops_at_the_end_and_reports_progress():
    frames, truths = clip("synthetic", (0.5, 1.5), 0.01)
    source = CountingFrames(frames)
    mask = truths[2].copy()
    reported = []
    steps = list(propagate_sequence(source, 2, mask, 10, void_index=VOID,
                                    progress=lambda done, total: reported.append((done, total))))
    assert [step.index for step in steps] == [3, 4, 5]
    assert source.reads == [2, 3, 4, 5]
    assert reported == [(1, 3), (2, 3), (3, 3)]
    assert (mask == truths[2]).all()  # the caller's mask is left alone
    for step in steps:
        assert step.mask.shape == mask.shape and step.mask.dtype == np.uint8
        assert step.unreliable_share == pytest.approx(step.unreliable.mean())
    assert list(propagate_sequence(frames, 0, truths[0], 3, void_index=VOID, direction=-1)) == []
    assert list(propagate_sequence(frames, 3, truths[3], 0, void_index=VOID)) == []


def test_cancel_stops_before_the_next_frame():
    frames, truths = clip("synthetic", (0.5, 1.5), 0.01)
    token = SimpleNamespace(cancelled=False)  # the CancelToken protocol: a `cancelled` flag
    steps = propagate_sequence(frames, 0, truths[0], 5, void_index=VOID, cancel=token)
    assert next(steps).index == 1
    token.cancelled = True
    assert list(steps) == []


@pytest.mark.parametrize("size", [(1, 1), (5, 7), (9, 40), (15, 15), (64, 3)])
def test_any_frame_size_works(size):
    rng = np.random.default_rng(1)
    first = rng.integers(0, 256, size + (3,), dtype=np.uint8)
    second = np.roll(first, 1, axis=1)
    mask = rng.integers(0, 3, size, dtype=np.uint8)
    result = propagate(first, mask, second, void_index=VOID)
    assert result.mask.shape == size and result.unreliable.shape == size
    assert set(np.unique(result.mask).tolist()) <= {0, 1, 2, VOID}


def test_grey_frames_work():
    frames, truths = clip("synthetic", (0.5, 1.5), 0.01, count=2)
    grey = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in frames]
    result = propagate(grey[0], truths[0], grey[1], void_index=VOID)
    assert pixel_accuracy(result.mask, truths[1], VOID) >= 0.97


def test_wrong_inputs_are_refused():
    frames, truths = clip("synthetic", (0.5, 1.5), 0.01, count=2)
    first, second, mask = frames[0], frames[1], truths[0]
    with pytest.raises(ValueError, match="mask"):
        propagate(first, mask[:-1], second, void_index=VOID)
    with pytest.raises(ValueError, match="uint8"):
        propagate(first, mask.astype(np.int64), second, void_index=VOID)
    with pytest.raises(ValueError, match="fallback"):
        propagate(first, mask, second, void_index=VOID, fallback=mask[:, :-1])
    with pytest.raises(ValueError, match="differ in size"):
        propagate(first, mask, second[:-1], void_index=VOID)
    with pytest.raises(ValueError, match="void_index"):
        propagate(first, mask, second, void_index=300)
    with pytest.raises(ValueError, match="direction"):
        next(propagate_sequence(frames, 0, mask, 1, void_index=VOID, direction=2))
    with pytest.raises(IndexError):
        next(propagate_sequence(frames, 2, mask, 1, void_index=VOID))
    with pytest.raises(ValueError, match="max_side"):
        FlowSettings(max_side=4)
