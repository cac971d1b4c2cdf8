"""Fine-tuning on corrected frames: settings, balance table, new classes, the run, versions.

The scenario: a tiny SegNet-Basic learned the shapes with the square and disc labels swapped
(the first model is wrong in a known way). Six corrected frames (four to train, two held out)
and a short fine-tune at 48x48 on the CPU must raise the held-out mIoU clearly.
"""

import dataclasses
import json
import warnings

import numpy as np
import pytest
import torch

from segnet_core.checkpoint import checkpoint_from_model, load_checkpoint, save_checkpoint
from segnet_core.data import InMemoryDataset
from segnet_core.errors import FileFormatError, SegNetError
from segnet_core.finetune import (ClassBalanceRow, FineTuneSettings, ModelVersions,
                                  class_balance_table, expand_classes, output_layer_name,
                                  run_finetune,
                                  split_frames)
from segnet_core.finetune.report import Verdict, verdict
from segnet_core.labels import LabelSet
from segnet_core.models import available_models, build_model
from segnet_core.inference import Predictor
from segnet_core.quality import (CARRIED_NOTE, CONFIDENCE_X_AGREEMENT, QUALITY_KEY,
                                 AccuracyCalibration)
from segnet_core.ranking import model_calibration, trained_frame_names
from segnet_core.events import CancelToken
from segnet_core.train import (Message, StepProgress, StopReason, TrainConfig, Trainer,
                                ValidationRecord)
from tests.core.synthetic import SHAPES_LABELS, shapes_pair

SIZE = (48, 48)
FAST = dict(epochs=10, batch_size=1, augment=False, device="cpu", precision="fp32", seed=0,
            samples_per_epoch=4)


def _swapped(pair):
    image, mask = pair
    wrong = mask.copy()
    wrong[mask == 1], wrong[mask == 2] = 2, 1
    return image, wrong


def _corrected_frames(count=6, first_seed=100):
    return [shapes_pair(np.random.default_rng(first_seed + i), SIZE) for i in range(count)]


def _snapshot(state: dict) -> dict:
    return {k: v.detach().clone() for k, v in state.items()}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """A base model that confuses square and disc, saved as v001 and loaded back from there,
    and one fine-tuning run of it on six corrected frames."""
    root = tmp_path_factory.mktemp("finetune")
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    wrong = InMemoryDataset([_swapped(shapes_pair(rng, SIZE)) for _ in range(8)], SHAPES_LABELS)
    config = TrainConfig(model="segnet-basic", size=SIZE, epochs=4, batch_size=4, lr=0.1,
                         augment=False, device="cpu", precision="fp32", seed=0)
    trained = Trainer(config, wrong).run()
    versions = ModelVersions(root / "project" / "models")
    versions.save(checkpoint_from_model(trained.model, SHAPES_LABELS.to_dict(), SIZE))
    base = versions.load("v001")
    base_weights = _snapshot(base.state_dict)
    frames = _corrected_frames()
    events = []
    result = run_finetune(base, frames, SHAPES_LABELS, FineTuneSettings(**FAST),
                          out_dir=root / "run", progress=events.append,
                          frame_names=[f"f{i:02d}.png" for i in range(6)])
    return dict(root=root, base=base, base_weights=base_weights, frames=frames,
                result=result, events=events, versions=versions)


# --------------------------------------------------------------------------- the run

def test_a_short_finetune_raises_held_out_miou(scenario):
    result = scenario["result"]
    before, after = result.before, result.after
    # measured: 0.211 before, 0.629 after (square IoU 0.05 -> 0.56, disc 0.00 -> 0.49)
    print(f"held-out mIoU before {before.miou:.3f} after {after.miou:.3f}")
    assert before.miou < 0.3
    assert after.miou > before.miou + 0.25
    assert after.per_class_iou[1] > before.per_class_iou[1] + 0.25  # square and disc are
    assert after.per_class_iou[2] > before.per_class_iou[2] + 0.25  # no longer swapped
    assert verdict(result.before_json, result.after_json) == Verdict.BETTER
    assert result.stopped == "finished" and not result.cancelled
    assert len(result.train_indices) == 4 and len(result.held_out_indices) == 2
    assert result.after_json["miou"] == pytest.approx(after.miou)
    assert [c["name"] for c in result.before_json["per_class"]] == list(SHAPES_LABELS.names)
    assert result.before_json["bf"] is not None and 0 <= result.after_json["bf"] <= 1
    # nothing is chosen on the held-out frames: the last epoch is kept, no validation ran
    assert result.checkpoint.training["fine_tune"]["chosen"] == "last"
    assert all(np.isnan(r.miou) for r in result.history)


def test_progress_messages_and_trainer_events_pass_through(scenario):
    events = scenario["events"]
    texts = [e.text for e in events if isinstance(e, Message)]
    assert any("evaluating the current model" in t for t in texts)
    assert any("evaluating the fine-tuned model" in t for t in texts)
    assert texts.index("training") < len(texts) - 1
    steps = [e for e in events if isinstance(e, StepProgress)]
    records = [e for e in events if isinstance(e, ValidationRecord)]
    assert len(steps) == 40 and all(np.isnan(r.miou) for r in records)
    assert steps[-1].total_steps == 40 and steps[-1].seconds_left == pytest.approx(0, abs=1e-6)


def test_the_base_checkpoint_is_untouched(scenario):
    base, saved = scenario["base"], scenario["base_weights"]
    assert set(base.state_dict) == set(saved)
    assert all(torch.equal(base.state_dict[k], saved[k]) for k in saved)
    on_disk = scenario["versions"].load("v001").state_dict
    assert all(torch.equal(on_disk[k], saved[k]) for k in saved)
    new = scenario["result"].checkpoint.state_dict
    assert not torch.equal(new["classifier.weight"], saved["classifier.weight"])


def test_the_record_holds_recipe_frames_figures_and_parent(scenario):
    result = scenario["result"]
    record = result.checkpoint.training["fine_tune"]
    assert record["recipe"]["lr"] == pytest.approx(0.02)  # a fifth of SegNet-Basic's 0.1
    assert record["recipe"]["size"] == [48, 48] and record["recipe"]["start"] == "current"
    assert record["frames"]["held_out"] == [f"f{i:02d}.png" for i in result.held_out_indices]
    assert len(record["frames"]["train"]) == 4
    assert record["miou_before"] == pytest.approx(result.before.miou)
    assert record["after"]["miou"] == pytest.approx(result.after.miou)
    assert record["parent"]["version"] == "v001"
    assert record["parent"]["classes"] == list(SHAPES_LABELS.names)
    assert record["stopped"] == "finished" and record["chosen"] == "last"
    assert result.checkpoint.input_size == SIZE
    json.dumps(result.checkpoint.training)  # JSON-ready


def test_cancel_keeps_a_usable_checkpoint(scenario, tmp_path):
    token = CancelToken()

    def cancel_after_five_steps(event):  # four steps make an epoch
        if isinstance(event, StepProgress) and event.global_step == 5:
            token.cancel()

    result = run_finetune(scenario["base"], scenario["frames"], SHAPES_LABELS,
                          FineTuneSettings(**FAST), out_dir=tmp_path / "run",
                          progress=cancel_after_five_steps, cancel=token)
    assert result.cancelled and result.stopped == "cancelled" and result.global_step == 5
    assert result.checkpoint.training["fine_tune"]["chosen"] == "last"
    assert result.after is not None and result.before is not None
    save_checkpoint(tmp_path / "kept.pt", result.checkpoint)
    kept = load_checkpoint(tmp_path / "kept.pt")
    predictor = Predictor(kept.build_model(), kept.label_set(), input_size=kept.input_size,
                          normalization=kept.normalization, device="cpu", precision="fp32")
    labels = predictor.predict(scenario["frames"][0][0]).labels
    assert labels.shape == SIZE and labels.max() < 3
    assert all(torch.equal(scenario["base"].state_dict[k], v)
               for k, v in scenario["base_weights"].items())


def test_a_time_limit_is_the_whole_rounds_and_training_gets_what_the_rest_leaves(
        scenario, tmp_path):
    """A user's check: 1.5-minute rounds took 1:56 and 1:57, the limit being training's
    alone. Twice the time used before training is set aside for the work after it."""
    import time

    from segnet_core.finetune.run import MIN_TRAINING_MINUTES, training_minutes

    assert training_minutes(1.5, 9.0) == pytest.approx(1.2)
    assert training_minutes(1.0, 120.0) == MIN_TRAINING_MINUTES  # the rest took it all
    events = []
    result = run_finetune(scenario["base"], scenario["frames"], SHAPES_LABELS,
                          FineTuneSettings(**dict(FAST, epochs=1000), minutes=1.0),
                          out_dir=tmp_path / "run", progress=events.append,
                          started=time.perf_counter() - 120.0)  # two minutes before
    said = [event.text for event in events if isinstance(event, Message)]
    assert "training for up to 0.05 min of the 1-minute limit (the rest reads, evaluates and " \
        "measures)" in said
    assert result.stopped == StopReason.TIME_LIMIT and result.epochs_completed < 1000


def test_cancelled_before_training_returns_no_model(scenario, tmp_path):
    token = CancelToken()
    token.cancel()
    result = run_finetune(scenario["base"], scenario["frames"], SHAPES_LABELS,
                          FineTuneSettings(**FAST), out_dir=tmp_path / "run", cancel=token)
    assert result.cancelled and result.checkpoint is None and result.after is None
    assert result.before is not None  # the current model's figures are still there


def test_added_class_gets_a_channel_and_trains(scenario, tmp_path):
    labels = LabelSet(names=SHAPES_LABELS.names + ("ring",),
                      colors=SHAPES_LABELS.colors + ((30, 220, 30),))
    frames = []
    for image, mask in scenario["frames"][:3]:
        image, mask = image.copy(), mask.copy()
        image[30:40, 5:15], mask[30:40, 5:15] = (30, 220, 30), 3
        frames.append((image, mask))
    result = run_finetune(scenario["base"], frames, labels,
                          FineTuneSettings(**dict(FAST, epochs=1, holdout=(2,))),
                          out_dir=tmp_path / "run")
    assert result.added_classes == ["ring"] and result.checkpoint.label_set() == labels
    assert result.checkpoint.architecture["num_classes"] == 4
    assert result.before.num_classes == 4 and result.before.per_class_iou[3] == 0.0
    assert result.checkpoint.build_model()(torch.zeros(1, 3, 48, 48)).shape[1] == 4


def test_the_fine_tuned_model_keeps_only_an_estimate_on_scale_agreement(scenario, tmp_path):
    """A base's line of mean confidence x scale agreement goes with the fine-tuned model
    (and its fine-tuned models after it, noted once); a fit on class shares does not (it
    ranked a street's frames worse once fine-tuned on it), nor an unfitted baseline."""
    def fine_tuned(calibration, base=None, out="tuned"):
        base = base or dataclasses.replace(scenario["base"], training=dict(
            scenario["base"].training, **{QUALITY_KEY: calibration.to_dict()}))
        return run_finetune(base, scenario["frames"], SHAPES_LABELS,
                            FineTuneSettings(**dict(FAST, epochs=1)),
                            out_dir=tmp_path / out).checkpoint

    by_classes = AccuracyCalibration(slope=0.5, intercept=0.2, class_slopes=(0.1, -0.2, 0.0),
                                     fitted_on="a drive the recipe had not seen")
    assert QUALITY_KEY not in fine_tuned(by_classes).training
    unfitted = AccuracyCalibration(feature=CONFIDENCE_X_AGREEMENT)
    assert QUALITY_KEY not in fine_tuned(unfitted, out="unfitted").training
    line = AccuracyCalibration(feature=CONFIDENCE_X_AGREEMENT, slope=0.93, intercept=0.14,
                               fitted_on="two drives held out")
    tuned = fine_tuned(line, out="line")
    kept = model_calibration(tuned.training)
    assert kept == dataclasses.replace(line, fitted_on="two drives held out" + CARRIED_NOTE)
    again = fine_tuned(None, base=tuned, out="again")  # a second round
    assert model_calibration(again.training) == kept


def test_scratch_accepts_another_label_set_without_before_figures(scenario, tmp_path):
    labels = LabelSet(names=("background", "box", "ball"), colors=SHAPES_LABELS.colors)
    events = []
    result = run_finetune(scenario["base"], scenario["frames"][:3], labels,
                          FineTuneSettings(**dict(FAST, epochs=1, start="scratch")),
                          out_dir=tmp_path / "run", progress=events.append)
    assert result.before is None and result.after is not None
    assert result.settings.lr == pytest.approx(0.1)  # the paper's rate from scratch
    assert any("no 'before' figures" in e.text for e in events if isinstance(e, Message))
    with pytest.raises(SegNetError, match="class 1 is 'box'"):
        run_finetune(scenario["base"], scenario["frames"][:3], labels,
                     FineTuneSettings(**FAST), out_dir=tmp_path / "other")


def test_the_rate_drops_tenfold_after_lr_drop_epochs(scenario, tmp_path):
    settings = FineTuneSettings(**dict(FAST, epochs=3), lr_drop=0.6)  # after 2 of 3 epochs
    result = run_finetune(scenario["base"], scenario["frames"], SHAPES_LABELS, settings,
                          out_dir=tmp_path / "drop")
    assert [r.learning_rate for r in result.history] == pytest.approx([0.02, 0.02, 0.002])
    assert result.checkpoint.training["fine_tune"]["recipe"]["lr_drop"] == 0.6
    default = scenario["result"].history  # 10 epochs: the last quarter, rounded, at a tenth
    assert [r.learning_rate for r in default] == pytest.approx([0.02] * 8 + [0.002] * 2)
    constant = run_finetune(scenario["base"], scenario["frames"], SHAPES_LABELS,
                            FineTuneSettings(**dict(FAST, epochs=2), lr_drop=None),
                            out_dir=tmp_path / "constant").history
    assert [r.learning_rate for r in constant] == pytest.approx([0.02, 0.02])


def test_bad_frames_and_settings_are_refused_before_any_work(scenario, tmp_path):
    image, mask = scenario["frames"][0]
    bad = mask.copy()
    bad[5, 5] = 7  # neither a class nor void
    with pytest.raises(SegNetError, match="mask value 7"):
        run_finetune(scenario["base"], [(image, mask), (image, bad)], SHAPES_LABELS,
                     out_dir=tmp_path / "a")
    with pytest.raises(SegNetError, match="no frames"):
        run_finetune(scenario["base"], [], SHAPES_LABELS, out_dir=tmp_path / "b")
    with pytest.raises(SegNetError, match="epochs"):
        run_finetune(scenario["base"], [(image, mask)], SHAPES_LABELS,
                     FineTuneSettings(epochs=0), out_dir=tmp_path / "c")
    assert not (tmp_path / "a").exists()


# --------------------------------------------------------------------------- pieces

def test_settings_defaults_and_learning_rates():
    settings = FineTuneSettings()
    assert (settings.start, settings.epochs, settings.batch_size, settings.holdout,
            settings.size, settings.freeze_encoder, settings.augment, settings.balance,
            settings.lr_drop) == ("current", 24, 4, 0.25, None, False, True, "median", 0.75)
    assert settings.learning_rate("segnet-basic") == pytest.approx(0.02)
    assert settings.learning_rate("segnet") == pytest.approx(2e-4)
    scratch = FineTuneSettings(start="scratch")
    assert scratch.learning_rate("segnet-basic") == pytest.approx(0.1)
    assert scratch.learning_rate("segnet") == pytest.approx(1e-3)
    assert FineTuneSettings(lr=0.05).learning_rate("segnet") == 0.05
    drops = [FineTuneSettings(epochs=e, lr_drop=0.75).train_config("segnet-basic", (64, 96))
             .lr_drops for e in (24, 10, 2, 1)]
    assert drops == [(18,), (8,), (1,), ()]  # follows the epochs, always inside the run
    custom = FineTuneSettings(size=(64, 96), holdout=(1, 3), lr=0.02, lr_drop=0.75)
    assert FineTuneSettings.from_dict(json.loads(json.dumps(custom.to_dict()))) == custom
    for bad in (dict(start="warm"), dict(epochs=0), dict(lr=-1.0), dict(size=(16, 16)),
                dict(balance="inverse"), dict(holdout=1.0), dict(holdout="two"),
                dict(lr_drop=1.0), dict(lr_drop=0), dict(lr_drop=18), dict(lr_drop="half")):
        with pytest.raises(SegNetError):
            FineTuneSettings(**bad).validate()


def test_a_drawn_share_keeps_each_frames_draw_when_frames_come_and_go():
    """A user's check: the panel's held-out frame changed (07965 -> 07963 -> 07965) each time
    another frame was corrected or saved. Drawn by name, a frame held out stays held out
    while the share's count stays; a frame added either joins the held-out ones in the
    place of one, or leaves them as they were."""
    from segnet_core.finetune.frames import share_count

    names = [f"0016E5_{n:05d}.png" for n in range(7959, 7999, 2)]
    for seed in range(5):
        held_before = None
        for count in range(8, 13):  # frames corrected one after another, in any order
            chosen = names[:count]
            _train, held = split_frames(count, 0.25, seed, names=chosen)
            held_names = {chosen[i] for i in held}
            assert len(held) == share_count(count, 0.25)
            if held_before is not None:
                assert len(held_names - held_before) <= 1  # one comes in at most...
                assert len(held_before - held_names) <= 1 or \
                    len(held_names) > len(held_before)  # ... and one goes for it
            held_before = held_names
        shuffled = list(reversed(names[:10]))  # the same frames in another order
        _train, held = split_frames(10, 0.25, seed, names=shuffled)
        assert {shuffled[i] for i in held} == {names[:10][i] for i in
                                               split_frames(10, 0.25, seed, names=names[:10])[1]}


def test_split_frames():
    assert split_frames(1) == ([0], [])
    train, held = split_frames(6, 0.25, seed=3)
    assert len(held) == 2 and sorted(train + held) == list(range(6))
    assert split_frames(6, 0.25, seed=3) == (train, held)
    assert len(split_frames(2, 0.1)[1]) == 1 and len(split_frames(3, 0.9)[1]) == 2
    assert split_frames(5, 0.0) == ([0, 1, 2, 3, 4], [])
    assert split_frames(5, (4, 1)) == ([0, 2, 3], [1, 4])
    # a drawn share is a share of the reviewed frames, drawn among them, leaving one to train
    for seed in range(8):
        train, held = split_frames(12, 0.5, seed, [False, True, False, True] + [True] * 2
                                   + [False] * 6)
        assert len(held) == 2 and set(held) <= {1, 3, 4, 5} and len(train) == 10
        assert split_frames(12, 0.25, seed, [True] * 3 + [False] * 9)[1] in ([0], [1], [2])
        assert split_frames(6, 0.5, seed, [False, True, False, True, False, False])[1] in (
            [1], [3])
    assert split_frames(4, 0.5, 0, [False, False, True, False]) == ([0, 1, 2, 3], [])
    assert split_frames(4, 0.5, 0, [False] * 4) == ([0, 1, 2, 3], [])
    assert split_frames(6, 0.25, 3, [True] * 6) == split_frames(6, 0.25, 3)  # as before
    with pytest.raises(SegNetError, match="3 scorable flags for 4 frames"):
        split_frames(4, 0.5, 0, [True] * 3)
    assert split_frames(3, (0, 2), 0, [False] * 3) == ([1], [0, 2])  # the user's choice
    # frames the model in use was trained on are held out last (its "before" figure there
    # would flatter it), the draw's order kept within each kind
    drawn_from = set()
    for seed in range(12):
        held = split_frames(4, 0.25, seed, known=[True, True, False, True])[1]
        assert held == [2]
        held = split_frames(8, 0.5, seed, known=[True, False, True, False] + [True] * 4)[1]
        assert len(held) == 4 and {1, 3} <= set(held)
        drawn_from |= set(held) - {1, 3}
        assert split_frames(6, 0.25, seed, known=[True] * 6) == split_frames(6, 0.25, seed)
        assert 0 not in split_frames(4, 0.5, seed, [False, True, True, True],
                                     [False, True, False, True])[1]  # scorable still rules
    assert len(drawn_from) > 2  # the rest still drawn at random among the known ones
    with pytest.raises(SegNetError, match="2 trained-on flags for 4 frames"):
        split_frames(4, 0.5, 0, known=[True] * 2)
    for bad in ((5, (5,)), (5, (1, 1)), (2, (0, 1)), (0, 0.25)):
        with pytest.raises(SegNetError):
            split_frames(*bad)


def test_balance_table_median_and_natural_on_a_hand_made_mask():
    labels = LabelSet(names=("bg", "a", "b", "never"),
                      colors=((0, 0, 1), (0, 1, 0), (1, 0, 0), (1, 1, 1)))
    void = labels.void_index
    first = np.zeros((4, 4), np.uint8)
    first[0, :] = 1  # 12 bg, 4 a
    second = np.zeros((4, 4), np.uint8)
    second[1, :] = 2
    second[3, :] = void  # 8 bg, 4 b, 4 void
    image = np.zeros((4, 4, 3), np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an absent class shows as weight 0, not a warning
        median = class_balance_table([(image, first), (image, second)], labels, "median")
        natural = class_balance_table([first, second], labels, "natural")
    assert [r.name for r in median] == ["bg", "a", "b", "never"]
    assert [r.pixels for r in median] == [20, 4, 4, 0]
    assert [r.images for r in median] == [2, 1, 1, 0]
    # frequency: pixels / non-void pixels of the masks holding the class
    assert [r.frequency for r in median] == pytest.approx([20 / 28, 4 / 16, 4 / 12, 0])
    # median of (20/28, 1/4, 1/3) is 1/3
    assert [r.weight for r in median] == pytest.approx([(1 / 3) / (20 / 28), 4 / 3, 1, 0])
    assert [r.weight for r in natural] == [1, 1, 1, 0]
    assert [r.share for r in natural] == pytest.approx([20 / 28, 4 / 28, 4 / 28, 0])
    assert natural[1] == ClassBalanceRow("a", 4, 0.25, 1.0, 4 / 28, 1)
    with pytest.raises(SegNetError):
        class_balance_table([first], labels, "inverse")


OLD = LabelSet(names=("sky", "road", "car"), colors=((1, 1, 1), (2, 2, 2), (3, 3, 3)))
NEW = LabelSet(names=("Sky", "road", "car", "bike", "sign"),
               colors=((1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4), (5, 5, 5)))


@pytest.mark.parametrize("name", ["segnet", "segnet-basic", "segnet-basic-encoder-addition",
                                  "bilinear", "fcn-basic-no-dim-reduction"])
def test_expand_classes_keeps_old_logits(name):
    torch.manual_seed(0)
    model = build_model(name, 3).eval()
    before = _snapshot(model.state_dict())
    checkpoint = checkpoint_from_model(model, OLD.to_dict(), SIZE)
    expanded = expand_classes(checkpoint, NEW, seed=5)
    x = torch.randn(2, 3, 40, 56)
    with torch.no_grad():
        old_logits, new_logits = model(x), expanded(x)
    assert new_logits.shape == (2, 5, 40, 56) and expanded.architecture["num_classes"] == 5
    # The old classes' parameters are copied bit for bit; their logits agree up to rounding
    # (oneDNN may pick another convolution kernel for 5 output channels than for 3, and which
    # it picks depends on the thread count).
    torch.testing.assert_close(new_logits[:, :3], old_logits, rtol=1e-5, atol=1e-5)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    layer = dict(expanded.named_modules())[output_layer_name(expanded)]
    old_layer = dict(model.named_modules())[output_layer_name(model)]
    weight = layer.weight.detach()
    assert torch.equal(weight[:3], old_layer.weight.detach())
    assert torch.equal(layer.bias.detach()[:3], old_layer.bias.detach())
    others = {k: v for k, v in expanded.state_dict().items()
              if not k.startswith(output_layer_name(expanded) + ".")}
    assert all(torch.equal(model.state_dict()[k], v) for k, v in others.items())
    assert torch.equal(layer.bias.detach()[3:], torch.zeros(2))
    fan_in = weight[0].numel()
    assert 0.5 < float(weight[3:].std() / (2.0 / fan_in) ** 0.5) < 1.5  # He initialised
    again = expand_classes(model, NEW, old_label_set=OLD, seed=5)  # a bare model, same seed
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(),
                                                 expanded.state_dict().values()))


def test_expand_classes_refuses_what_it_cannot_do():
    model = build_model("segnet-basic", 3)
    renamed = LabelSet(names=("sky", "car", "road", "bike"), colors=NEW.colors[:4])
    with pytest.raises(SegNetError, match="class 1 is 'car'"):
        expand_classes(model, renamed, old_label_set=OLD)
    with pytest.raises(SegNetError, match="removing classes"):
        expand_classes(model, LabelSet(names=("sky", "road"), colors=OLD.colors[:2]),
                       old_label_set=OLD)
    with pytest.raises(SegNetError, match="old_label_set"):
        expand_classes(model, NEW)
    for name in ("fcn-basic", "fcn-basic-no-addition"):
        with pytest.raises(SegNetError, match="dimensionality reduction"):
            expand_classes(build_model(name, 3), NEW, old_label_set=OLD)
    same = expand_classes(model, OLD, old_label_set=OLD)  # K' == K: a copy
    assert same is not model and all(torch.equal(a, b) for a, b in
                                     zip(same.state_dict().values(), model.state_dict().values()))
    assert set(available_models()) >= {"segnet", "segnet-basic"}


# --------------------------------------------------------------------------- versions

def test_model_versions_save_list_load_and_go_back(scenario, tmp_path):
    folder = scenario["root"] / "project" / "models"
    versions = ModelVersions(folder)
    first = versions.current
    assert first.id == "v001" and first.parent is None
    assert first.recipe["kind"] == "imported"
    tuned = versions.save(scenario["result"].checkpoint)  # parent taken from the record
    assert (tuned.id, tuned.number, tuned.parent) == ("v002", 2, "v001")
    assert tuned.miou_before == pytest.approx(scenario["result"].before.miou)
    assert tuned.miou_after == pytest.approx(scenario["result"].after.miou)
    assert tuned.recipe["kind"] == "fine-tune" and tuned.recipe["train_frames"] == 4
    assert versions.current.id == "v001"  # a new version is used once accepted
    assert versions.set_current("v002").id == "v002"
    reopened = ModelVersions(folder)
    assert [v.id for v in reopened.list()] == ["v001", "v002"] and reopened.current.id == "v002"
    loaded = reopened.load(2)
    assert loaded.training["model_version"] == {"id": "v002", "parent": "v001",
                                                "created": tuned.created}
    assert loaded.training["fine_tune"]["parent"]["version"] == "v001"
    assert "model_version" not in scenario["result"].checkpoint.training  # caller's copy
    assert all(torch.equal(loaded.state_dict[k], v)
               for k, v in scenario["result"].checkpoint.state_dict.items())
    reopened.set_current(first)  # go back
    assert ModelVersions(folder).current.id == "v001"
    index = json.loads((folder / "index.json").read_text())
    assert index["current"] == "v001" and [v["file"] for v in index["versions"]] == [
        "v001.pt", "v002.pt"]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]

    (folder / "v003.pt").write_bytes(b"left by a crash between the two writes")
    third = reopened.save(loaded, parent="v002", make_current=True)
    assert third.id == "v004" and third.parent == "v002" and reopened.current.id == "v004"
    with pytest.raises(SegNetError, match="no model version v009"):
        reopened.load("v009")

    empty = ModelVersions(tmp_path / "none")
    assert empty.list() == [] and empty.current is None
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "index.json").write_text("{not json")
    with pytest.raises(FileFormatError, match="index.json"):
        ModelVersions(tmp_path / "bad").list()


def test_a_second_round_records_every_frame_trained_on_since_the_base(scenario, tmp_path):
    """A frame the first round trained on and the second holds out is still known by heart:
    the estimate's levelling must not take it as evidence (`ranking.trained_frame_names`)."""
    names = [f"f{i:02d}.png" for i in range(6)]
    first = run_finetune(scenario["base"], scenario["frames"], SHAPES_LABELS,
                         FineTuneSettings(**dict(FAST, epochs=1, holdout=(0,))),
                         out_dir=tmp_path / "one", frame_names=names).checkpoint
    second = run_finetune(first, scenario["frames"], SHAPES_LABELS,
                          FineTuneSettings(**dict(FAST, epochs=1, holdout=(1,))),
                          out_dir=tmp_path / "two", frame_names=names).checkpoint
    one, two = first.training["fine_tune"]["frames"], second.training["fine_tune"]["frames"]
    assert "f01.png" in one["train"] and "f01.png" in two["held_out"]
    assert two["train_all"] == sorted(set(one["train"]) | set(two["train"]))
    assert "f01.png" in trained_frame_names(second.training)
    assert "f00.png" in trained_frame_names(second.training)  # trained in round two
