"""The model of the project opened. A folder or video that was fine-tuned on keeps its models
in `labels/models/` (`segnet_core.finetune.ModelVersions`), one of them current: the one the
user chose to use ("Use this model"). When such a folder or video is opened into an empty
window whose model the user did not choose (the shipped model at start, or a project's model
followed before), its current version is loaded if it is a fine-tuned one, so a fine-tune
round's model outlives the session. A model the user chose (the Load model dialog, File >
Models, `--model`) stays, and so does the model of frames already open: opening a second
folder never swaps the model under the first. Started from the command line on such a
folder, the window loads that version at once (`start_model`), so no frame is segmented
twice.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from segnet_core.errors import SegNetError
from segnet_core.finetune import ModelVersions
from segnet_core.finetune.versions import ModelOrigin

from app.context import FeatureContext, MessageTime
from app.model_menu import versions_folder_of
from app.opening import OpeningController
from app.segmentation import SegmentationController
from app.startup import choose_model
from app.workers.inference import ModelInfo


class ProjectModel(QObject):
    def __init__(self, context: FeatureContext, opening: OpeningController,
                 segmentation: SegmentationController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.opening = opening
        self.segmentation = segmentation
        self._following: tuple[Path, str] | None = None  # the version being loaded, its name
        self._fell_back = ""  # why the shipped model is loading instead of a project's
        self._failed: set[Path] = set()  # versions that would not load: not tried again
        opening.framesOpened.connect(self._on_frames_opened)
        segmentation.modelReady.connect(self._on_model_ready)
        context.inference.modelFailed.connect(self._on_model_failed)

    def follow(self, path: Path, name: str) -> None:
        """Load a project's version, `name` saying whose (the window did, not the user)."""
        self._following = (Path(path), name)
        self.segmentation.load_model(path, by_user=False)

    def _on_frames_opened(self) -> None:
        if self.segmentation.model_chosen or not self.opening.opened_into_empty:
            return
        for opened in self.opening.last_opened:  # the first with a fine-tuned model of its own
            try:
                found = current_fine_tuned(opened)
            except SegNetError as error:  # a damaged index: say so, keep the model
                folder = versions_folder_of(opened)
                self.context.problems.add(ModelVersions(folder).index_path,
                                          f"{error}; the model stays")
                self.context.host.show_message(
                    f"The fine-tuned models of {project_name(folder)} cannot be read "
                    "(View > Problems); the model stays", MessageTime.LONG)
                continue
            if found is not None:
                break
        else:
            return
        path, name = found
        if path in self._failed or self.segmentation.requested_model == path:
            return  # in use or on its way already (the window started on it: `start_model`)
        self.follow(path, name)

    def _on_model_ready(self, info: ModelInfo) -> None:
        if self._fell_back:
            why, self._fell_back = self._fell_back, ""
            self.context.host.show_message(f"Segmenting with the shipped model {info.name}: "
                                           f"{why} (View > Problems)", MessageTime.LONG)
            return
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
        if self.segmentation.model_info is not None or self.segmentation.requested_model:
            self.context.host.show_message(f"{name} could not be loaded ({message}); the model "
                                           f"stays", MessageTime.LONG)
            return
        # the window started on it (`start_model`) and has no model: the shipped one, then
        fallback, _why = choose_model(None)
        self.context.host.show_message(f"{name} could not be loaded: {message}",
                                       MessageTime.LONG)
        if fallback is not None:
            self._fell_back = f"{name} could not be loaded"
            self.segmentation.load_model(fallback, by_user=False)


def project_name(versions_folder: Path) -> str:
    """The name of the folder or video whose models `versions_folder` holds."""
    return versions_folder.parent.parent.name


def current_fine_tuned(opened: Path) -> tuple[Path, str] | None:
    """The current version of the project of an opened folder or file and what to call it
    ("street's fine-tuned model v004"), when that version is a fine-tuned one (None when
    never fine-tuned, or current is still the model the first fine-tune started from);
    SegNetError for an unreadable index. Reads one small file."""
    folder = versions_folder_of(opened)
    versions = ModelVersions(folder)
    if not versions.index_path.is_file():
        return None  # never fine-tuned on
    current = versions.current
    # the first fine-tune keeps the model it started from as v001, made current: the model
    # in use then, not one the user chose there
    if current is None or current.recipe.get("kind") != ModelOrigin.FINE_TUNE.value:
        return None
    return current.path, f"{project_name(folder)}'s fine-tuned model {current.id}"


def start_model(paths: list[str]) -> tuple[Path, str] | None:
    """For a window started on `paths` without a model named: the current fine-tuned version
    of the first of them that has one, so the frames are segmented with it from the start
    (not with the shipped model first). An unreadable index is left to `ProjectModel` to
    report once the frames are open."""
    for opened in paths:
        try:
            found = current_fine_tuned(Path(opened))
        except (SegNetError, OSError):
            continue
        if found is not None:
            return found
    return None
