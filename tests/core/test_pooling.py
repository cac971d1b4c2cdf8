import pytest
import torch
import torch.nn.functional as F

from segnet_core.models.pooling import max_pool_compact, max_unpool_compact

SIZES = [(8, 8), (7, 9), (45, 60), (23, 30), (97, 131), (3, 2), (1, 1)]


@pytest.mark.parametrize("height,width", SIZES)
@pytest.mark.parametrize("seed", [0, 1])
def test_compact_unpool_equals_pytorch_forward_and_backward(height, width, seed):
    torch.manual_seed(seed)
    x = torch.randn(2, 3, height, width, dtype=torch.float64, requires_grad=True)
    pooled, indices = max_pool_compact(x)
    reference, flat = F.max_pool2d(x, 2, 2, ceil_mode=True, return_indices=True)
    assert torch.equal(pooled, reference)
    assert indices.positions.dtype == torch.uint8
    assert indices.positions.element_size() == 1
    assert indices.size == (height, width)

    values = torch.randn_like(pooled, requires_grad=True)
    ours = max_unpool_compact(values, indices)
    theirs = F.max_unpool2d(values, flat, 2, 2, output_size=(height, width))
    assert ours.shape == (2, 3, height, width)
    assert torch.equal(ours, theirs)

    upstream = torch.randn_like(ours)
    (grad_ours,) = torch.autograd.grad(ours, values, upstream)
    (grad_theirs,) = torch.autograd.grad(theirs, values, upstream)
    assert torch.equal(grad_ours, grad_theirs)


def test_gradient_through_pool_and_unpool_matches_pytorch():
    torch.manual_seed(3)
    x1 = torch.randn(1, 2, 11, 13, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    pooled, indices = max_pool_compact(x1)
    ours = max_unpool_compact(pooled * 2, indices)
    pooled2, flat = F.max_pool2d(x2, 2, 2, ceil_mode=True, return_indices=True)
    theirs = F.max_unpool2d(pooled2 * 2, flat, 2, 2, output_size=(11, 13))
    upstream = torch.randn_like(ours)
    ours.backward(upstream)
    theirs.backward(upstream)
    assert torch.equal(x1.grad, x2.grad)


def test_positions_point_at_the_maximum():
    x = torch.tensor([[[[1.0, 5.0, 0.0], [2.0, 3.0, 9.0], [7.0, 0.0, 4.0]]]])
    pooled, indices = max_pool_compact(x)
    assert pooled.flatten().tolist() == [5.0, 9.0, 7.0, 4.0]
    # 5 top-right (1); 9 bottom-left of a window cut at the right edge (2); 7, 4 top-left (0)
    assert indices.positions.flatten().tolist() == [1, 2, 0, 0]
