"""Video clips with known truth: a camera panning and zooming over one labelled scene.

Frame t of a clip is a crop of the scene, centred at `centre + t * velocity` (scene pixels) and
magnified `zoom * (1 + zoom_rate) ** t` times; its truth is the same crop of the scene's labels
(nearest neighbour, void outside the scene). Used by the propagation tests and benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CAMVID = Path("/work/shared/data/camvid")
CAMVID_VOID = 11


@dataclass(frozen=True)
class CameraPath:
    centre: tuple[float, float]          # (y, x) in scene pixels at frame 0
    velocity: tuple[float, float] = (0.0, 0.0)  # scene pixels per frame
    zoom: float = 1.0                     # output pixels per scene pixel at frame 0
    zoom_rate: float = 0.0                # relative zoom change per frame


def crop_clip(image: np.ndarray, labels: np.ndarray, path: CameraPath, count: int,
              size: tuple[int, int], void_index: int) -> tuple[list, list]:
    """`count` RGB frames of `size` (height, width) and their label maps, along `path`."""
    height, width = size
    frames, truths = [], []
    for t in range(count):
        zoom = path.zoom * (1.0 + path.zoom_rate) ** t
        cy = path.centre[0] + t * path.velocity[0]
        cx = path.centre[1] + t * path.velocity[1]
        # output (x, y) -> scene (cx + (x - (w-1)/2) / zoom, cy + (y - (h-1)/2) / zoom)
        matrix = np.array([[1 / zoom, 0, cx - (width - 1) / 2 / zoom],
                           [0, 1 / zoom, cy - (height - 1) / 2 / zoom]], np.float64)
        flags = cv2.WARP_INVERSE_MAP
        frames.append(cv2.warpAffine(image, matrix, (width, height), flags=flags | cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REFLECT))
        truths.append(cv2.warpAffine(labels, matrix, (width, height),
                                     flags=flags | cv2.INTER_NEAREST,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=void_index))
    return frames, truths


def textured_scene(height: int = 360, width: int = 480, seed: int = 0,
                   classes: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """An RGB scene of ellipses and boxes, each class with its own colour and texture grain,
    and its label map (values 0..classes-1, no void)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((height, width), np.uint8)
    for _ in range(14):
        value = int(rng.integers(1, classes))
        cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
        ry, rx = int(rng.integers(15, height // 4)), int(rng.integers(15, width // 4))
        if rng.random() < 0.5:
            cv2.ellipse(labels, (cx, cy), (rx, ry), float(rng.uniform(0, 180)), 0, 360, value, -1)
        else:
            cv2.rectangle(labels, (cx - rx, cy - ry), (cx + rx, cy + ry), value, -1)
    image = np.zeros((height, width, 3), np.float32)
    for value in range(classes):
        grain = 0.8 + 0.6 * value
        noise = cv2.GaussianBlur(rng.normal(0, 1, (height, width, 3)).astype(np.float32),
                                 (0, 0), grain)
        noise *= 45 / max(float(noise.std()), 1e-6)
        colour = rng.uniform(50, 205, 3).astype(np.float32)
        image[labels == value] = (colour + noise)[labels == value]
    return np.clip(image, 0, 255).astype(np.uint8), labels


def camvid_scenes(count: int, split: str = "train") -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Up to `count` (RGB image, annotation, name) from the CamVid folder, spread over the
    split; an empty list when the data set is not there."""
    images = sorted((CAMVID / split).glob("*.png"))
    if not images:
        return []
    picks = [images[round(i * (len(images) - 1) / max(1, count - 1))] for i in range(count)]
    scenes = []
    for path in dict.fromkeys(picks):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        labels = cv2.imread(str(CAMVID / f"{split}annot" / path.name), cv2.IMREAD_UNCHANGED)
        if bgr is not None and labels is not None:
            scenes.append((cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), labels, path.stem))
    return scenes


def pixel_accuracy(mask: np.ndarray, truth: np.ndarray, void_index: int) -> float:
    """Share of the truth's labelled (non-void) pixels the mask gets right; a void guess is
    wrong."""
    labelled = truth != void_index
    return float((mask[labelled] == truth[labelled]).mean()) if labelled.any() else 1.0


def sliding_object_clip(count: int, size: tuple[int, int] = (120, 160), step: int = 4,
                        radius: int = 22, seed: int = 0,
                        camouflaged: bool = False) -> tuple[list, list]:
    """A textured disc (label 6) sliding `step` pixels a frame to the right over a still
    `textured_scene` (labels 0..5): the disc covers and uncovers the background. A yellow disc,
    or a `camouflaged` one cut from elsewhere in the scene (the same colours)."""
    height, width = size
    background, labels = textured_scene(height, width, seed)
    if camouflaged:
        texture = np.roll(background, (37, 11), axis=(0, 1))
    else:
        rng = np.random.default_rng(seed + 1)
        noise = rng.normal(0, 1, (height, width, 3)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 1.2)
        texture = np.clip(noise * 50 / float(noise.std()) + (230, 220, 40), 0, 255)
    rows, cols = np.indices(size)
    frames, truths = [], []
    for t in range(count):
        cy, cx = height // 2, radius + 4 + t * step
        disc = (rows - cy) ** 2 + (cols - cx) ** 2 <= radius ** 2
        moved = np.roll(texture, t * step, axis=1)  # the disc's texture moves with it
        frames.append(np.where(disc[..., None], moved, background).astype(np.uint8))
        truths.append(np.where(disc, 6, labels).astype(np.uint8))
    return frames, truths
