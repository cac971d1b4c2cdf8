import pytest
import torch

from segnet_core.errors import CheckpointError, ModelError
from segnet_core.models import available_models, build_model, count_parameters, model_info
from segnet_core.models.basic import BasicSegNet
from segnet_core.models.segnet import SegNet, _vgg16_bn_feature_keys

PAPER_NAMES = ["segnet", "segnet-basic", "segnet-basic-single-channel-decoder",
               "segnet-basic-encoder-addition", "fcn-basic", "fcn-basic-no-addition",
               "fcn-basic-no-dim-reduction", "fcn-basic-no-addition-no-dim-reduction",
               "bilinear"]


def test_available_models_are_the_papers():
    assert available_models() == PAPER_NAMES


def test_segnet_parameter_count_within_one_percent():
    count = count_parameters(build_model("segnet", 11))
    assert abs(count / 29.45e6 - 1) < 0.01, count


@pytest.mark.parametrize("name", PAPER_NAMES[1:])
def test_table1_variant_parameter_counts_within_three_percent(name):
    count = count_parameters(build_model(name, 11))
    paper = model_info(name).paper_parameters * 1e6
    assert abs(count / paper - 1) < 0.03, (name, count, paper)


def test_segnet_has_13_encoder_and_13_decoder_convs():
    model = build_model("segnet", 11)
    encoder = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    decoder = [m for m in model.decoder.modules() if isinstance(m, torch.nn.Conv2d)]
    decoder.append(model.classifier)  # the paper's last decoder conv
    assert len(encoder) == 13 and len(decoder) == 13
    assert decoder[-1].out_channels == 11


@pytest.mark.parametrize("name", PAPER_NAMES)
@pytest.mark.parametrize("size", [(97, 131), (64, 64)])
def test_output_has_input_size(name, size):
    torch.manual_seed(0)
    model = build_model(name, 5).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, *size))
    assert out.shape == (2, 5, *size)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("size", [(360, 480), (361, 479)])
def test_segnet_basic_at_camvid_sizes(size):
    model = build_model("segnet-basic", 11).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, *size)).shape == (1, 11, *size)


def test_segnet_at_odd_size_360x480_family():
    model = build_model("segnet", 11).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 361, 479)).shape == (1, 11, 361, 479)


def test_backward_reaches_every_parameter():
    model = build_model("segnet-basic-encoder-addition", 4)
    model(torch.randn(2, 3, 40, 50)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_too_small_or_wrong_shape_input_is_refused_with_advice():
    model = build_model("segnet-basic", 3)
    with pytest.raises(ModelError, match="at least 32x32"):
        model(torch.randn(1, 3, 31, 64))
    with pytest.raises(ModelError, match="batch"):
        model(torch.randn(3, 64, 64))


def test_unknown_name_and_bad_options():
    with pytest.raises(ModelError, match="available"):
        build_model("unet", 11)
    with pytest.raises(ModelError, match="segnet"):
        build_model("segnet-basic", 11, encoder_weights="x.pth")


def test_he_initialisation():
    torch.manual_seed(0)
    model = build_model("segnet-basic", 11)
    conv = model.encoder[1][0]
    fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
    expected = (2.0 / fan_in) ** 0.5
    assert abs(conv.weight.std().item() / expected - 1) < 0.02
    assert torch.count_nonzero(conv.bias) == 0


def _fake_vgg16_bn_state(seed=0) -> dict:
    """A torchvision-format vgg16_bn state dict, built here under its key names."""
    generator = torch.Generator().manual_seed(seed)
    channels = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                512, 512, 512, "M"]
    state, index, previous = {}, 0, 3
    for c in channels:
        if c == "M":
            index += 1
            continue
        state[f"features.{index}.weight"] = torch.randn(c, previous, 3, 3, generator=generator)
        state[f"features.{index}.bias"] = torch.randn(c, generator=generator)
        for name in ("weight", "bias", "running_mean"):
            state[f"features.{index + 1}.{name}"] = torch.randn(c, generator=generator)
        state[f"features.{index + 1}.running_var"] = torch.rand(c, generator=generator) + 0.5
        state[f"features.{index + 1}.num_batches_tracked"] = torch.tensor(100)
        previous, index = c, index + 3
    state["classifier.0.weight"] = torch.randn(8, 8, generator=generator)  # ignored
    return state


def test_vgg16_bn_feature_indices_follow_torchvision_layout():
    assert _vgg16_bn_feature_keys()[:4] == [0, 3, 7, 10]
    assert _vgg16_bn_feature_keys()[-1] == 40


def test_encoder_initialised_from_vgg16_bn_file(tmp_path):
    state = _fake_vgg16_bn_state()
    path = tmp_path / "vgg16_bn.pth"
    torch.save(state, path)
    model = build_model("segnet", 11, encoder_weights=str(path))
    convs = [block for stage in model.encoder for block in stage]
    assert torch.equal(convs[0][0].weight, state["features.0.weight"])
    assert torch.equal(convs[12][1].running_var, state["features.41.running_var"])
    assert torch.equal(convs[5][0].bias, state["features.17.bias"])


def test_wrong_or_partial_vgg_file_names_what_does_not_match(tmp_path):
    state = _fake_vgg16_bn_state()
    del state["features.40.weight"]
    state["features.3.weight"] = torch.zeros(64, 32, 3, 3)
    path = tmp_path / "partial.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as info:
        build_model("segnet", 11, encoder_weights=str(path))
    message = str(info.value)
    assert "partial.pth" in message
    assert "missing features.40.weight" in message
    assert "features.3.weight has shape (64, 32, 3, 3)" in message


def test_model_classes_are_plain_modules():
    assert isinstance(build_model("segnet", 2), SegNet)
    assert isinstance(build_model("bilinear", 2), BasicSegNet)
