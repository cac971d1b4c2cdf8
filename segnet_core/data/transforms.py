"""Transforms of (image, mask) pairs for training and evaluation.

Images are HxWx3 uint8 RGB and masks HxW uint8 class indices. Masks are only ever resized
by nearest neighbour, padded with the void index, cropped and flipped, so a transform never
produces a label value that was not in its input (other than void where it pads).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

Size = tuple[int, int]

# ITU-R BT.601 luma weights for RGB, used by the contrast and saturation jitter.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _check_size(size: Size, what: str = "size") -> Size:
    try:
        h, w = size
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be (height, width), got {size!r}") from None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (h, w)):
        raise ValueError(f"{what} must be two integers, got {size!r}")
    if h < 1 or w < 1:
        raise ValueError(f"{what} must be positive, got {size!r}")
    return int(h), int(w)


def _check_pair(image: np.ndarray, mask: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be HxWx3 uint8, got {image.shape} {image.dtype}")
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"mask must be HxW uint8, got {mask.shape} {mask.dtype}")
    if mask.shape != image.shape[:2]:
        raise ValueError(f"mask size {mask.shape} differs from image size {image.shape[:2]}")


def resize_pair(image: np.ndarray, mask: np.ndarray, size: Size) -> tuple[np.ndarray, np.ndarray]:
    """Resize image and mask to `size` = (height, width).

    The image uses area interpolation when shrinking in both directions, bilinear otherwise;
    the mask uses nearest neighbour (pixel-centre exact), so labels are never mixed. Arrays
    already of that size are returned as they are.
    """
    _check_pair(image, mask)
    th, tw = _check_size(size)
    h, w = mask.shape
    if (h, w) == (th, tw):
        return image, mask
    shrinking = th <= h and tw <= w
    image_out = cv2.resize(
        image, (tw, th), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    )
    mask_out = cv2.resize(mask, (tw, th), interpolation=cv2.INTER_NEAREST_EXACT)
    return image_out, mask_out


@dataclass
class TrainTransform:
    """Random scale, crop, flip and colour jitter for training; output is exactly `size`.

    The scale factor is drawn from `scale_range` relative to the scale at which the image
    just covers `size` (None: always that scale). Where the scaled image is smaller than
    `size` it is padded at a random place, the image with 0 and the mask with `void_index`.
    A random `size` window is cut out, flipped left-right (image and mask together) with
    probability 1/2 when `flip`, and the image alone gets brightness, contrast and saturation
    factors drawn from [1 - jitter, 1 + jitter] (0 disables). The same generator state gives
    the same output; each call draws the same count of numbers whatever the inputs.

    `base_size` (None: `size`) is the size the scale is relative to: with `base_size` the
    model's input size and `size` a smaller crop, the network learns at the scale it runs at
    while each step costs what a `size` image does.

    `low_light` (0 disables) is the probability that the image is also made to look filmed in
    poor light (`_low_light`): darker shadows (gamma 1..2.2), a cooler colour (red down to 0.8,
    blue up to 1.1) and softer detail (Gaussian blur, sigma 0..0.8 pixels). With 0 the draws
    are those of a transform without it, so older recipes give the same batches.
    """

    size: Size
    scale_range: tuple[float, float] | None = (0.75, 1.5)
    flip: bool = True
    jitter: float = 0.2
    low_light: float = 0.0
    void_index: int = field(kw_only=True)
    base_size: Size | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        self.size = _check_size(self.size)
        self.base_size = self.size if self.base_size is None else _check_size(self.base_size)
        if self.scale_range is not None:
            lo, hi = (float(v) for v in self.scale_range)
            if not 0 < lo <= hi:
                raise ValueError(f"scale_range must be (low, high) with 0 < low <= high, got {self.scale_range!r}")
            self.scale_range = (lo, hi)
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter!r}")
        if not 0 <= self.low_light <= 1:
            raise ValueError(f"low_light must be in [0, 1], got {self.low_light!r}")
        if not 0 <= int(self.void_index) <= 255:
            raise ValueError(f"void_index must be in 0..255, got {self.void_index!r}")

    def __call__(
        self, image: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Transform one pair; returns (image, mask) of exactly `size`."""
        _check_pair(image, mask)
        th, tw = self.size
        u = rng.random(9)  # scale, pad y/x, crop y/x, flip, brightness, contrast, saturation

        h, w = mask.shape
        bh, bw = self.base_size
        scale = max(bh / h, bw / w)
        if self.scale_range is not None:
            lo, hi = self.scale_range
            scale *= lo + (hi - lo) * u[0]
        image, mask = resize_pair(image, mask, (max(1, round(h * scale)), max(1, round(w * scale))))

        h, w = mask.shape
        pad_h, pad_w = max(th - h, 0), max(tw - w, 0)
        if pad_h or pad_w:
            top = min(int(u[1] * (pad_h + 1)), pad_h)
            left = min(int(u[2] * (pad_w + 1)), pad_w)
            padded_image = np.zeros((h + pad_h, w + pad_w, 3), dtype=np.uint8)
            padded_mask = np.full((h + pad_h, w + pad_w), self.void_index, dtype=np.uint8)
            padded_image[top : top + h, left : left + w] = image
            padded_mask[top : top + h, left : left + w] = mask
            image, mask = padded_image, padded_mask
            h, w = mask.shape

        y0 = min(int(u[3] * (h - th + 1)), h - th)
        x0 = min(int(u[4] * (w - tw + 1)), w - tw)
        image = image[y0 : y0 + th, x0 : x0 + tw]
        mask = mask[y0 : y0 + th, x0 : x0 + tw]

        if self.flip and u[5] < 0.5:
            image = image[:, ::-1]
            mask = mask[:, ::-1]

        if self.jitter > 0:
            image = _jitter(image, *(1.0 + self.jitter * (2.0 * u[6:9] - 1.0)))
        if self.low_light > 0:
            dim = rng.random(4)  # whether, gamma, colour, blur: always four draws
            if dim[0] < self.low_light:
                image = _low_light(image, 1.0 + 1.2 * dim[1], dim[2], 0.8 * dim[3])
        return np.ascontiguousarray(image), np.ascontiguousarray(mask)


def _jitter(image: np.ndarray, brightness: float, contrast: float, saturation: float) -> np.ndarray:
    """Scale brightness, then contrast about the mean grey, then saturation about each
    pixel's grey."""
    out = image.astype(np.float32) * np.float32(brightness)
    grey = out @ _LUMA
    mean = np.float32(grey.mean())
    out = (out - mean) * np.float32(contrast) + mean
    grey = (grey - mean) * np.float32(contrast) + mean
    out = grey[:, :, None] + (out - grey[:, :, None]) * np.float32(saturation)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _low_light(image: np.ndarray, gamma: float, cool: float, blur_sigma: float) -> np.ndarray:
    """The image as if filmed in poor light: each channel raised to `gamma` (>= 1: darker,
    shadows pressed together), colour cooled by `cool` in [0, 1] (red x 1 - 0.2 cool, blue x
    1 + 0.1 cool), then blurred with a Gaussian of `blur_sigma` pixels (none under 0.05)."""
    out = (image.astype(np.float32) / np.float32(255.0)) ** np.float32(gamma)
    out *= np.array([1.0 - 0.2 * cool, 1.0, 1.0 + 0.1 * cool], dtype=np.float32)
    if blur_sigma >= 0.05:
        out = cv2.GaussianBlur(out, (0, 0), blur_sigma)
    return np.clip(np.rint(out * np.float32(255.0)), 0, 255).astype(np.uint8)


@dataclass
class EvalTransform:
    """Resize the pair to `size` = (height, width) with `resize_pair`; identity when None.

    Takes (and ignores) an `rng` so that it can be called like `TrainTransform`.
    """

    size: Size | None = None

    def __post_init__(self) -> None:
        if self.size is not None:
            self.size = _check_size(self.size)

    def __call__(
        self, image: np.ndarray, mask: np.ndarray, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The pair resized to `size`, or unchanged."""
        if self.size is None:
            _check_pair(image, mask)
            return image, mask
        return resize_pair(image, mask, self.size)
