"""The fine-tuning policy without the window: which frames are corrected (a mask in the labels
folder), reading them, the held-out choice, versions, and `segnet-studio finetune` end to end
on a tiny data set (a few 48x48 shape images, an untrained SegNet-Basic, one epoch)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from segnet_core import cli
from segnet_core.balance import BALANCE_MODES, Balance
from segnet_core.checkpoint import checkpoint_from_model, load_checkpoint, save_checkpoint
from segnet_core.errors import DataError, SegNetError
from segnet_core.finetune import (CorrectedFrame, FineTuneSettings, FrameSource, ModelVersions,
                                  StartMode, analyse_corrected, corrected_or_predicted,
                                  find_frames, finetune_corrected, finetune_images,
                                  read_corrected, remap_holdout, split_frames,
                                  versions_folder)
from segnet_core.finetune.report import Verdict, before_after_table, headline, verdict
from segnet_core.io.images import read_image
from segnet_core.io.masks import read_mask, write_index_mask
from segnet_core.masks.labels_folder import PROPAGATED, LabelsFolder
from segnet_core.models import build_model
from segnet_core.train import StopReason, TrainConfig, Trainer
from segnet_core.train_events import Message, ProgressSink, StepProgress, ValidationRecord
from tests.core.synthetic import SHAPES_LABELS, shapes_dataset, shapes_folder

SIZE = (48, 48)
FAST = ["--epochs", "1", "--batch-size", "1", "--device", "cpu", "--precision", "fp32",
        "--size", "48x48", "--no-augment"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    import torch

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    save_checkpoint(path, checkpoint_from_model(build_model("segnet-basic", 3),
                                                SHAPES_LABELS.to_dict(), SIZE))
    return path


@pytest.fixture
def project(tmp_path) -> Path:
    """images/f00..f05.png; f00..f03 corrected in images/labels (with the label set)."""
    return shapes_folder(tmp_path / "images", [f"f{i:02d}.png" for i in range(6)],
                         corrected=4, seed=100, size=SIZE)


def _read(frame) -> np.ndarray:
    return read_image(frame.path)


# --------------------------------------------------------------------------- the policy

def test_a_frame_is_corrected_when_its_mask_is_in_the_labels_folder(project, tmp_path):
    found = find_frames(project)
    assert [c.frame.name for c in found.corrected] == ["f00.png", "f01.png", "f02.png",
                                                       "f03.png"]
    assert [f.name for f in found.uncorrected] == ["f04.png", "f05.png"]
    assert found.masks.root == project.resolve() / "labels"
    elsewhere = tmp_path / "masks"
    write_index_mask(elsewhere / "f05.png", np.zeros(SIZE, np.uint8), SHAPES_LABELS)
    found = find_frames(project, elsewhere)
    assert [c.frame.name for c in found.corrected] == ["f05.png"]
    with pytest.raises(DataError, match="neither a folder"):
        find_frames(tmp_path / "nothing")


def test_a_folder_gives_its_images_then_its_videos_frames_as_the_window_opens_it(project):
    """A folder holding images and a video: the video's corrected frames count too (the
    window fine-tunes on them from the same folder); a video that will not open is left
    out and said."""
    writer = cv2.VideoWriter(str(project / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 5.0,
                             (SIZE[1], SIZE[0]))
    for i in range(3):
        writer.write(np.full((*SIZE, 3), 40 * i, np.uint8))
    writer.release()
    write_index_mask(project / "labels" / "clip_000002.png", np.zeros(SIZE, np.uint8),
                     SHAPES_LABELS)
    (project / "broken.mp4").write_bytes(b"not a video at all")
    found = find_frames(project)
    assert [c.frame.name for c in found.corrected] == ["f00.png", "f01.png", "f02.png",
                                                       "f03.png", "clip.avi · frame 3"]
    assert [f.name for f in found.uncorrected] == ["f04.png", "f05.png", "clip.avi · frame 1",
                                                   "clip.avi · frame 2"]
    assert len(found.problems) == 1 and "broken.mp4" in found.problems[0]
    assert found.problems[0].endswith("its frames are left out")


def test_a_frame_whose_labels_would_share_a_mask_file_is_left_out_and_said(project):
    """As the window refuses it: f01.jpg beside f01.png would both be corrected by the one
    mask labels/f01.png, and trained on twice (a user's check)."""
    cv2.imwrite(str(project / "f01.jpg"), cv2.imread(str(project / "f04.png")))
    found = find_frames(project)
    names = [c.frame.name for c in found.corrected]
    assert names == ["f00.png", "f01.jpg", "f02.png", "f03.png"]  # by name: f01.jpg first
    assert "f01.png" not in [f.name for f in found.uncorrected]
    assert found.problems == [f"{project.resolve() / 'f01.png'}: its labels would be saved "
                              "as labels/f01.png, the mask file of f01.jpg; "
                              "rename one of them; left out"]


def test_a_link_that_leads_to_no_file_is_left_out_and_said(project):
    (project / "z.png").symlink_to(project / "nowhere.png")
    found = find_frames(project)
    assert len(found.corrected) == 4 and len(found.uncorrected) == 2
    assert found.problems == [f"{project / 'z.png'}: cannot be read: a symbolic link to "
                              f"{project / 'nowhere.png'}, which does not exist; left out"]
    empty = project / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="folder holds no images or videos"):
        find_frames(empty)


def test_masks_listed_as_saved_as_predicted_train_but_are_never_held_out(project):
    """labels/as_predicted.txt (the window lists a mask saved as a model's prediction) marks
    the frame: it trains, and no split holds it out to score a model on another model's
    labels; an unreadable list is said, and marks nothing."""
    from segnet_core.masks.labels_folder import AS_PREDICTED

    (project / "labels" / AS_PREDICTED.file).write_text("# saved as predicted\nf01.png\n")
    found = find_frames(project)
    assert [c.as_predicted for c in found.corrected] == [False, True, False, False]
    assert [c.scorable for c in found.corrected] == [True, False, True, True]
    for seed in range(6):
        _train, held = split_frames(4, 0.5, seed, [c.scorable for c in found.corrected])
        assert 1 not in held and held
    (project / "labels" / AS_PREDICTED.file).write_bytes(b"\xff\xfe not utf-8")
    found = find_frames(project)
    assert not any(c.as_predicted for c in found.corrected)
    assert any("as predicted" in problem for problem in found.problems), found.problems


def test_a_videos_frames_are_corrected_by_frame_number(tmp_path, tiny_model):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (48, 48))
    for i in range(5):
        writer.write(np.full((48, 48, 3), 20 * i, np.uint8))
    writer.release()
    labels = LabelsFolder.beside(video)
    for index in (1, 3):
        labels.save(f"clip_{index:06d}.png", np.zeros(SIZE, np.uint8), SHAPES_LABELS)
    found = find_frames(video)
    assert [c.frame.index for c in found.corrected] == [1, 3]
    assert [f.index for f in found.uncorrected] == [0, 2, 4]
    assert found.corrected[0].frame.name == "clip.avi · frame 2"  # as the window names it
    outcome = finetune_images(video, tmp_path / "v.pt", model=tiny_model,
                              settings=FineTuneSettings(epochs=1, holdout=0.5, augment=False,
                                                        device="cpu", precision="fp32"))
    frames = outcome.result.checkpoint.training["fine_tune"]["frames"]
    assert sorted(frames["train"] + frames["held_out"]) == ["clip.avi · frame 2",
                                                           "clip.avi · frame 4"]
    assert (tmp_path / "v.pt").is_file() and outcome.problems == []


def test_reading_leaves_out_unusable_frames_and_held_out_indices_follow(project):
    folder = LabelsFolder(project / "labels")
    frames = [CorrectedFrame(FrameSource(project / f"f0{i}.png")) for i in range(4)]
    (folder.root / "f01.png").unlink()  # its mask is gone
    in_memory = np.zeros((10, 12), np.uint8)  # held by the caller, the wrong size
    frames[2] = CorrectedFrame(frames[2].frame, in_memory)
    read = read_corrected(frames, SHAPES_LABELS, _read)
    assert read.names == ["f00.png", "f03.png"] and read.kept == [0, 3]
    assert [p.split(":")[0] for p in read.problems] == ["f01.png", "f02.png"]
    assert "gone" in read.problems[0]  # sizes as elsewhere: height x width
    assert read.problems[1] == "f02.png: mask is 10x12 (height x width) but the image is 48x48"
    assert remap_holdout((1, 3), read.kept) == (1,) and remap_holdout(0.25, read.kept) == 0.25
    # when none can be used, fine-tuning says why, not "correct at least one frame first"
    with pytest.raises(SegNetError, match=r"no corrected frame to fine-tune on could be read "
                                          r"\(f01.png: its saved mask is gone; f02.png: mask "
                                          r"is 10x12 \(height x width\) but the image is "
                                          r"48x48\)"):
        finetune_corrected(frames[1:3], SHAPES_LABELS, checkpoint_from_model(
            build_model("segnet-basic", 3), SHAPES_LABELS.to_dict(), SIZE),
            FineTuneSettings(epochs=1, device="cpu"), read_image=_read)


def test_the_corrected_mask_else_the_prediction():
    assert corrected_or_predicted("mask", "prediction") == ("mask", True)
    assert corrected_or_predicted(None, "prediction") == ("prediction", False)
    assert corrected_or_predicted(None, None) is None


def test_analysis_gives_a_balance_table_per_mode(project):
    frames = find_frames(project).corrected
    report = analyse_corrected(frames, SHAPES_LABELS, 0.25, read_image=_read)
    assert (report.train_count, report.held_count, report.problems) == (3, 1, [])
    assert set(report.rows) == set(Balance) and report.rows["natural"][0].weight == 1.0
    everything = analyse_corrected(frames, SHAPES_LABELS, (0, 1, 2, 3), read_image=_read)
    assert (everything.train_count, everything.held_count) == (4, 0)


def test_a_frame_with_few_labelled_pixels_trains_but_is_never_held_out(project):
    """A user's check: the panel held out a corrected 1x1 image to score the model on."""
    tiny = project / "f03.png"
    cv2.imwrite(str(tiny), cv2.imread(str(tiny))[:1, :1])
    write_index_mask(project / "labels" / "f03.png", np.ones((1, 1), np.uint8), SHAPES_LABELS)
    read = read_corrected(find_frames(project).corrected, SHAPES_LABELS, _read)
    assert read.names[3] == "f03.png" and read.scorable == [True, True, True, False]


def test_propagated_frames_not_accepted_are_never_held_out_and_train_only_when_asked(
        project, tmp_path, tiny_model):
    LabelsFolder(project / "labels").write_names(PROPAGATED, ["f02.png", "f03.png"])
    frames = find_frames(project).corrected
    assert [c.reviewed for c in frames] == [True, True, False, False]
    read = read_corrected(frames, SHAPES_LABELS, _read)
    assert read.scorable == [True, True, False, False]
    for seed in range(6):  # half of the two reviewed frames: f00 or f01, never f02 or f03
        report = analyse_corrected(frames, SHAPES_LABELS, 0.5, read_image=_read, seed=seed)
        assert (report.train_count, report.held_count) == (3, 1)
    left_out = analyse_corrected(frames, SHAPES_LABELS, 0.5, read_image=_read,
                                 train_propagated=False)
    assert (left_out.train_count, left_out.held_count) == (1, 1)
    messages = []
    for seed in (0, 1, 2):
        outcome = finetune_corrected(frames, SHAPES_LABELS, tiny_model, FineTuneSettings(
            epochs=1, holdout=0.5, augment=False, device="cpu", precision="fp32", seed=seed),
            read_image=_read, progress=lambda e: messages.append(str(e)))
        chosen = outcome.result.checkpoint.training["fine_tune"]["frames"]
        assert chosen["held_out"] in (["f00.png"], ["f01.png"])
        assert {"f02.png", "f03.png"} <= set(chosen["train"]) and len(chosen["train"]) == 3
    outcome = finetune_corrected(frames, SHAPES_LABELS, tiny_model, FineTuneSettings(
        epochs=1, holdout=0.0, augment=False, device="cpu", precision="fp32",
        train_propagated=False), read_image=_read, progress=lambda e: messages.append(str(e)))
    assert outcome.result.checkpoint.training["fine_tune"]["frames"]["train"] == [
        "f00.png", "f01.png"]
    assert "left out 2 frame(s) with propagated labels not accepted yet" in messages
    LabelsFolder(project / "labels").write_names(PROPAGATED, ["f00.png", "f01.png", "f02.png",
                                                              "f03.png"])
    with pytest.raises(SegNetError, match="all 4 corrected frame.s. hold propagated labels "
                                          "not accepted yet"):
        finetune_corrected(find_frames(project).corrected, SHAPES_LABELS, tiny_model,
                           FineTuneSettings(epochs=1, train_propagated=False),
                           read_image=_read)


def test_the_record_counts_every_uncorrected_frame_not_only_those_read(project, tiny_model):
    """The drift reads at most `unlabelled_limit` uncorrected frames; the panel's "spread over
    the N uncorrected ones" must count them all (a review found 100 said of thousands)."""
    found = find_frames(project)
    assert len(found.uncorrected) == 2
    outcome = finetune_corrected(found.corrected, SHAPES_LABELS, tiny_model, FineTuneSettings(
        epochs=1, holdout=0.0, augment=False, device="cpu", precision="fp32",
        unlabelled_limit=1), read_image=_read, uncorrected=found.uncorrected)
    record = outcome.result.checkpoint.training["fine_tune"]
    assert (record["drift_frames"], record["uncorrected_frames"]) == (1, 2)


def test_frames_labelled_as_the_model_predicted_train_but_are_never_held_out(
        project, tiny_model):
    """A frame whose labels are the current model's prediction taken as it is would score the
    model against itself (100 %, and any new model 'worse'): it trains, never held out."""
    from dataclasses import replace as with_
    masks = LabelsFolder(project / "labels")
    saved = {name: masks.read(name, SHAPES_LABELS) for name in ("f02.png", "f03.png")}
    other = saved["f03.png"].copy()
    other[: other.shape[0] // 4] = (other[: other.shape[0] // 4] + 1) % 3  # a quarter differs
    # f00 known as predicted by the caller; f02's saved mask is the prediction given (an
    # earlier session's Accept + Save); f03's differs from the prediction given
    frames = [with_(c, as_predicted=c.frame.name == "f00.png",
                    prediction={"f02.png": saved["f02.png"], "f03.png": other}.get(c.frame.name))
              for c in find_frames(project).corrected]
    assert [c.scorable for c in frames] == [False, True, True, True]  # before reading
    assert read_corrected(frames, SHAPES_LABELS, _read).scorable == [False, True, False, True]
    for seed in range(6):  # half of the two scorable frames: f01 or f03
        report = analyse_corrected(frames, SHAPES_LABELS, 0.5, read_image=_read, seed=seed)
        assert (report.train_count, report.held_count) == (3, 1)
    for seed in (0, 1):
        outcome = finetune_corrected(frames, SHAPES_LABELS, tiny_model, FineTuneSettings(
            epochs=1, holdout=0.5, augment=False, device="cpu", precision="fp32", seed=seed),
            read_image=_read)
        chosen = outcome.result.checkpoint.training["fine_tune"]["frames"]
        assert chosen["held_out"] in (["f01.png"], ["f03.png"])
        assert {"f00.png", "f02.png"} <= set(chosen["train"])


def test_settings_share_the_training_options_and_store_plain_values():
    settings = FineTuneSettings(balance="natural", start="scratch", minutes=2.0, seed=5)
    assert settings.balance is Balance.NATURAL and settings.start is StartMode.SCRATCH
    config = settings.train_config("segnet-basic", SIZE)
    assert (config.epochs, config.balance, config.minutes, config.seed, config.lr) == \
        (24, "natural", 2.0, 5, pytest.approx(0.1))
    for data in (settings.to_dict(), config.to_dict()):
        assert type(data["balance"]) is str and json.loads(json.dumps(data)) == data
    assert type(settings.to_dict()["start"]) is str
    assert BALANCE_MODES == ("median", "natural") and f"{Balance.MEDIAN}" == "median"
    with pytest.raises(SegNetError, match="time budget"):
        FineTuneSettings(minutes=0).validate()


def test_a_time_budget_stops_training():
    config = TrainConfig(model="segnet-basic", size=SIZE, epochs=1000, batch_size=4,
                         augment=False, device="cpu", precision="fp32", minutes=0.02)
    result = Trainer(config, shapes_dataset(4, 0, SIZE)).run()
    assert result.stopped == StopReason.TIME_LIMIT and 1 <= result.epochs_completed < 1000


def test_a_time_budgets_last_quarter_runs_at_a_tenth_of_the_rate():
    """A newcomer's check: `finetune --minutes 1` said "x0.1 after epoch 750" of the 1000
    it may run, and ran one epoch: the recipe's last quarter never came. With a time budget
    the drop comes after three quarters of the time."""
    config = FineTuneSettings(minutes=0.05, augment=False, device="cpu", precision="fp32",
                              lr=0.01, epochs=1000).train_config("segnet-basic", SIZE)
    assert config.lr_drops == (750,) and config.lr_drop_time == 0.75  # whichever first
    assert config.learning_rate_at(0, 0.0) == config.learning_rate_at(749, 0.037) == 0.01
    assert config.learning_rate_at(0, 0.038) == pytest.approx(0.001)
    assert config.learning_rate_at(750, 0.0) == config.learning_rate_at(750, 0.04) == \
        pytest.approx(0.001)  # one drop, not two (a review: a GPU reaching the epochs first
    # trained the whole way at the full rate)
    rates, seen = [], []
    trainer = Trainer(config, shapes_dataset(4, 0, SIZE),
                      progress=lambda event: seen.append(event))
    step = trainer._train_step
    trainer._train_step = lambda batch: (rates.append(trainer.optimizer.param_groups[0]["lr"]),
                                         step(batch))[1]
    assert trainer.run().stopped == StopReason.TIME_LIMIT
    assert rates[0] == 0.01 and rates[-1] == pytest.approx(0.001)
    assert "x0.1 after epoch 750 or after 0.0375 min of the 0.05-minute limit, whichever comes " \
        "first" in \
        str(seen[0])


def test_a_progress_sink_gets_each_kind_of_event():
    seen = []

    class Sink(ProgressSink):
        def message(self, text):
            seen.append(("message", text))

        def step(self, progress):
            seen.append(("step", progress.global_step))

        def validated(self, record):
            seen.append(("validated", record.miou))

    sink = Sink()
    sink(Message("hello"))
    sink(StepProgress(0, 1, 1, 1, 7, 7, 0.5, 1.0, 0.0))
    sink(ValidationRecord(1, 7, 0.5, 0.9, 0.8, 0.25, 0.1, 1.0, 4.0))
    assert seen == [("message", "hello"), ("step", 7), ("validated", 0.25)]
    assert str(Message("hello")) == "hello"


# --------------------------------------------------------------------------- the job

def test_finetune_corrected_keeps_the_original_and_the_new_version(project, tiny_model):
    folder = versions_folder(project / "f00.png")
    assert folder == project / "labels" / "models"
    events = []
    outcome = finetune_corrected(
        find_frames(project).corrected, SHAPES_LABELS, tiny_model,
        FineTuneSettings(epochs=1, batch_size=1, augment=False, device="cpu",
                         precision="fp32"),
        read_image=_read, versions=ModelVersions(folder), progress=events.append)
    assert outcome.base_version.id == "v001" and outcome.version.id == "v002"
    listed = ModelVersions(folder).list()[-1]  # its held-out figures, as read back
    figures = outcome.result.after_json["global_accuracy"], outcome.result.after_json["miou"]
    assert (listed.g_after, listed.miou_after) == pytest.approx(figures)
    assert listed.g_before == pytest.approx(outcome.result.before_json["global_accuracy"])
    assert ModelVersions(folder).current.id == "v001"  # used once the user accepts it
    assert outcome.result.stopped == StopReason.FINISHED
    assert outcome.result.checkpoint.training["fine_tune"]["stopped"] == "finished"
    assert isinstance(events[0], Message) and "reading 4" in events[0].text


def test_a_round_from_the_original_file_again_names_its_saved_copy_as_parent(project,
                                                                             tiny_model):
    """The first round saves the model file in use as v001; a second round started from that
    same file (the first not used, or cancelled) is v001's child too, not an orphan."""
    folder = versions_folder(project / "f00.png")
    settings = FineTuneSettings(epochs=1, batch_size=1, augment=False, device="cpu",
                                precision="fp32")
    for expected in ("v002", "v003"):
        outcome = finetune_corrected(find_frames(project).corrected, SHAPES_LABELS,
                                     tiny_model, settings, read_image=_read,
                                     versions=ModelVersions(folder))
        assert outcome.version.id == expected and outcome.version.parent == "v001"
    assert [v.parent for v in ModelVersions(folder).list()] == [None, "v001", "v001"]
    assert ModelVersions(folder).saved_from(tiny_model).id == "v001"
    assert ModelVersions(folder).saved_from(project / "f00.png") is None


def test_a_second_round_holds_out_a_frame_the_model_in_use_was_not_trained_on(project,
                                                                            tiny_model):
    """A model fine-tuned on f00, f01 and f03 scores itself on what it learnt there: the
    drawn held-out frame is f02, whatever the seed; when it learnt every frame, the one
    held out is said to flatter it, in the run's messages and in the panel's preview."""
    base = load_checkpoint(tiny_model)

    def learnt(*names):
        return replace(base, training={"fine_tune": {"frames": {"train_all": list(names)}}})

    corrected = find_frames(project).corrected
    for seed in range(3):
        settings = FineTuneSettings(epochs=1, batch_size=1, augment=False, device="cpu",
                                    precision="fp32", seed=seed, samples_per_epoch=2)
        events = []
        outcome = finetune_corrected(corrected, SHAPES_LABELS,
                                     learnt("f00.png", "f01.png", "f03.png"), settings,
                                     read_image=_read, progress=events.append)
        assert outcome.result.checkpoint.training["fine_tune"]["frames"]["held_out"] == [
            "f02.png"]
        assert not any("flatters" in getattr(e, "text", "") for e in events)
        preview = analyse_corrected(corrected, SHAPES_LABELS, 0.25, read_image=_read,
                                    seed=seed, trained_on=frozenset({"f00.png", "f01.png",
                                                                     "f03.png"}))
        assert preview.held_names == ["f02.png"] and preview.held_known == []
    events = []
    outcome = finetune_corrected(corrected, SHAPES_LABELS,
                                 learnt("f00.png", "f01.png", "f02.png", "f03.png"), settings,
                                 read_image=_read, progress=events.append)
    held = outcome.result.checkpoint.training["fine_tune"]["frames"]["held_out"]
    assert len(held) == 1
    said = [e.text for e in events if "flatters" in getattr(e, "text", "")]
    assert said == [f"held out {held[0]}, which the model in use was trained on (too few other "
                    f"frames could be): its 'before' figure flatters it"]
    preview = analyse_corrected(corrected, SHAPES_LABELS, 0.25, read_image=_read, seed=seed,
                                trained_on=frozenset(f"f0{i}.png" for i in range(4)))
    assert preview.held_known == preview.held_names == held


def test_the_finetune_command_end_to_end(project, tiny_model, tmp_path, capsys):
    out = tmp_path / "tuned.pt"
    assert cli.main(["finetune", "--images", str(project), "--model", str(tiny_model),
                     "--out", str(out), *FAST]) == 0
    captured = capsys.readouterr()
    assert "held-out frames: 1 (3 trained)" in captured.out
    assert "held-out frame(s) (rough: so few frames)" in captured.out  # the verdict's line
    assert "mIoU" in captured.out and "IoU before" in captured.out
    assert "train [" in captured.err and "nan" not in captured.err  # no empty scores
    held = load_checkpoint(out).training["fine_tune"]["frames"]["held_out"]
    assert f"3 training frames, 1 held out ({held[0]}); segnet-basic from" in captured.err
    assert "evaluating the fine-tuned model" in captured.err
    tuned = load_checkpoint(out)
    record = tuned.training["fine_tune"]
    assert record["frames"]["train"] + record["frames"]["held_out"] != []
    assert sorted(record["frames"]["train"] + record["frames"]["held_out"]) == [
        "f00.png", "f01.png", "f02.png", "f03.png"]
    assert record["recipe"]["epochs"] == 1 and record["recipe"]["balance"] == "median"
    assert not (project / "labels" / "models").exists()  # headless keeps no versions
    predicted = tmp_path / "predicted"
    assert cli.main(["predict", str(project / "f05.png"), "--model", str(out), "--out",
                     str(predicted), "--device", "cpu", "--precision", "fp32"]) == 0
    labels = read_mask(predicted / "f05.png", tuned.label_set())
    assert labels.shape == SIZE and labels.max() < 3


def test_the_finetune_command_can_leave_out_propagated_frames(project, tiny_model, tmp_path,
                                                             capsys):
    LabelsFolder(project / "labels").write_names(PROPAGATED, ["f02.png", "f03.png"])
    out = tmp_path / "tuned.pt"
    assert cli.main(["finetune", "--images", str(project), "--model", str(tiny_model),
                     "--out", str(out), "--leave-out-propagated", *FAST]) == 0
    assert "left out 2 frame(s) with propagated labels not accepted yet" in \
        capsys.readouterr().err
    frames = load_checkpoint(out).training["fine_tune"]["frames"]
    assert sorted(frames["train"] + frames["held_out"]) == ["f00.png", "f01.png"]
    (project / "labels" / PROPAGATED.file).write_bytes(b"\xff\xfe not utf-8")
    assert cli.main(["finetune", "--images", str(project), "--model", str(tiny_model),
                     "--out", str(out), "--leave-out-propagated", *FAST]) == 0
    err = capsys.readouterr().err  # said, and every frame counts as reviewed
    assert "propagated.txt" in err and "its frames count as reviewed" in err
    frames = load_checkpoint(out).training["fine_tune"]["frames"]
    assert len(frames["train"] + frames["held_out"]) == 4


def test_the_finetune_command_refuses_what_it_cannot_use(project, tiny_model, tmp_path,
                                                         capsys):
    empty = tmp_path / "no-masks"
    empty.mkdir()
    args = ["finetune", "--images", str(project), "--model", str(tiny_model), "--out",
            str(tmp_path / "x.pt")]
    assert cli.main(args + ["--masks", str(empty)]) == 2
    assert "no frame has a mask" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(args + ["--epochs", "2", "--minutes", "1"])
    assert not (tmp_path / "x.pt").exists()


def test_the_finetune_command_refuses_an_out_it_cannot_write_before_training(
        project, tiny_model, tmp_path, capsys):
    args = ["finetune", "--images", str(project), "--model", str(tiny_model), *FAST]
    assert cli.main(args + ["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"error: cannot write {tmp_path}: is a folder" in err and "train [" not in err
    missing = tmp_path / "gone" / "tuned.pt"
    assert cli.main(args + ["--out", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"its folder {missing.parent} does not exist; nothing was trained" in err
    assert "train [" not in err and not missing.parent.exists()


def test_a_model_that_cannot_be_saved_at_the_end_is_saved_elsewhere(project, tiny_model,
                                                                     tmp_path, monkeypatch,
                                                                     capsys):
    import errno

    from segnet_core.finetune import headless

    out = tmp_path / "tuned.pt"
    save = headless.save_checkpoint
    full = {out}  # these paths' disk is full

    def save_unless_full(path, checkpoint):
        if Path(path) in full or Path(path).parent in full:
            raise OSError(errno.ENOSPC, "No space left on device")
        save(path, checkpoint)

    monkeypatch.setattr(headless, "save_checkpoint", save_unless_full)
    assert cli.main(["finetune", "--images", str(project), "--model", str(tiny_model),
                     "--out", str(out), *FAST]) == 1
    captured = capsys.readouterr()
    assert "mIoU" in captured.out  # the before / after table is still shown
    [kept] = (project / "labels").glob("tuned-*.pt")  # beside the masks
    assert f"error: {out}: cannot write: No space left on device; the fine-tuned model is " \
           f"saved in {kept} instead" in captured.err
    assert "Traceback" not in captured.err and not out.exists()
    assert load_checkpoint(kept).training["fine_tune"]["recipe"]["epochs"] == 1
    full.add(project / "labels")  # the masks' disk is full too: the temporary folder
    monkeypatch.setattr(headless.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    settings = FineTuneSettings(epochs=1, batch_size=2, augment=False, device="cpu",
                                precision="fp32")
    with pytest.raises(headless.ModelNotSavedError) as raised:
        finetune_images(project, out, model=tiny_model, settings=settings)
    [kept] = (tmp_path / "tmp").glob("tuned-*.pt")
    assert raised.value.fallback == kept and raised.value.path == out
    assert raised.value.outcome.result.checkpoint is not None
    assert len(list((project / "labels").glob("tuned-*.pt"))) == 1  # no empty file left


def test_the_table_says_when_nothing_was_measured(project, tiny_model, tmp_path):
    outcome = finetune_images(project, tmp_path / "t.pt", model=tiny_model,
                              settings=FineTuneSettings(epochs=1, batch_size=2, holdout=0.0,
                                                        augment=False, device="cpu",
                                                        precision="fp32"))
    assert (tmp_path / "t.pt").is_file()
    assert "none held out" in before_after_table(outcome.result)


def test_the_verdict_weighs_miou_and_pixel_accuracy_together():
    """On a frame or two, stray pixels of a class the frames do not show cost mIoU a whole
    class: a model that gets more pixels right but scores lower mIoU is mixed, not worse."""
    def scores(miou, g):
        return {"miou": miou, "global_accuracy": g}

    old = scores(0.84, 0.93)
    assert verdict(old, scores(0.65, 0.95)) == Verdict.MIXED
    assert verdict(old, scores(0.86, 0.92)) == Verdict.MIXED
    assert verdict(old, scores(0.65, 0.90)) == Verdict.WORSE
    assert verdict(old, scores(0.84, 0.90)) == Verdict.WORSE
    assert verdict(old, scores(0.90, 0.93)) == Verdict.BETTER
    assert verdict(old, scores(0.84, 0.93)) == Verdict.SAME
    assert verdict(None, scores(0.5, 0.5)) is None
    assert verdict(old, scores(None, 0.9)) is None
    assert headline(old, scores(0.65, 0.95), 1) == (
        "mIoU 84.0 -> 65.0 %, G 93.0 -> 95.0 % on 1 held-out frame(s) (rough: so "
        "few frames). Mixed: G rose, mIoU fell")
    assert headline(old, scores(0.80, 0.90), 4, drift=0.05) == (
        "mIoU 84.0 -> 80.0 %, G 93.0 -> 90.0 % on 4 held-out frame(s); drift "
        "5.0 %. The new model scores WORSE than the current one on the held-out frames")
    assert headline(None, None, 0) == "No held-out frames: no before / after figures"
    assert headline(old, scores(0.85, 0.93), 3).endswith(" on 3 held-out frame(s). The new "
                                                          "model scores better")
    # judged as shown, to 0.1 point: a change too small to see is no change
    assert verdict(old, scores(0.84004, 0.92996)) == Verdict.SAME
    assert headline(old, scores(0.84004, 0.92996), 3).endswith(". No change")
