"""Labels that follow the video: Edit > Propagate labels to the next or previous frames by
optical flow (`controller.PropagationController`), run in `worker.PropagationWorker`, each
frame one undo step and marked as propagated until accepted (`marks.PropagatedMarks`)."""
