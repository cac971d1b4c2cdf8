"""FrameLabels on its own: one undo step per edit, the undo limit, dirty and started."""

import numpy as np

from app.editing.frame_labels import UNDO_LIMIT, FrameLabels
from segnet_core.masks.edits import paint_disc_segment, replace_mask

VOID = 3


def make(mask=None, from_file=False):
    mask = np.full((20, 30), VOID, np.uint8) if mask is None else mask
    return FrameLabels("key", mask, from_file=from_file)


def dab(labels, x, y, value, radius=2):
    labels.paint(paint_disc_segment(labels.mask, (x, y), (x, y), radius, value))


def test_a_stroke_of_many_patches_is_one_undo_step_holding_only_its_box(qapp):
    labels = make()
    regions = []
    labels.regionChanged.connect(lambda *r: regions.append(r))
    for x in range(5, 15):
        dab(labels, x, 10, 1)
    assert labels.started and labels.editing and labels.undo_stack.count() == 0
    assert labels.commit("Brush stroke")
    assert labels.undo_stack.count() == 1 and labels.dirty
    command = labels.undo_stack.command(0)
    assert (command.patch.y0, command.patch.x0, command.patch.height,
            command.patch.width) == (8, 3, 5, 14)
    assert regions[0] == (8, 3, 5, 5)  # each dab redrew only its own box
    painted = labels.mask.copy()
    labels.undo_stack.undo()
    assert (labels.mask == VOID).all() and not labels.started and not labels.dirty
    labels.undo_stack.redo()
    assert np.array_equal(labels.mask, painted)


def test_the_undo_limit_keeps_the_last_steps(qapp):
    labels = make(np.zeros((40, 400), np.uint8))
    assert UNDO_LIMIT >= 200
    for i in range(UNDO_LIMIT + 10):
        dab(labels, i % 400, 20, 1 + i % 2, radius=0.5)
        labels.commit("dab")
    assert labels.undo_stack.count() == UNDO_LIMIT
    assert labels.value_counts()[1] + labels.value_counts()[2] == UNDO_LIMIT + 10


def test_cancel_takes_the_stroke_back_and_saving_marks_clean(qapp):
    labels = make(from_file=True)
    dab(labels, 10, 10, 2)
    labels.cancel()
    assert (labels.mask == VOID).all() and labels.undo_stack.count() == 0
    assert labels.apply(replace_mask(labels.mask, np.zeros_like(labels.mask)), "all zero")
    assert labels.dirty
    labels.mark_saved()
    assert not labels.dirty
    labels.mark_unsaved()  # the write failed
    assert labels.dirty
    assert not labels.apply(None, "nothing")
    counts = labels.value_counts()
    assert counts[0] == labels.mask.size and counts[VOID] == 0


def test_the_saved_mask_is_rebuilt_from_the_history_while_it_reaches_it(qapp):
    """`saved_mask` is the mask read from the file, then the one last marked saved, across
    steps done, undone past the save and in progress; unknown without a file, or once the
    history no longer reaches it (a failed save, the undo limit)."""
    read = np.arange(600, dtype=np.uint8).reshape(20, 30) % 3
    assert make(read.copy()).saved_mask() is None  # opened without a file
    labels = make(read.copy(), from_file=True)
    assert np.array_equal(labels.saved_mask(), read)
    dab(labels, 5, 5, 2)
    labels.commit("dab")
    assert not np.array_equal(labels.mask, read)
    assert np.array_equal(labels.saved_mask(), read)
    labels.mark_saved()
    saved = labels.mask.copy()
    dab(labels, 20, 10, 1)
    labels.commit("dab")
    dab(labels, 25, 15, 0)  # a stroke in progress
    assert np.array_equal(labels.saved_mask(), saved)
    labels.cancel()
    labels.undo_stack.undo()
    labels.undo_stack.undo()  # undone past the save: back to what was read
    assert np.array_equal(labels.mask, read)
    assert np.array_equal(labels.saved_mask(), saved)
    labels.mark_unsaved()  # a failed save: what is on disk is not known
    assert labels.saved_mask() is None

    labels = make(np.zeros((40, 400), np.uint8), from_file=True)
    labels.mark_saved()
    for i in range(UNDO_LIMIT + 1):  # the step after the save falls off the history
        dab(labels, i % 400, 20, 1 + i % 2, radius=0.5)
        labels.commit("dab")
    assert labels.saved_mask() is None


def test_at_the_undo_limit_only_a_step_that_drops_the_oldest_counts_as_trimmed(qapp):
    """A frame opened without a mask, filled to the undo limit, one step undone, a new edit:
    the push drops the step undone, not the oldest, so undoing everything still reaches the
    labels as opened (the prediction shows again, and saving would remove the mask)."""
    labels = make()
    for i in range(UNDO_LIMIT):  # every step paints a pixel of its own
        dab(labels, i % 30, i // 30, 1, radius=0.5)
        labels.commit("dab")
    labels.undo_stack.undo()
    dab(labels, 5, 5, 2)
    labels.commit("dab")
    assert labels.undo_stack.count() == UNDO_LIMIT and not labels.trimmed
    while labels.undo_stack.canUndo():
        labels.undo_stack.undo()
    assert (labels.mask == VOID).all() and not labels.started
    for i in range(UNDO_LIMIT + 1):  # past the limit: the oldest step drops out
        dab(labels, i % 30, i // 30, 1, radius=0.5)
        labels.commit("dab")
    assert labels.trimmed and labels.started


def test_a_step_of_no_pixel_keeps_saved_labels_saved_and_is_undone_alone(qapp):
    labels = make(from_file=True)
    dab(labels, 10, 10, 2)
    labels.commit("stroke")
    labels.mark_saved()
    before = labels.mask.copy()
    labels.add_step("Accept propagated labels")
    assert labels.undo_stack.count() == 2 and not labels.dirty
    assert np.array_equal(labels.mask, before)
    labels.undo_stack.undo()
    assert np.array_equal(labels.mask, before) and labels.dirty
    assert np.array_equal(labels.saved_mask(), before)
