"""What the labels folders beside some frames say of them, for `ranking`: whether a frame has
a usable saved mask, and whether one of the folder's lists (flagged, propagated, ...) names
it. Each folder, list and mask is read once."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from segnet_core.errors import DataError, SegNetError
from segnet_core.io.inputs import ErrorHandler
from segnet_core.io.masks import open_mask_image
from segnet_core.labels import LabelSet
from segnet_core.masks.labels_folder import (PROPAGATED_FROM, LabelsFolder, NameList,
                                             carried_names, frame_name, mask_name)


class SavedMasks:
    """Whether a frame has a mask in the labels folder beside it, and whether a list there
    names it (`NameList`: the user flagged it, its labels were propagated and not accepted
    yet, or they were saved as a model's prediction); a list that cannot be read counts as
    naming no frame, and `warn(text)`, when given, is told.

    A mask that cannot be used is no mask: one that cannot be decoded, and with `label_set`
    one whose values are no class of it, or (given the frame's size) of another size than
    its frame, as every other reader of masks refuses it (a probe saw `rank` call such
    frames corrected). `on_error(path, error)` hears of each once (`warn` without it)."""

    def __init__(self, warn: Callable[[str], None] | None = None,
                 on_error: ErrorHandler | None = None,
                 label_set: LabelSet | None = None) -> None:
        self._on_error = on_error
        self._label_set = label_set
        #: by mask file and frame size: why it cannot be used ("": it can)
        self._unusable: dict[tuple[Path, tuple[int, int] | None], str] = {}
        #: by mask file, once read: its shape (None: not known) and why it cannot be used
        self._read: dict[Path, tuple[tuple[int, int] | None, str]] = {}
        self._names: dict[Path, set[str]] = {}
        self._lists: dict[tuple[Path, NameList], set[str]] = {}
        self._carried: dict[Path, set[str]] = {}  # by folder: the masks carried to
        self._warn = warn

    def is_listed(self, kind: NameList, source: Path, frame: int | None) -> bool:
        return mask_name(source, frame) in self._list(kind, source)

    def is_carried(self, source: Path, frame: int | None) -> bool:
        """Whether labels were carried to the frame by a propagation (`links.carried_names`
        of `propagated_from.txt`), accepted since or not."""
        key = LabelsFolder.beside(source).root
        if key not in self._carried:
            self._carried[key] = carried_names(self._list(PROPAGATED_FROM, source))
        return mask_name(source, frame) in self._carried[key]

    def _list(self, kind: NameList, source: Path) -> set[str]:
        folder = LabelsFolder.beside(source)
        names = self._lists.get((folder.root, kind))
        if names is None:
            try:
                names = folder.read_names(kind)
            except SegNetError as error:
                if self._warn is not None:
                    self._warn(f"{error}; ranked as if it named no frame")
                names = set()
            self._lists[folder.root, kind] = names
        return names

    def has_mask(self, source: Path, frame: int | None,
                 size: tuple[int, int] | None = None) -> bool:
        """Whether the frame has a usable mask; `size`: the frame's (height, width)."""
        folder = LabelsFolder.beside(source)
        names = self._names.get(folder.root)
        if names is None:
            names = self._names[folder.root] = set(folder.mask_names())
        name = mask_name(source, frame)
        if name not in names:
            return False
        path = folder.mask_path(name)
        key = (path, None if size is None else tuple(size))
        if key not in self._unusable:
            self._unusable[key] = why = self._why_unusable(path, key[1])
            if why:
                error = DataError(path, f"{why}; {frame_name(source, frame)} is ranked as "
                                        "not corrected")
                if self._on_error is not None:
                    self._on_error(path, error)
                elif self._warn is not None:
                    self._warn(str(error))
        return not self._unusable[key]

    def _why_unusable(self, path: Path, size: tuple[int, int] | None) -> str:
        if path not in self._read:
            try:
                if self._label_set is None:
                    open_mask_image(path).close()  # decodes: no more is asked
                    self._read[path] = (None, "")
                else:
                    mask = LabelsFolder(path.parent).read(path.name, self._label_set)
                    self._read[path] = (None if mask is None else mask.shape, "")
            except DataError as error:
                self._read[path] = (None, error.reason)
        shape, why = self._read[path]
        if not why and size is not None and shape is not None and shape != size:
            why = (f"mask is {shape[0]}x{shape[1]} (height x width) but its frame is "
                   f"{size[0]}x{size[1]}")
        return why
