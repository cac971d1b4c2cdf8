"""What an export is made of: one `ExportItem` per image or video frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, Union

import numpy as np

from segnet_core.errors import DataError, SegNetError
from segnet_core.labels import LabelSet
from segnet_core.io.images import folder_images, image_size, is_image_file, read_image

#: An item's image: a file, an RGB array, or a function giving the RGB array when called.
ImageSource = Union[str, Path, np.ndarray, Callable[[], np.ndarray], None]
#: An item's mask: an HxW uint8 array, or a function giving it when called.
MaskSource = Union[np.ndarray, Callable[[], np.ndarray]]

_BAD_NAME_CHARS = set('/\\\0')


@dataclass(eq=False)
class ExportItem:
    """One image (or video frame) and its mask.

    `name` is the stem of every file written for the item ("0001TP_006690",
    "clip_000042"), so each exported mask matches its image by name. `mask` and `image` may
    be given as arrays or as functions called when the export reaches the item, so a long
    video need not sit in memory. `corrected` says whether the mask is the user's corrected
    mask (True) or not (False): a model prediction, or labels `propagated` from a corrected
    frame that the user has not accepted yet. `source` is the image or video file the item
    came from and `frame` its frame index (None for a still image); both go into the
    manifest. `fps` is the source video's frame rate, used by the video format.
    `scorable` False: a correction whose labels are partly a model's own (`may_score`);
    `carried_from`: the items its labels were carried from by a propagation.
    """

    name: str
    mask: MaskSource
    corrected: bool = True
    image: ImageSource = None
    source: Path | None = None
    frame: int | None = None
    fps: float | None = None
    propagated: bool = False  # propagated labels not accepted yet: never `corrected`
    #: whether the mask may score a model: False for a correction whose labels are partly a
    #: model's own (carried by a propagation, or a prediction saved as it is); a split puts
    #: only items that may in val and test (predictions and propagated ones never may)
    scorable: bool = True
    #: the names (stems) of the items whose labels were carried to this one by a propagation
    #: (`propagated_from.txt`): a split keeps them in one block; the manifest notes them
    carried_from: tuple[str, ...] = ()
    #: the image's (height, width) when known without decoding it (a file's header, a
    #: video's frame size), or a function giving it or None: formats that write the mask
    #: alone check the mask against it (a probe exported a mask of another size as corrected)
    size: tuple[int, int] | Callable[[], tuple[int, int] | None] | None = None
    _image: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def may_score(self) -> bool:
        return bool(self.corrected) and self.scorable

    def __post_init__(self) -> None:
        if self.propagated:
            self.corrected = False
        if self.source is None and isinstance(self.image, (str, Path)):
            self.source = Path(self.image)
        elif self.source is not None:
            self.source = Path(self.source)

    # where errors about the item point
    @property
    def where(self) -> Path:
        return self.source if self.source is not None else Path(self.name)

    def problem_file(self, error: SegNetError) -> Path:
        """The file an error about this item is about: the one the error names (its mask
        file, when that cannot be read), else the item's source."""
        return error.path if error.path is not None else self.where

    def problem_at(self, error: SegNetError) -> str:
        """`problem_file` for a message: with the item's frame when it is the source and the
        reason does not begin with it already (a probe saw "clip.avi frame 0: frame 0: ")."""
        where = self.problem_file(error)
        said = getattr(error, "reason", str(error)).startswith(f"frame {self.frame}:")
        return f"{where} frame {self.frame}" if where == self.where and self.frame is not None \
            and not said else str(where)

    def _reason(self, text: str) -> str:
        return f"frame {self.frame}: {text}" if self.frame is not None else text

    def load_mask(self, label_set: LabelSet) -> np.ndarray:
        """The mask as an HxW uint8 array, checked against `label_set` (DataError if not)."""
        mask = self.mask() if callable(self.mask) else self.mask
        if (not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype != np.uint8
                or mask.size == 0):
            shape = getattr(mask, "shape", None)
            dtype = getattr(mask, "dtype", type(mask).__name__)
            raise DataError(self.where, self._reason(
                f"mask of {self.name!r} must be a non-empty HxW uint8 array, got {shape} {dtype}"))
        try:
            label_set.check_mask(mask, self.where)
        except DataError as error:
            raise DataError(self.where, self._reason(error.reason)) from None
        return mask

    def load_image(self) -> np.ndarray:
        """The image as HxWx3 uint8 RGB, read once and kept until `release`."""
        if self._image is not None:
            return self._image
        source = self.image
        if source is None:
            raise SegNetError(f"{self.name}: no image given, and the chosen formats need one")
        if isinstance(source, (str, Path)):
            image = read_image(source)
        else:
            image = source() if callable(source) else source
        if (not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3
                or image.dtype != np.uint8 or image.size == 0):
            raise DataError(self.where, self._reason(
                f"image of {self.name!r} must be HxWx3 uint8 RGB, got "
                f"{getattr(image, 'shape', None)} {getattr(image, 'dtype', type(image).__name__)}"))
        self._image = image
        return image

    def known_size(self) -> tuple[int, int] | None:
        """The image's (height, width): of the image read already, else `size`."""
        if self._image is not None:
            return self._image.shape[:2]
        return self.size() if callable(self.size) else self.size

    def release(self) -> None:
        """Forget the image read by `load_image`."""
        self._image = None


class SourceSizes:
    """The (height, width) of image and video files' pictures, read once a file from an
    image's header or a video's first frame; None where that cannot tell (the item's own
    reading then says why, if its image cannot be read)."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[int, int] | None] = {}

    def of(self, path: str | Path) -> tuple[int, int] | None:
        path = Path(path)
        if path not in self._known:
            self._known[path] = image_size(path) if is_image_file(path) else _video_size(path)
        return self._known[path]


def _video_size(path: Path) -> tuple[int, int] | None:
    from segnet_core.io.video import VideoFrames

    try:
        with VideoFrames(path) as video:
            return video.size
    except SegNetError:
        return None


def check_name(name: object) -> str:
    """`name` when it can be a file stem; SegNetError saying why not."""
    if not isinstance(name, str) or not name:
        raise SegNetError(f"an export item's name must be a non-empty string, got {name!r}")
    if name in (".", "..") or name.startswith(".") or any(c in _BAD_NAME_CHARS for c in name):
        raise SegNetError(f"export item name {name!r} cannot be a file stem (no leading dot, "
                          "no slashes)")
    if any(ord(c) < 32 for c in name):
        raise SegNetError(f"export item name {name!r} holds control characters")
    return name


def split_keys(items: Sequence[ExportItem]) -> list[tuple[str, int]]:
    """Each item's (sequence, position) for splitting in blocks of neighbouring frames: a
    video's frames by frame index; a still image by its place among its folder's images in
    name order (`folder_images`, listed once a folder), so two corrected frames far apart in
    a folder are not neighbours because the frames between them are not exported; an item
    without a source, or whose folder cannot be listed, is a sequence of its own."""
    places: dict[Path, dict[str, int] | None] = {}
    keys = []
    for item in items:
        if item.frame is not None:
            keys.append((str(item.where), int(item.frame)))
            continue
        if item.source is None:
            keys.append((f"\0{item.name}", 0))
            continue
        folder = item.source.parent
        if folder not in places:
            try:
                places[folder] = {path.name: i for i, path in enumerate(folder_images(folder))}
            except OSError:
                places[folder] = None
        place = (places[folder] or {}).get(item.source.name)
        keys.append((f"\0{item.source}", 0) if place is None else (str(folder), place))
    return keys


def carried_links(items: Sequence[ExportItem]) -> list[tuple[int, int]]:
    """(item, item its labels were carried from) index pairs, for the items whose
    `carried_from` names one exported too."""
    where = {item.name: i for i, item in enumerate(items) if isinstance(item, ExportItem)}
    return [(i, where[source]) for i, item in enumerate(items) if isinstance(item, ExportItem)
            for source in item.carried_from if source in where]
