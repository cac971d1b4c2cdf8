"""Per-image formats: index PNG, colour PNG, one binary mask per class, overlay images, and a
segmented video (the overlays as mp4)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from segnet_core.atomic import temporary_beside
from segnet_core.errors import ExportError
from segnet_core.io.masks import write_color_mask, write_index_mask
from segnet_core.masks.render import encode_png, overlay_image

from .items import ExportItem
from .output import Exporter, disk_errors

#: Frame rate of a segmented video when neither the option nor the source video gives one.
DEFAULT_VIDEO_FPS = 10.0
#: The codec of segmented videos (MPEG-4 part 2, in an mp4 container; OpenCV ships it).
VIDEO_FOURCC = "mp4v"


def class_file_names(names: tuple[str, ...] | list[str]) -> list[str]:
    """A file stem per class name: characters other than letters, digits, space, '-', '_'
    and '.' become '_'; a name left empty or taken (ignoring case) gets its index appended."""
    stems: list[str] = []
    used: set[str] = set()
    for index, name in enumerate(names):
        stem = re.sub(r"[^\w\-. ]+", "_", name).strip(" .") or f"class_{index}"
        if stem.casefold() in used:
            stem = f"{stem}_{index}"
        used.add(stem.casefold())
        stems.append(stem)
    return stems


class IndexExporter(Exporter):
    """`<stem>.png`: palette PNG, pixel values the class indices (void at the void index)."""

    format = "index"

    def add(self, item, mask, image, split):
        self.out.write_with(f"{item.name}.png",
                            lambda path: write_index_mask(path, mask, self.label_set), item)


class ColorExporter(Exporter):
    """`<stem>.png`: RGB in the label set's colours (void in the void colour)."""

    format = "color"

    def add(self, item, mask, image, split):
        self.out.write_with(f"{item.name}.png",
                            lambda path: write_color_mask(path, mask, self.label_set), item)


class PerClassExporter(Exporter):
    """`<stem>/<class>.png` for every class: 8-bit grey, 255 on the class, 0 elsewhere (void
    is 0 in every class's mask)."""

    format = "per-class"

    def __init__(self, out, label_set, options):
        super().__init__(out, label_set, options)
        self.stems = class_file_names(label_set.names)

    def add(self, item, mask, image, split):
        for index, stem in enumerate(self.stems):
            binary = np.where(mask == index, np.uint8(255), np.uint8(0))
            self.out.write_bytes(f"{item.name}/{stem}.png", encode_png(binary), item,
                                 class_index=index, class_name=self.label_set.names[index])


class OverlayExporter(Exporter):
    """`<stem>.png`: the image blended with the mask's colours (`alpha` = colour weight)."""

    format = "overlay"
    needs_image = True

    def add(self, item, mask, image, split):
        picture = overlay_image(image, mask, self.label_set, self.options.alpha)
        self.out.write_bytes(f"{item.name}.png", encode_png(picture), item)


@dataclass
class _Clip:
    name: str  # final file name
    tmp: Path
    writer: cv2.VideoWriter
    size: tuple[int, int]  # (height, width) of the first frame: later frames are resized
    fps: float
    source: Path | None
    frames: int = 0
    corrected: int = 0
    propagated: int = 0  # propagated labels not accepted yet


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad an odd height or width by one replicated row or column: mp4v crops odd sizes."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return cv2.copyMakeBorder(frame, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)


def _fit(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`picture` scaled to fit inside `size` (height, width) whole, its shape kept, centred
    on black: a portrait among landscape stills is not squashed (a probe)."""
    height, width = size
    h, w = picture.shape[:2]
    scale = min(height / h, width / w)
    new_h, new_w = max(1, min(height, round(h * scale))), max(1, min(width, round(w * scale)))
    scaled = cv2.resize(picture, (new_w, new_h), interpolation=cv2.INTER_AREA
                        if scale < 1 else cv2.INTER_LINEAR)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    return cv2.copyMakeBorder(scaled, top, height - new_h - top, left, width - new_w - left,
                              cv2.BORDER_CONSTANT, value=(0, 0, 0))


class VideoExporter(Exporter):
    """One mp4 (`mp4v`) of overlays per source: `<video stem>.mp4` for the frames of a video,
    `images.mp4` for still images, frames in item order. Each is encoded to a hidden
    temporary file beside its final name and renamed when complete. Frames whose size differs
    from the clip's first frame are scaled to fit inside it whole, on black (`_fit`); an odd
    height or width is padded by one pixel. The frame rate is the `fps` option, else the source video's, else 10."""

    format = "video"
    needs_image = True

    def __init__(self, out, label_set, options):
        super().__init__(out, label_set, options)
        self.clips: dict[str, _Clip] = {}
        self.names: set[str] = set()

    def _clip_for(self, item: ExportItem, frame: np.ndarray) -> _Clip:
        key = str(item.source) if item.frame is not None else ""
        clip = self.clips.get(key)
        if clip is not None:
            return clip
        stem = item.source.stem if item.frame is not None and item.source else "images"
        name, n = f"{stem}.mp4", 2
        while name.casefold() in self.names:
            name, n = f"{stem}_{n}.mp4", n + 1
        self.names.add(name.casefold())
        final = self.out.path(name)
        fps = float(self.options.fps or item.fps or DEFAULT_VIDEO_FPS)
        height, width = _even(frame).shape[:2]
        with disk_errors(final):
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = temporary_beside(final, suffix=".tmp.mp4")
            os.close(fd)
        writer = cv2.VideoWriter(tmp_name, cv2.VideoWriter_fourcc(*VIDEO_FOURCC), fps,
                                 (width, height))
        if not writer.isOpened():
            writer.release()
            self.out.remove_quietly(Path(tmp_name))
            raise ExportError(final, f"OpenCV cannot encode {VIDEO_FOURCC} mp4 video here")
        clip = _Clip(name, Path(tmp_name), writer, frame.shape[:2], fps,
                     item.source if item.frame is not None else None)
        self.clips[key] = clip
        return clip

    def add(self, item, mask, image, split):
        picture = overlay_image(image, mask, self.label_set, self.options.alpha)
        clip = self._clip_for(item, picture)
        if picture.shape[:2] != clip.size:
            picture = _fit(picture, clip.size)
        clip.writer.write(cv2.cvtColor(_even(picture), cv2.COLOR_RGB2BGR))
        clip.frames += 1
        clip.corrected += bool(item.corrected)
        clip.propagated += bool(item.propagated)

    def finish(self):
        clips, self.clips = list(self.clips.values()), {}
        for index, clip in enumerate(clips):
            clip.writer.release()
            try:
                if clip.tmp.stat().st_size == 0:
                    raise ExportError(self.out.path(clip.name), "the video encoder wrote nothing")
                self.out.commit(clip.tmp, clip.name, None,
                                source=None if clip.source is None else str(clip.source),
                                frames=clip.frames, fps=clip.fps,
                                corrected_frames=clip.corrected,
                                propagated_frames=clip.propagated,
                                predicted_frames=clip.frames - clip.corrected - clip.propagated)
            except BaseException:
                self.out.remove_quietly(clip.tmp)
                for rest in clips[index + 1:]:
                    rest.writer.release()
                    self.out.remove_quietly(rest.tmp)
                raise

    def abort(self):
        for clip in self.clips.values():
            clip.writer.release()
            self.out.remove_quietly(clip.tmp)
        self.clips = {}
