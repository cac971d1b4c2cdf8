"""New output channels for classes the user added to the label set."""

from __future__ import annotations

import torch
from torch import nn

from segnet_core.checkpoint import Checkpoint
from segnet_core.errors import SegNetError
from segnet_core.labels import LabelSet
from segnet_core.models import SegmentationModel, build_model

#: Variants whose decoder itself runs on K channels (FCN's dimensionality reduction): the
#: classes pass through learned upsampling that mixes them, so there is no single output
#: layer to widen.
UNSUPPORTED = ("fcn-basic", "fcn-basic-no-addition")


def output_layer_name(model: nn.Module) -> str | None:
    """The name (in `named_modules`) of the conv producing the K logits, or None when the
    architecture has no such single layer (the FCN variants with dimensionality reduction)."""
    if isinstance(model, SegmentationModel) and model.classifier is not None:
        return "classifier"
    return None


def _same_names(old: LabelSet, new: LabelSet) -> None:
    k = old.num_classes
    if new.num_classes < k:
        raise SegNetError(f"the label set has {new.num_classes} classes but the model predicts "
                          f"{k}; removing classes from a model is not supported: fine-tune "
                          "from scratch instead")
    for index, (a, b) in enumerate(zip(old.names, new.names)):
        if a.casefold() != b.casefold():
            raise SegNetError(
                f"class {index} is {b!r} in the label set but {a!r} in the model: new classes "
                "can only be appended after the model's classes, in their order; fine-tune "
                "from scratch to change them")


def expand_classes(source: Checkpoint | nn.Module, new_label_set: LabelSet, *,
                   old_label_set: LabelSet | None = None, seed: int | None = None) -> nn.Module:
    """A new model predicting the K' classes of `new_label_set`, from one predicting K.

    source: a Checkpoint (its label set names the K classes) or a model built by
        `build_model` (then `old_label_set` must name its classes). It is not modified.
    new_label_set: the model's K classes first (same names, any case, same order), then
        the added ones.

    Every weight is copied; the output layer's first K channels keep their weights exactly,
    so the old classes' logits are unchanged for any input, and the K' - K new channels are
    He-initialised (bias 0), drawn from `seed` when given (the global torch generator is
    left as it was). With K' == K the result is a plain copy. Returned on the CPU, in eval
    mode.

    Supported: "segnet" (its last decoder conv) and every SegNet-Basic variant ending in a
    1x1 classifier: "segnet-basic", "segnet-basic-single-channel-decoder",
    "segnet-basic-encoder-addition", "bilinear", "fcn-basic-no-dim-reduction",
    "fcn-basic-no-addition-no-dim-reduction". Refused (SegNetError): "fcn-basic" and
    "fcn-basic-no-addition", whose whole decoder works on K channels.
    """
    if isinstance(source, Checkpoint):
        old_label_set = source.label_set()
        model = source.build_model()
    elif isinstance(source, nn.Module):
        if old_label_set is None:
            raise SegNetError("expand_classes needs old_label_set to know a bare model's classes")
        model = getattr(source, "module", source)
    else:
        raise SegNetError(f"expand_classes takes a Checkpoint or a model, not "
                          f"{type(source).__name__}")
    architecture = getattr(model, "architecture", None)
    if not architecture:
        raise SegNetError("the model was not built by build_model (it has no architecture)")
    name, k = architecture["name"], int(architecture["num_classes"])
    if k != old_label_set.num_classes:
        raise SegNetError(f"the model predicts {k} classes but its label set has "
                          f"{old_label_set.num_classes}")
    _same_names(old_label_set, new_label_set)
    new_k = new_label_set.num_classes
    layer = output_layer_name(model)
    if layer is None and new_k > k:
        raise SegNetError(
            f"classes cannot be added to {name!r}: its decoder works on the K class channels "
            f"throughout (FCN's dimensionality reduction), so there is no output layer to "
            f"widen. Supported: segnet and the SegNet-Basic variants with a classifier; "
            f"fine-tune {name} from scratch instead")

    old_state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        expanded = build_model(name, new_k, **architecture.get("options", {}))
    state = expanded.state_dict()
    widened = {f"{layer}.weight", f"{layer}.bias"} if new_k > k else set()
    with torch.no_grad():
        for key, value in old_state.items():
            if key in widened:
                state[key][:k] = value  # rows K.. keep their He initialisation
            else:
                state[key] = value.clone()
    expanded.load_state_dict(state, strict=True)
    return expanded.eval()
