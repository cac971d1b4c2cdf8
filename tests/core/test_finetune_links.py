"""Frames linked by propagation (`labels/propagated_from.txt`) are held out together or not at
all: a fine-tune never trains on labels carried from or to a frame it scores itself on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
from segnet_core.errors import SegNetError
from segnet_core.finetune import (FineTuneSettings, analyse_corrected, find_frames,
                                  finetune_images, split_frames)
from segnet_core.finetune.links import link_groups, link_line, parse_link
from segnet_core.io.images import read_image
from segnet_core.masks.labels_folder import PROPAGATED, PROPAGATED_FROM, LabelsFolder
from segnet_core.models import build_model
from segnet_core.train_events import Message
from tests.core.synthetic import SHAPES_LABELS, shapes_folder

SIZE = (48, 48)


def test_a_link_line_reads_back_and_other_lines_are_no_link():
    line = link_line("clip_000022.png", "clip_000020.png")
    assert line == "clip_000022.png <- clip_000020.png"
    assert parse_link(line) == ("clip_000022.png", "clip_000020.png")
    assert parse_link("  a.png <-  b.png ") == ("a.png", "b.png")
    for not_a_link in ("a.png", "a.png <- ", " <- b.png", "a.png <- a.png", "a.png -> b.png"):
        assert parse_link(not_a_link) is None


def test_link_groups_are_transitive_within_a_folder_and_name_unlinked_frames_none(tmp_path):
    one, two = LabelsFolder(tmp_path / "one"), LabelsFolder(tmp_path / "two")
    lines = {one: {"c.png <- b.png", "b.png <- a.png", "e.png <- d.png", "junk"},
             two: {"b.png <- a.png"}}
    asked = []

    def read(folder):
        asked.append(folder)
        return lines[folder]

    masks = [(one, "a.png"), (one, "c.png"), (one, "e.png"), (one, "d.png"), (one, "x.png"),
             (two, "a.png"), (two, "b.png"), (two, "c.png"), (one, "b.png")]
    groups = link_groups(masks, read)
    # a <- b <- c through b, which need not be among the frames asked about
    assert groups[0] == groups[1] == groups[8] == str(one.root / "a.png")
    assert groups[2] == groups[3] == str(one.root / "d.png")
    assert groups[4] is None and groups[7] is None
    assert groups[5] == groups[6] == str(two.root / "a.png") != groups[0]  # another folder
    assert asked == [one, two]  # each folder's list asked once


def test_a_drawn_share_holds_linked_frames_out_together_and_sets_their_others_aside():
    # frames 0-3 linked, 4-5 linked (5 not scorable: its labels not accepted yet), 6-7 on
    # their own; half of the 7 scorable frames, rounded, is 4
    groups = ["a"] * 4 + ["b"] * 2 + [None] * 2
    scorable = [True] * 5 + [False] + [True] * 2
    seen = set()
    for seed in range(40):
        train, held = split_frames(8, 0.5, seed, scorable, groups=groups)
        aside = set(range(8)) - set(train) - set(held)
        assert not set(train) & set(held) and len(held) <= 4
        if set(held) & {0, 1, 2, 3}:
            seen.add("a")
            assert {0, 1, 2, 3} == set(held)  # all of it, or none
        if 4 in held:
            seen.add("b")
            assert aside == {5}
        else:
            assert not aside
        assert set(train) & {0, 1, 2, 3, 4, 6, 7}  # a scorable frame always trains
    assert seen == {"a", "b"}
    # without links, the same draw as before
    for seed in range(10):
        assert split_frames(8, 0.5, seed, scorable, groups=[None] * 8) == \
            split_frames(8, 0.5, seed, scorable)


def test_a_group_that_would_set_frames_aside_is_held_out_only_when_no_other_fits():
    """Frame 0 accepted, frames 1-30 carried from it and not accepted (they train), ten
    frames of their own: holding out frame 0 would take thirty frames from training."""
    groups = ["g"] * 31 + [None] * 10
    scorable = [True] + [False] * 30 + [True] * 10
    for seed in range(60):
        train, held = split_frames(41, 0.25, seed, scorable, groups=groups)
        assert 0 not in held and len(held) == 3 and len(train) == 38
    # only such groups: still held out, the one setting fewer aside first
    groups = ["a", "a", "a", "b", "b"]
    scorable = [True, False, False, True, False]
    for seed in range(10):
        assert split_frames(5, 0.5, seed, scorable, groups=groups) == ([0, 1, 2], [3])


def test_when_no_group_fits_the_share_the_smallest_that_leaves_one_to_train_is_held_out():
    groups = ["a", "a", "a", "b", "b", "c", "c", "c"]
    for seed in range(10):
        train, held = split_frames(8, 0.1, seed, groups=groups)  # a share of 1 frame
        assert held == [3, 4] and train == [0, 1, 2, 5, 6, 7]
    # one group holding every scorable frame: nothing can be held out
    assert split_frames(4, 0.5, 0, [True, True, False, True], groups=["g"] * 4) == (
        [0, 1, 2, 3], [])


def test_a_group_holding_a_frame_the_model_learnt_is_held_out_last():
    groups = ["a", "a", None, None, "b", "b"]
    known = [False, True, False, False, False, False]
    for seed in range(12):
        held = split_frames(6, 0.3, seed, known=known, groups=groups)[1]
        assert not set(held) & {0, 1}


def test_explicit_held_out_frames_set_aside_the_frames_linked_to_them():
    groups = ["a", "a", None, "a", None]
    assert split_frames(5, (1,), groups=groups) == ([2, 4], [1])
    with pytest.raises(SegNetError, match="linked by propagation to a held-out one"):
        split_frames(3, (0,), groups=["a", "a", "a"])
    with pytest.raises(SegNetError, match="3 groups for 4 frames"):
        split_frames(4, 0.5, groups=["a"] * 3)


@pytest.fixture
def project(tmp_path) -> Path:
    """images/f00..f05.png, all six corrected in images/labels."""
    return shapes_folder(tmp_path / "images", [f"f{i:02d}.png" for i in range(6)],
                         corrected=6, seed=7, size=SIZE)


def _link(project: Path, *lines: str) -> None:
    LabelsFolder(project / "labels").write_names(PROPAGATED_FROM, set(lines))


def test_find_frames_reads_the_links_and_says_when_it_cannot(project):
    _link(project, "f01.png <- f00.png", "f02.png <- f01.png", "f05.png <- f04.png")
    text = (project / "labels" / PROPAGATED_FROM.file).read_text()
    assert text.startswith("# Frames whose labels were propagated") and "<mask> <-" in text
    found = find_frames(project)
    groups = [c.group for c in found.corrected]
    assert groups[0] == groups[1] == groups[2] is not None and groups[3] is None
    assert groups[4] == groups[5] not in (None, groups[0])
    (project / "labels" / PROPAGATED_FROM.file).write_bytes(b"\xff\xfe not utf-8")
    found = find_frames(project)
    assert all(c.group is None for c in found.corrected)
    assert any("held out apart" in problem for problem in found.problems), found.problems


def test_the_analysis_names_the_frames_set_aside_and_why_nothing_is_held_out(project):
    _link(project, "f01.png <- f00.png", "f02.png <- f01.png")
    found = find_frames(project)
    read = lambda frame: read_image(frame.path)  # noqa: E731
    ticked = analyse_corrected(found.corrected, SHAPES_LABELS, (1,), read_image=read,
                               masks=found.masks)
    assert ticked.held_names == ["f01.png"] and ticked.set_aside == ["f00.png", "f02.png"]
    assert ticked.train_count == 3 and ticked.note == ""
    _link(project, "f01.png <- f00.png", "f02.png <- f01.png", "f04.png <- f03.png")
    found = find_frames(project)
    # frames carried to are partly the model's own: never drawn to score it
    assert [c.carried for c in found.corrected] == [False, True, True, False, True, False]
    for seed in range(8):  # a share of 2 of f00, f03, f05: those setting fewer aside first
        share = analyse_corrected(found.corrected, SHAPES_LABELS, 0.67, read_image=read,
                                  masks=found.masks, seed=seed)
        assert share.held_names == ["f03.png", "f05.png"] and share.set_aside == ["f04.png"]
        assert share.note == ""
    # f01 carried from f00 and from f02: those two are held out together or not at all
    _link(project, "f01.png <- f00.png", "f01.png <- f02.png", "f04.png <- f03.png")
    found = find_frames(project)
    held = set()
    for seed in range(24):  # a share of 3 of f00, f02, f03, f05: the pair and f05, or fewer
        share = analyse_corrected(found.corrected, SHAPES_LABELS, 0.75, read_image=read,
                                  masks=found.masks, seed=seed)
        held.add(tuple(share.held_names))
        assert share.note == ("" if share.held_count == 3 else "fewer than the share's 3: "
                              "frames linked by propagation are held out together")
    assert held == {("f00.png", "f02.png", "f05.png"), ("f03.png", "f05.png")}
    _link(project, *(f"f0{i + 1}.png <- f0{i}.png" for i in range(5)))  # one chain
    found = find_frames(project)
    share = analyse_corrected(found.corrected, SHAPES_LABELS, 0.25, read_image=read,
                              masks=found.masks)
    assert share.held_count == 0 and share.train_count == 6 and not share.set_aside
    # only f00 may score a model: the others were carried to
    assert share.note.startswith("nothing held out: 1 of the 6 frames may score a model (the "
                                 "others' labels are partly a model's own: propagated")
    # every one carried to from a frame left out of the corrected ones: none may score
    _link(project, *(f"f0{i}.png <- g.png" for i in range(6)))
    found = find_frames(project)
    share = analyse_corrected(found.corrected, SHAPES_LABELS, 0.25, read_image=read,
                              masks=found.masks)
    assert share.held_count == 0 and share.note == (
        "nothing held out: 0 of the 6 frames may score a model (the others' labels are partly "
        "a model's own: propagated from another frame, or saved as predicted; or too few of "
        "their pixels are labelled, under 1,024)")
    # f00 and f02 may, but are linked (both carried to f01): held out together, no frame
    # that may score a model would train
    _link(project, "f01.png <- f00.png", "f01.png <- f02.png", "f03.png <- f00.png",
          "f04.png <- f02.png", "f05.png <- f04.png")
    found = find_frames(project)
    share = analyse_corrected(found.corrected, SHAPES_LABELS, 0.25, read_image=read,
                              masks=found.masks)
    assert share.held_count == 0 and share.train_count == 6
    assert share.note.startswith("nothing held out: the frames that could be are linked")
    assert "count its frames" not in share.note  # images: no video frame to name
    ticked = analyse_corrected(found.corrected, SHAPES_LABELS, (2,), read_image=read,
                               masks=found.masks)
    assert ticked.held_count == 0 and ticked.train_count == 6
    assert ticked.note.startswith("Train would refuse these ticks: every frame not held out "
                                  "is linked by propagation to a held-out one")


def test_a_fine_tune_never_trains_on_a_frame_linked_to_one_it_holds_out(project, tmp_path):
    """f01 and f02 were carried from f00 (f02 not accepted yet); f00 held out sets both
    aside, says so, and the run's record names neither among the training frames."""
    import torch

    torch.manual_seed(0)
    model = tmp_path / "tiny.pt"
    save_checkpoint(model, checkpoint_from_model(build_model("segnet-basic", 3),
                                                 SHAPES_LABELS.to_dict(), SIZE))
    _link(project, "f01.png <- f00.png", "f02.png <- f00.png")
    LabelsFolder(project / "labels").write_names(PROPAGATED, {"f02.png"})
    said = []
    outcome = finetune_images(
        project, tmp_path / "v.pt", model=model,
        settings=FineTuneSettings(epochs=1, holdout=(0,), augment=False, device="cpu",
                                  precision="fp32", batch_size=2),
        progress=lambda event: said.append(event.text) if isinstance(event, Message)
        else None)
    frames = outcome.result.checkpoint.training["fine_tune"]["frames"]
    assert frames["held_out"] == ["f00.png"]
    assert frames["train"] == ["f03.png", "f04.png", "f05.png"], frames
    assert frames["set_aside"] == ["f01.png", "f02.png"]
    assert "set aside f01.png, f02.png: linked by propagation to a held-out frame, so they do " \
        "not train this round" in said, said
    assert outcome.result.held_out_indices == [0] and outcome.result.train_indices == [1, 2, 3]


def test_the_nothing_held_out_note_names_a_mask_of_the_users_own_video():
    """Its example of how masks count a video's frames is one of the frames listed, not a
    made-up file a user took for theirs."""
    from segnet_core.finetune.project import _mask_name_example

    assert _mask_name_example(["a.png", "clip.avi · frame 5", "clip.avi · frame 6"]) == (
        "; a video's masks count its frames from 0: clip.avi's frame 5 is clip_000004.png")
    assert _mask_name_example(["a.png", "b · frame x.png"]) == ""
