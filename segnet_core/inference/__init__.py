"""Running a segmentation model on RGB images: the `Predictor` and its parts.

An image goes through three small steps (`images`), each its own function so a faster
variant can replace one without touching the others:

1. `prepare_image` resizes it to the model's input size (when the checkpoint has one) or
   pads it by reflection to the network's minimum of `MIN_INPUT_SIZE` pixels a side;
2. `images_to_tensor` stacks same-size images, scales them to [0, 1] and normalises them;
3. `restore_outputs` undoes step 1 on the labels (nearest) and confidence (bilinear), so
   every output has the image's own size.

The model runs under `torch.inference_mode()` and the chosen autocast precision; softmax and
argmax are computed in float32. The fast path (what each part gains: docs/speed.md, and
`python benchmarks/inference.py --ablation` measures it):

- The model runs as an *inference copy* (`fast_model.inference_model`) in channels-last
  memory (oneDNN's convolutions and PyTorch's max pooling are vectorised over channels),
  with each BatchNorm folded into the conv before it (in eval mode BN is a fixed
  per-channel affine map) and the conv weights cast once to the autocast dtype instead of
  at every call. The caller's model is not touched (the Trainer keeps training the model
  it validates with), and the copy is rebuilt when the model's weights change.
- Precision: bf16 autocast on CPUs with native bf16 and bf16 or fp16 on CUDA, fp32
  elsewhere or when asked for (`precision="fp32"`); see `resolve_precision`. The encoder
  and the classifier stay in fp32 (see `inference_model`: accuracy).
- On a CPU freed memory is kept for the next pass instead of going back to the system
  (`retain_freed_memory`): each pass otherwise page-faults all its activations in afresh.
  A pass takes at most `CPU_PIXELS_PER_PASS` pixels. On CUDA the whole batch goes in one
  pass, with cuDNN autotuning (`cudnn.benchmark`), images stacked into pinned memory and
  copied without blocking.
- `predict_iter` can read, decode and prepare the next batch in a background thread while
  the model runs on the current one (`prefetch`; on by default on CUDA only), in order, and
  stops with `cancel`.
- `compile=True` runs the conv stages through `torch.compile` (`compile_stages`; off by
  default: compiling takes seconds per input shape and gains little on CPUs).
"""

from segnet_core.inference.fast_model import (Float32Layer, compile_stages, fold_batchnorm,
                                              inference_model)
from segnet_core.inference.images import (Prediction, Restore, check_image, images_to_tensor,
                                          logits_to_outputs, normalize_batch, prepare_image,
                                          restore_outputs)
from segnet_core.inference.predictor import CPU_PIXELS_PER_PASS, Predictor

__all__ = ["CPU_PIXELS_PER_PASS", "Float32Layer", "Prediction", "Predictor", "Restore",
           "check_image", "compile_stages", "fold_batchnorm", "images_to_tensor",
           "inference_model", "logits_to_outputs", "normalize_batch", "prepare_image",
           "restore_outputs"]
