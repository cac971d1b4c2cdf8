"""The model of the project opened. A folder or video that was fine-tuned on keeps its models
in `labels/models/` (`segnet_core.finetune.ModelVersions`), one of them current: the one the
user chose to use ("Use this model"). When such a folder or video is opened in a window
whose model the user did not choose (the shipped model at start, or a project's model
followed before), its current version is loaded, so a fine-tune round's model outlives the
session. A model the user chose (the Load model dialog, File > Models, `--model`) stays.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from segnet_core.errors import SegNetError
from segnet_core.finetune import ModelVersions

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
        opening.framesOpened.connect(self._on_frames_opened)
        segmentation.modelReady.connect(self._on_model_ready)

    def _on_frames_opened(self) -> None:
        if self.segmentation.model_chosen or not self.opening.last_opened:
            return
        folder = versions_folder_of(self.opening.last_opened[0])
        versions = ModelVersions(folder)
        if not versions.index_path.is_file():
            return  # never fine-tuned on (reading one small file is all this thread does)
        try:
            current = versions.current
        except SegNetError as error:  # a damaged index: say so, keep the model
            self.context.problems.add(versions.index_path, f"{error}; the model stays")
            return
        info = self.segmentation.model_info
        if current is None or (info is not None and Path(info.path) == current.path):
            return
        place = folder.parent.parent.name
        self._following = (current.path, f"{place}'s model {current.id}")
        self.segmentation.load_model(current.path, by_user=False)

    def _on_model_ready(self, info: ModelInfo) -> None:
        if self._following is None or Path(info.path) != self._following[0]:
            return
        name = self._following[1]
        self._following = None
        self.context.host.show_message(
            f"Segmenting with {name}, the version chosen there last (File > Models to change): "
            f"{info.device}, {info.precision}", MessageTime.LONG)
