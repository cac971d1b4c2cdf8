"""Labels that follow the video: carry a corrected mask to the next frames by dense optical flow.

The flow is computed backwards, from the next frame to the previous one, so every pixel of the
next frame knows where it came from; labels are read there by nearest-neighbour lookup, so they
are copied, never blended. Along a sequence each pixel also carries the sub-pixel point of the
first frame its label comes from, and reads its label there: rounding once, not once a step,
keeps label edges from drifting.

A pixel's flow is not trusted where it comes from outside the previous frame (it enters the
view); where the forward flow does not bring it back to where it started (mismatch above
`max_mismatch` pixels plus `relative_mismatch` times its motion), the frame has texture there
and the error could reach a label edge; or where its colour differs from the colour at its
source (uncovered background). There the model's prediction for the frame fills in when one is
given, else void; the result says where.

Flow is computed on grey images, scaled down so the longer side is at most `max_side` (the flow
is scaled back to full size), so a 4000-pixel photo costs about what a 640-pixel frame does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple, Sequence

import cv2
import numpy as np

if TYPE_CHECKING:
    from segnet_core.events import CancelToken

#: Sources up to this far (pixels) outside the previous frame count as inside (flow near the
#: image edge is less exact); they take the edge pixel's label.
_EDGE_SLACK = 0.5
#: Local Sobel gradient (grey levels) below which a region counts as flat (see `_textured`).
_FLAT_GRADIENT = 10.0
#: DIS needs images of about this size at least; smaller frames are padded (edge replicated).
_MIN_FLOW_SIDE = 16


class FlowQuality(enum.Enum):
    """DIS optical flow presets: ultrafast < fast < medium in both accuracy and time."""

    ULTRAFAST = cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST
    FAST = cv2.DISOPTICAL_FLOW_PRESET_FAST
    MEDIUM = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


@dataclass(frozen=True)
class FlowSettings:
    """How flow is computed and when it is trusted (one source of these defaults)."""

    quality: FlowQuality = FlowQuality.MEDIUM
    #: The longer image side the flow is computed at (frames larger than this are scaled down);
    #: None computes it at full size.
    max_side: int | None = 640
    #: Forward-backward mismatch (pixels, full size) above which a pixel's flow is not trusted...
    max_mismatch: float = 1.0
    #: ...plus this share of the pixel's motion (fast motion is allowed a larger mismatch).
    relative_mismatch: float = 0.05
    #: Largest difference in any colour channel (0..255, both frames slightly blurred) between a
    #: pixel and the point its flow says it came from before it is not trusted; None: no check.
    max_colour_change: float | None = 24.0

    def __post_init__(self) -> None:
        if self.max_side is not None and self.max_side < _MIN_FLOW_SIDE:
            raise ValueError(f"max_side must be at least {_MIN_FLOW_SIDE}, got {self.max_side}")
        if min(self.max_mismatch, self.relative_mismatch, self.max_colour_change or 0) < 0:
            raise ValueError("thresholds must not be negative")


@dataclass(frozen=True)
class PropagationResult:
    """The next frame's mask, and where the flow was not trusted (fallback or void used)."""

    mask: np.ndarray          # HxW uint8 labels
    unreliable: np.ndarray    # HxW bool: True where the fallback (or void) was used

    @property
    def unreliable_share(self) -> float:
        return float(self.unreliable.mean()) if self.unreliable.size else 0.0


class PropagatedFrame(NamedTuple):
    """One step of `propagate_sequence`: the frame's index, its new mask, and where (and how
    much of it) the flow was not trusted."""

    index: int
    mask: np.ndarray
    unreliable_share: float
    unreliable: np.ndarray


def grey(image: np.ndarray) -> np.ndarray:
    """An HxW uint8 grey image from an HxWx3 RGB (or HxW grey) uint8 frame."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    raise ValueError(f"frames must be HxWx3 RGB or HxW grey, got shape {image.shape}")


class FlowEstimator:
    """Dense flow between two grey images of one size, computed at a bounded size and returned
    at full size. Holds an OpenCV object: use one per thread."""

    def __init__(self, settings: FlowSettings = FlowSettings()):
        self.settings = settings
        self._dis = cv2.DISOpticalFlow_create(settings.quality.value)

    def flow_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the flow is computed at for frames of this size."""
        longest = max(height, width)
        limit = self.settings.max_side
        if limit is None or longest <= limit:
            return height, width
        scale = limit / longest
        return max(1, round(height * scale)), max(1, round(width * scale))

    def pair(self, previous: np.ndarray, following: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(backward, forward) flows, HxWx2 float32 in full-size pixels: following(p) matches
        previous(p + backward(p)), and previous(q) matches following(q + forward(q))."""
        height, width = previous.shape
        small = self.flow_size(height, width)
        a, b = (_resized(image, small) for image in (following, previous))
        backward = self._calc(a, b)
        forward = self._calc(b, a)
        return _full_size(backward, height, width), _full_size(forward, height, width)

    def _calc(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        height, width = source.shape
        pad_y, pad_x = max(0, _MIN_FLOW_SIDE - height), max(0, _MIN_FLOW_SIDE - width)
        if pad_y or pad_x:
            source, target = (cv2.copyMakeBorder(image, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
                              for image in (source, target))
        return self._dis.calc(source, target, None)[:height, :width]


def _resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if image.shape == size:
        return image
    return cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def _full_size(flow: np.ndarray, height: int, width: int) -> np.ndarray:
    small_h, small_w = flow.shape[:2]
    if (small_h, small_w) == (height, width):
        return flow
    flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    flow[..., 0] *= width / small_w
    flow[..., 1] *= height / small_h
    return flow


def propagate(previous_image: np.ndarray, previous_mask: np.ndarray, next_image: np.ndarray, *,
              void_index: int, fallback: np.ndarray | None = None,
              settings: FlowSettings = FlowSettings(),
              estimator: FlowEstimator | None = None) -> PropagationResult:
    """Carry `previous_mask` (labels of `previous_image`) to `next_image`.

    Frames are HxWx3 uint8 RGB of one size; masks are HxW uint8 label maps. Where the flow is not
    trusted the pixel takes `fallback`'s label (the model's prediction for the next frame) when
    given, else `void_index`. The mask holds only values from `previous_mask`, `fallback` and
    void. `estimator` (built from `settings` when omitted) may be reused across calls.
    """
    track = _Track.start(previous_mask, grey(previous_image).shape)
    return track.advance(previous_image, next_image, void_index, fallback,
                         estimator or FlowEstimator(settings))


class _Track:
    """What one step hands the next: the current frame's labels and, for each of its pixels,
    the point of the key (first) frame its label is read from; NaN for a pixel filled from the
    fallback (or void), which carries its label instead."""

    def __init__(self, key_mask: np.ndarray, mask: np.ndarray, origin: np.ndarray):
        self.key_mask, self.mask, self.origin = key_mask, mask, origin

    @classmethod
    def start(cls, mask: np.ndarray, shape: tuple[int, int]) -> "_Track":
        mask = _label_map(mask, shape, "previous mask")
        rows, cols = np.indices(shape, dtype=np.float32)
        return cls(mask, mask, np.stack([cols, rows]))

    def advance(self, previous_image, next_image, void_index, fallback,
                estimator: FlowEstimator) -> PropagationResult:
        """Move to `next_image`: its labels, and where the flow was not trusted."""
        previous_image, next_image = np.asarray(previous_image), np.asarray(next_image)
        if previous_image.shape != next_image.shape:
            (h0, w0), (h1, w1) = previous_image.shape[:2], next_image.shape[:2]
            raise ValueError(f"the frames differ in size: {h0}x{w0} then {h1}x{w1} "
                             "(height x width)")
        previous_grey, next_grey = grey(previous_image), grey(next_image)
        if fallback is not None:
            fallback = _label_map(fallback, next_grey.shape, "fallback")
        if not 0 <= int(void_index) <= 255:
            raise ValueError(f"void_index must lie in 0..255, got {void_index}")
        void = int(void_index)
        backward, forward = estimator.pair(previous_grey, next_grey)
        flow = _Flow(backward)
        carried = flow.sample(self.mask, cv2.INTER_NEAREST)
        origin = np.stack([flow.sample(plane, cv2.INTER_LINEAR) for plane in self.origin])
        from_key = np.isfinite(origin[0]) & np.isfinite(origin[1])
        key_x, key_y = (np.where(from_key, plane, 0).astype(np.float32) for plane in origin)
        key_labels = cv2.remap(self.key_mask, key_x, key_y, cv2.INTER_NEAREST,
                               borderMode=cv2.BORDER_REPLICATE)
        mask = np.where(from_key, key_labels, carried)
        unreliable = flow.untrusted(forward, self.mask, previous_image, next_image, next_grey,
                                    estimator.settings)
        mask[unreliable] = fallback[unreliable] if fallback is not None else void
        origin[:, unreliable] = np.nan
        self.mask, self.origin = mask, origin
        return PropagationResult(mask, unreliable)


class _Flow:
    """The backward flow of one step, as the point of the previous frame each pixel of the
    next frame comes from."""

    def __init__(self, backward: np.ndarray):
        self.backward = backward
        rows, cols = np.indices(backward.shape[:2], dtype=np.float32)
        self.x, self.y = cols + backward[..., 0], rows + backward[..., 1]

    def sample(self, image: np.ndarray, interpolation: int) -> np.ndarray:
        """`image` (of the previous frame) read at each pixel's source (outside the frame: at
        the nearest edge pixel)."""
        return cv2.remap(image, self.x, self.y, interpolation, borderMode=cv2.BORDER_REPLICATE)

    def untrusted(self, forward: np.ndarray, previous_mask: np.ndarray,
                  previous_image: np.ndarray, next_image: np.ndarray, next_grey: np.ndarray,
                  settings: FlowSettings) -> np.ndarray:
        """Where the flow is not to be trusted (HxW bool): see the module's docstring."""
        height, width = previous_mask.shape
        slack = _EDGE_SLACK + 0.5  # beyond the edge pixels' own half pixel
        unreliable = ((self.x < -slack) | (self.x > width - 1 + slack)
                      | (self.y < -slack) | (self.y > height - 1 + slack))
        back_x, back_y = self.backward[..., 0], self.backward[..., 1]
        forward_there = cv2.remap(forward, self.x, self.y, cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)
        mismatch = np.hypot(back_x + forward_there[..., 0], back_y + forward_there[..., 1])
        limit = settings.max_mismatch + settings.relative_mismatch * np.hypot(back_x, back_y)
        # A mismatch counts where the frame has texture (on a blank wall or sky either flow is
        # a guess and their disagreement says nothing) and where the error could reach another
        # label: within `mismatch` pixels of a label edge of the previous mask.
        near_edge = self.sample(_edge_distance(previous_mask), cv2.INTER_NEAREST) <= mismatch + 1
        unreliable |= (mismatch > limit) & near_edge & _textured(next_grey)
        if settings.max_colour_change is not None:
            before, after = (cv2.GaussianBlur(image, (0, 0), 1.0).astype(np.float32)
                             for image in (previous_image, next_image))
            change = np.abs(self.sample(before, cv2.INTER_LINEAR) - after)
            if change.ndim == 3:
                change = np.maximum(np.maximum(change[..., 0], change[..., 1]), change[..., 2])
            unreliable |= change > settings.max_colour_change
        return unreliable


def _textured(grey_image: np.ndarray) -> np.ndarray:
    """Where the image has texture: its local gradient (Sobel, slightly blurred, averaged over a
    few pixels) reaches `_FLAT_GRADIENT`."""
    smooth = cv2.GaussianBlur(grey_image, (0, 0), 1.0).astype(np.float32)
    gradient = cv2.magnitude(cv2.Sobel(smooth, cv2.CV_32F, 1, 0),
                             cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    return cv2.GaussianBlur(gradient, (0, 0), 2.0) >= _FLAT_GRADIENT


def _edge_distance(mask: np.ndarray) -> np.ndarray:
    """Each pixel's distance (pixels, float32) to the nearest pixel next to another label."""
    kernel = np.ones((3, 3), np.uint8)
    inner = cv2.erode(mask, kernel) == cv2.dilate(mask, kernel)
    return cv2.distanceTransform(inner.astype(np.uint8), cv2.DIST_L2, 3)


def _label_map(mask: np.ndarray, shape: tuple[int, int], what: str) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"{what} is {mask.shape}, the frame is {shape}")
    if mask.dtype != np.uint8:
        raise ValueError(f"{what} must be uint8 labels, got {mask.dtype}")
    return np.ascontiguousarray(mask)


#: (frame index, that frame's RGB image) -> the model's labels for it, or None for void.
Fallback = Callable[[int, np.ndarray], "np.ndarray | None"]


def propagate_sequence(frames: Sequence[np.ndarray], start_index: int, mask: np.ndarray,
                       steps: int, *, void_index: int, direction: int = 1,
                       fallback: Fallback | None = None, cancel: CancelToken | None = None,
                       progress: Callable[[int, int], None] | None = None,
                       settings: FlowSettings = FlowSettings()) -> Iterator[PropagatedFrame]:
    """Carry `mask` (the labels of `frames[start_index]`) `steps` frames forward
    (`direction=+1`) or back (`-1`), each step from the previous step's result.

    `frames` needs only `len()` and indexing (a list, or a lazy reader of a video or image
    folder); frames are read one at a time. Yields one `PropagatedFrame` per frame, as soon as it
    is done (stopping early at either end of the sequence), so a worker thread can hand each one
    over as its own undo step. `fallback(index, image)` gives the model's labels for a frame
    (or None); `cancel` is checked before every step; `progress(done, total)` after each.
    """
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction}")
    count = len(frames)
    if not 0 <= start_index < count:
        raise IndexError(f"start frame {start_index} is outside 0..{count - 1}")
    last = min(max(start_index + direction * max(0, int(steps)), 0), count - 1)
    total = abs(last - start_index)
    estimator = FlowEstimator(settings)
    previous_image = np.asarray(frames[start_index])
    # A copy: the caller may edit its mask while this runs on another thread.
    track = _Track.start(np.array(mask, copy=True), grey(previous_image).shape)
    for done, index in enumerate(range(start_index + direction, last + direction, direction), 1):
        if cancel is not None and cancel.cancelled:
            return
        image = np.asarray(frames[index])
        filler = fallback(index, image) if fallback is not None else None
        result = track.advance(previous_image, image, void_index, filler, estimator)
        if progress is not None:
            progress(done, total)
        yield PropagatedFrame(index, result.mask.copy(), result.unreliable_share,
                              result.unreliable)
        previous_image = image
