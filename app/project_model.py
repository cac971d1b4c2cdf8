"""The model of the project opened. A folder or video that was fine-tuned on keeps its models
in `labels/models/` (`segnet_core.finetune.ModelVersions`), one of them current: the one the
user chose to use ("Use this model"). When such a folder or video is opened into an empty
window whose model the user did not choose (the shipped model at start, or a project's model
followed before), its current version is loaded if it is a fine-tuned one, so a fine-tune
round's model outlives the session. A model the user chose (the Load model dialog, File >
Models, `--model`) stays, and so does the model of frames already open: opening a second
folder never swaps the model under the first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from segnet_core.errors import SegNetError
from segnet_core.finetune import ModelVersions
from segnet_core.finetune.versions import ModelOrigin, Version

from app.context import FeatureContext, MessageTime
from app.model_menu import versions_folder_of
from app.opening import OpeningController
from app.segmentation import SegmentationController
from app.workers.inference import ModelInfo


class ProjectModel(QObject):
    def __init__(self, context: FeatureContext, opening: OpeningController,
                 segmentation: SegmentationController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.opening = opening
        self.segmentation = segmentation
        self._following: tuple[Path, str] | None = None  # the version being loaded, its name
        self._failed: set[Path] = set()  # versions that would not load: not tried again
        opening.framesOpened.connect(self._on_frames_opened)
        segmentation.modelReady.connect(self._on_model_ready)
        context.inference.modelFailed.connect(self._on_model_failed)

    def _on_frames_opened(self) -> None:
        if self.segmentation.model_chosen or not self.opening.opened_into_empty:
            return
        for opened in self.opening.last_opened:  # the first with a fine-tuned model of its own
            found = self._current_version(opened)
            if found is not None:
                break
        else:
            return
        folder, version = found
        info = self.segmentation.model_info
        if (info is not None and Path(info.path) == version.path) or version.path in self._failed:
            return
        self._following = (version.path, f"{folder.parent.parent.name}'s fine-tuned model "
                                         f"{version.id}")
        self.segmentation.load_model(version.path, by_user=False)

    def _current_version(self, opened: Path) -> tuple[Path, Version] | None:
        """The fine-tuned version current in the project of an opened folder or file."""
        folder = versions_folder_of(opened)
        versions = ModelVersions(folder)
        if not versions.index_path.is_file():
            return None  # never fine-tuned on (reading one small file is all this thread does)
        try:
            current = versions.current
        except SegNetError as error:  # a damaged index: say so, keep the model
            self.context.problems.add(versions.index_path, f"{error}; the model stays")
            self.context.host.show_message(f"The fine-tuned models of {folder.parent.parent.name}"
                                           " cannot be read (View > Problems); the model stays",
                                           MessageTime.LONG)
            return None
        # the first fine-tune keeps the model it started from as v001, made current: the model
        # in use then, not one the user chose there
        if current is None or current.recipe.get("kind") != ModelOrigin.FINE_TUNE.value:
            return None
        return folder, current

    def _on_model_ready(self, info: ModelInfo) -> None:
        if self._following is None or Path(info.path) != self._following[0]:
            return
        name = self._following[1]
        self._following = None
        self.context.host.show_message(
            f"Segmenting with {name}, its current version (File > Models to change): "
            f"{info.device}, {info.precision}", MessageTime.LONG)

    def _on_model_failed(self, message: str) -> None:
        if self._following is None:
            return
        path, name = self._following
        self._following = None
        self._failed.add(path)
        self.context.host.show_message(f"{name} could not be loaded ({message}); the model "
                                       f"stays", MessageTime.LONG)
