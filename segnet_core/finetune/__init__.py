"""Fine-tuning on corrected frames (issue 9's core): settings, the class-balance table, new
output channels for added classes, the fine-tuning run with before / after figures, and the
project's model versions. No Qt: the app drives this from a worker thread."""

from segnet_core.finetune.expand import UNSUPPORTED, expand_classes, output_layer_name
from segnet_core.finetune.run import FineTuneResult, evaluate_frames, run_finetune
from segnet_core.finetune.settings import (FINE_TUNE_LR_FACTOR, START_MODES, ClassBalanceRow,
                                           FineTuneSettings, class_balance_table, pixel_stats,
                                           split_frames)
from segnet_core.finetune.versions import ModelVersions, Version, recipe_summary

__all__ = [
    "FINE_TUNE_LR_FACTOR", "START_MODES", "UNSUPPORTED", "ClassBalanceRow", "FineTuneResult",
    "FineTuneSettings", "ModelVersions", "Version", "class_balance_table", "evaluate_frames",
    "expand_classes", "output_layer_name", "pixel_stats", "recipe_summary", "run_finetune",
    "split_frames",
]
