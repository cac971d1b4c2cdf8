"""The model of the project opened. A folder or video that was fine-tuned on keeps its models
in `labels/models/` (`segnet_core.finetune.ModelVersions`), one of them current: the one the
user chose to use ("Use this model"; `segnet_core.finetune.current_fine_tuned`, which
`segnet-studio rank` follows too). When such a folder or video is opened into an empty
window whose model the user did not choose (the shipped model at start, or a project's model
followed before), its current version is loaded if it is a fine-tuned one, so a fine-tune
round's model outlives the session. A model the user chose (the Load model dialog, File >
Models, `--model`) stays, and so does the model of frames already open: opening a second
folder never swaps the model under the first. Started from the command line on such a
folder, the window loads that version at once (`app.main_window.run`), so no frame is
segmented twice.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from segnet_core.errors import SegNetError
from segnet_core.finetune import project_to_follow, versions_folder

from app.context import FeatureContext, MessageTime
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
        #: the shipped model loading in place of a project's version, and why
        self._fallback: tuple[Path, str] | None = None
        self._failed: set[Path] = set()  # versions that would not load: not tried again
        self._unreadable_note = ""  # an index that cannot be read, to say once a model is in
        self._passed_over = ""  # why a project's model was not followed, to say likewise
        opening.framesOpened.connect(self._on_frames_opened)
        segmentation.modelReady.connect(self._on_model_ready)
        segmentation.modelFailed.connect(self._on_model_failed)

    def follow(self, path: Path, name: str) -> None:
        """Load a project's version, `name` saying whose (the window did, not the user)."""
        self._following = (Path(path).resolve(), name)
        self.segmentation.load_model(path, by_user=False)

    def _on_frames_opened(self) -> None:
        if not self.opening.opened_into_empty:
            self._say_model_of_another_project()
        if self.segmentation.model_chosen or not self.opening.opened_into_empty:
            return
        found, passed_over = project_to_follow(self.opening.last_opened, self._unreadable)
        if passed_over:
            self.pass_over(passed_over)
        if found is None:
            return
        path = found.version.path
        if path in self._failed or self.segmentation.requested_model == path:
            return  # in use or on its way already (the window started on it)
        self.follow(path, found.name)

    def _say_model_of_another_project(self) -> None:
        """Frames opened beside others go on with the model in use; where that is another
        project's fine-tuned version, said (a user's check: only "Opened 60 frame(s)")."""
        info = self.segmentation.model_info
        if info is None or not self.opening.last_opened:  # nothing opened (a review)
            return
        home = Path(info.path).resolve().parent  # a version's project: its models folder
        opened = {versions_folder(path).resolve() for path in self.opening.last_opened}
        # a project is a folder's: one look a folder, not a frame (9,000 frames took 0.6 s)
        folders = {ref.path.parent for ref in self.context.frames}
        projects = {versions_folder(folder).resolve() for folder in folders}
        if home in projects and home not in opened:  # said after what the open said
            said = self.context.host.current_message()
            self.context.host.show_message(
                f"{said + '. ' if said else ''}Segmented with {info.name}, the fine-tuned "
                f"model of another project open (File > Models to choose another)",
                MessageTime.LONG)

    def pass_over(self, why: str) -> None:
        """A project's model is not followed (`project_to_follow`: frames of several projects
        opened together): said once the model that segments them is ready."""
        self._passed_over = why
        info = self.segmentation.model_info
        if info is not None and self.segmentation.requested_model == Path(info.path):
            self._say_passed_over(info)

    def _say_passed_over(self, info: ModelInfo) -> None:
        why, self._passed_over = self._passed_over, ""
        self.context.host.show_message(f"Segmenting with {info.name}: {why}, meant for its "
                                       "own frames (File > Models to choose it)",
                                       MessageTime.LONG)

    def _unreadable(self, index: Path, error: SegNetError) -> None:
        """A project's versions index that cannot be read: say so (once the model that
        segments instead is ready, or its news would hide this), keep the model."""
        self.context.problems.add(index, str(getattr(error, "reason", error)))
        self._unreadable_note = (f"The fine-tuned models of {index.parent.parent.parent.name} "
                                 "cannot be read (View > Problems)")
        info = self.segmentation.model_info
        if info is not None and self.segmentation.requested_model == Path(info.path):
            self._say_unreadable(info)

    def _say_unreadable(self, info: ModelInfo) -> None:
        note, self._unreadable_note = self._unreadable_note, ""
        self.context.host.show_message(f"{note}; segmenting with {info.name}",
                                       MessageTime.LONG)

    def _on_model_ready(self, info: ModelInfo) -> None:
        if self._unreadable_note:
            self._say_unreadable(info)
        if self._passed_over:
            self._say_passed_over(info)
        path = Path(info.path)
        if self._fallback is not None and path == self._fallback[0]:
            why = self._fallback[1]
            self._fallback = None
            self.context.host.show_message(f"Segmenting with the shipped model {info.name}: "
                                           f"{why} (View > Problems)", MessageTime.LONG)
            return
        if self._following is None or path != self._following[0]:
            return
        name = self._following[1]
        self._following = None
        self.context.host.show_message(
            f"Segmenting with {name}, its current version (File > Models to change): "
            f"{info.device}, {info.precision}", MessageTime.LONG)

    def _on_model_failed(self, path: Path | None, message: str) -> None:
        segmentation = self.segmentation
        left_without = segmentation.model_info is None and segmentation.requested_model is None
        if self._fallback is not None and path == self._fallback[0]:
            self._fallback = None  # the shipped model will not load either: said already
            return
        if self._following is None or path != self._following[0]:
            if left_without:  # a model named (`--model`) that would not load, with the
                self._on_frames_opened()  # frames open meanwhile: follow their project now
            return
        name = self._following[1]
        self._following = None
        self._failed.add(path)
        failed = f"{name} could not be loaded"
        failed = failed[:1].upper() + failed[1:]  # "the fine-tuned model v002 of street"
        if not left_without:
            self.context.host.show_message(f"{failed} ({message}); the model stays",
                                           MessageTime.LONG)
            return
        # the window started on it and has no model: the shipped one, then
        fallback, _why = choose_model(None)
        self.context.host.show_message(f"{failed}: {message}", MessageTime.LONG)
        if fallback is not None:
            self._fallback = (Path(fallback).resolve(), f"{name} could not be loaded")
            segmentation.load_model(fallback, by_user=False)
