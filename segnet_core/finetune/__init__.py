"""Fine-tuning on corrected frames: which frames (corrected, held out), settings, the
class-balance table, new output channels for added classes, the run with before / after
figures, the project's model versions, and the whole job for the window and the command.
No Qt: the app drives `finetune_corrected` from a worker thread; `segnet-studio finetune`
calls `finetune_images`."""

from segnet_core.finetune.expand import UNSUPPORTED, expand_classes, output_layer_name
from segnet_core.finetune.frames import (CorrectedFrame, FrameSet, FrameSource, ReadFrames,
                                         corrected_or_predicted, find_frames, mask_location,
                                         read_corrected, remap_holdout, split_frames)
from segnet_core.finetune.headless import finetune_images
from segnet_core.finetune.project import (MODELS_FOLDER, BalanceReport, FineTuneOutcome,
                                          ProjectVersion, analyse_corrected,
                                          corrections_label_set, current_fine_tuned,
                                          finetune_corrected, first_fine_tuned,
                                          project_to_follow, versions_folder)
from segnet_core.finetune.run import FineTuneResult, evaluate_frames, run_finetune
from segnet_core.finetune.settings import (FINE_TUNE_LR_FACTOR, MAX_EPOCHS, START_MODES,
                                           ClassBalanceRow, FineTuneSettings, StartMode,
                                           class_balance_table, pixel_stats)
from segnet_core.finetune.versions import ModelOrigin, ModelVersions, Version, recipe_summary

__all__ = [
    "FINE_TUNE_LR_FACTOR", "MAX_EPOCHS", "MODELS_FOLDER", "START_MODES", "UNSUPPORTED",
    "BalanceReport", "ClassBalanceRow", "CorrectedFrame", "FineTuneOutcome", "FineTuneResult",
    "FineTuneSettings", "FrameSet", "FrameSource", "ModelOrigin", "ModelVersions",
    "ProjectVersion", "ReadFrames", "StartMode",
    "Version", "analyse_corrected", "class_balance_table", "corrected_or_predicted",
    "corrections_label_set", "current_fine_tuned", "evaluate_frames", "expand_classes",
    "find_frames", "first_fine_tuned",
    "finetune_corrected", "finetune_images", "mask_location", "output_layer_name",
    "pixel_stats", "project_to_follow", "read_corrected", "recipe_summary", "remap_holdout", "run_finetune",
    "split_frames", "versions_folder",
]
