import pytest
import torch

from segnet_core.errors import CheckpointError, ModelError
from segnet_core.models import (ModelConfig, SegmentationModel, available_models, build_model,
                                count_parameters, model_info, register_model)
from segnet_core.models.basic import VARIANTS, BasicSegNet, DecoderConv, Skip, Upsample
from segnet_core.models.segnet import SegNet, _vgg16_bn_feature_keys

PAPER_NAMES = ["segnet", "segnet-basic", "segnet-basic-single-channel-decoder",
               "segnet-basic-encoder-addition", "fcn-basic", "fcn-basic-no-addition",
               "fcn-basic-no-dim-reduction", "fcn-basic-no-addition-no-dim-reduction",
               "bilinear", "segnet-basic-lcn"]


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


# ----------------------------------------------------------------- the base class, the registry

NO_CLASSIFIER = {"fcn-basic", "fcn-basic-no-addition"}  # decoders ending on K channels


@pytest.mark.parametrize("name", PAPER_NAMES)
def test_every_model_names_its_parts_and_knows_its_config(name):
    model = build_model(name, 4)
    assert isinstance(model, SegmentationModel)
    assert model.config == ModelConfig(name, 4, 3)
    assert model.architecture == {"name": name, "num_classes": 4, "options": {"in_channels": 3}}
    children = dict(model.named_children())
    assert {"encoder", "decoder"} <= set(children)
    if name in NO_CLASSIFIER:
        assert model.classifier is None
    else:
        assert children["classifier"] is model.classifier
        assert model.classifier.out_channels == 4
    # the classifier's weights are the last of the model's
    assert list(model.state_dict())[-1].startswith("decoder." if name in NO_CLASSIFIER
                                                    else "classifier.")


def test_config_is_set_at_construction_and_rebuilds_the_model():
    model = build_model("segnet-basic", 6, in_channels=1)
    config = model.config
    again = build_model(config.name, config.num_classes, **config.to_dict()["options"])
    assert again.config == config == ModelConfig("segnet-basic", 6, 1)
    assert SegNet(5).config == ModelConfig("segnet", 5, 3)


def _encoder_batchnorms(model):
    return [m for m in model.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def test_freeze_encoder_stops_its_gradients_and_its_batchnorm_statistics():
    torch.manual_seed(0)
    model = build_model("segnet-basic", 3)
    model.freeze_encoder()
    model.train()
    assert model.encoder_frozen and not model.encoder.training and model.decoder.training
    statistics = [bn.running_mean.clone() for bn in _encoder_batchnorms(model)]
    decoder_bn = next(m for m in model.decoder.modules() if isinstance(m, torch.nn.BatchNorm2d))
    decoder_before = decoder_bn.running_mean.clone()
    model(torch.randn(2, 3, 40, 48)).sum().backward()
    assert all(p.grad is None and not p.requires_grad for p in model.encoder.parameters())
    assert all(p.grad is not None for p in model.decoder.parameters())
    assert all(torch.equal(bn.running_mean, s)
               for bn, s in zip(_encoder_batchnorms(model), statistics))
    assert not torch.equal(decoder_bn.running_mean, decoder_before)
    model.freeze_encoder(False)
    model.train()
    assert model.encoder.training and all(p.requires_grad for p in model.encoder.parameters())


def test_registry_metadata():
    assert model_info("segnet").encoder_weights == "vgg16_bn"
    assert all(model_info(n).encoder_weights is None for n in PAPER_NAMES[1:])
    assert model_info("segnet").default_lr == 1e-3 and model_info("bilinear").default_lr == 0.1
    assert model_info("segnet-basic").description
    with pytest.raises(ModelError, match="twice"):
        register_model("segnet", SegNet, description="again", paper_parameters=1.0,
                       default_lr=0.1)
    assert available_models() == PAPER_NAMES


def test_decoder_specs_hold_enums_that_read_as_their_names():
    assert set(VARIANTS) == set(PAPER_NAMES[1:])
    for spec in VARIANTS.values():
        assert isinstance(spec.upsample, Upsample)
        assert spec.conv is None or isinstance(spec.conv, DecoderConv)
        assert spec.skip is None or isinstance(spec.skip, Skip)
    assert VARIANTS["segnet-basic"].upsample == "indices" == Upsample.INDICES.value
    assert VARIANTS["fcn-basic"].skip is Skip("reduced")


def test_local_contrast_norm_evens_out_light_and_keeps_colour():
    from segnet_core.models.basic import LocalContrastNorm
    torch.manual_seed(0)
    norm = LocalContrastNorm()
    image = torch.rand(1, 3, 40, 48)
    out = norm(image)
    # the same street darker, with less contrast, and lifted: the same input to the network
    assert torch.allclose(norm(0.3 * image + 0.2), out, atol=1e-4)
    # colour stays: a blue patch on grey differs from a red one of the same brightness
    blue, red = torch.full((1, 3, 40, 48), 0.5), torch.full((1, 3, 40, 48), 0.5)
    blue[:, 2, 10:30, 10:30] = 0.8
    red[:, 0, 10:30, 10:30] = 0.8
    assert not torch.allclose(norm(blue), norm(red), atol=1e-2)
    assert norm.state_dict() == {}  # the kernel is rebuilt, not saved


def test_the_lcn_variant_normalises_its_input_and_saves_like_segnet_basic():
    lcn, plain = build_model("segnet-basic-lcn", 11), build_model("segnet-basic", 11)
    assert set(lcn.state_dict()) == set(plain.state_dict())
    assert type(lcn.stem).__name__ == "LocalContrastNorm"
    assert isinstance(plain.stem, torch.nn.Identity)
    lcn.eval()
    image = torch.rand(1, 3, 48, 64)
    with torch.no_grad():
        assert torch.allclose(lcn(0.5 * image + 0.1), lcn(image), atol=1e-3)


def test_a_segnet_basic_checkpoint_with_the_earlier_decoder_keys_still_loads(tmp_path):
    """Files written before the decoder became `decoder.convs` (the first shipped model was
    one) load into today's class with the same weights and the same output."""
    from segnet_core.checkpoint import checkpoint_from_model, load_checkpoint, save_checkpoint
    from dataclasses import replace
    from segnet_core.labels import camvid_label_set

    torch.manual_seed(3)
    model = build_model("segnet-basic", 11).eval()
    earlier = {key.replace("decoder.convs.", "decoder."): value
               for key, value in model.state_dict().items()}
    assert "decoder.0.0.weight" in earlier and not any("convs" in k for k in earlier)
    checkpoint = checkpoint_from_model(model, camvid_label_set().to_dict(), (64, 80),
                                       {"mean": [0.5] * 3, "std": [0.25] * 3})
    save_checkpoint(tmp_path / "earlier.pt", replace(checkpoint, state_dict=earlier))
    loaded = load_checkpoint(tmp_path / "earlier.pt")
    assert "decoder.0.0.weight" in loaded.state_dict
    rebuilt = loaded.build_model().eval()
    x = torch.rand(1, 3, 64, 80)
    with torch.inference_mode():
        assert torch.equal(rebuilt(x), model(x))


def test_local_contrast_norm_computes_in_float32_under_autocast():
    """In bf16 the local means lose the small differences LCN divides up: the stem keeps
    float32 whatever precision the rest of the network runs in."""
    from segnet_core.models.basic import LocalContrastNorm

    lcn = LocalContrastNorm()
    x = torch.rand(1, 3, 40, 56) * 0.05 + 0.5  # a dim, low-contrast picture
    exact = lcn(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under = lcn(x)
        assert under.dtype == torch.float32
    assert torch.equal(under, exact)
