"""The trainer's loss: torch's weighted mean cross-entropy, and defined on all-void batches."""

import torch
import torch.nn.functional as F

from segnet_core.losses import weighted_cross_entropy

VOID = 11


def test_equals_torch_weighted_mean_on_ordinary_batches():
    torch.manual_seed(0)
    logits = torch.randn(2, 11, 8, 9, requires_grad=True)
    target = torch.randint(0, 12, (2, 8, 9))
    weights = torch.rand(11) + 0.1
    ours = weighted_cross_entropy(logits, target, weights, VOID)
    theirs = F.cross_entropy(logits, target, weight=weights, ignore_index=VOID)
    torch.testing.assert_close(ours, theirs)


def test_an_all_void_batch_gives_zero_loss_and_zero_gradient_not_nan():
    logits = torch.randn(1, 11, 4, 4, requires_grad=True)
    target = torch.full((1, 4, 4), VOID)
    loss = weighted_cross_entropy(logits, target, torch.ones(11), VOID)
    assert F.cross_entropy(logits, target, ignore_index=VOID).isnan()  # what torch gives
    assert loss.item() == 0.0
    loss.backward()
    assert torch.count_nonzero(logits.grad) == 0


def test_pixels_only_of_zero_weight_classes_give_zero_loss():
    logits = torch.randn(1, 11, 4, 4, requires_grad=True)
    target = torch.full((1, 4, 4), 3)
    weights = torch.ones(11)
    weights[3] = 0
    assert weighted_cross_entropy(logits, target, weights, VOID).item() == 0.0
