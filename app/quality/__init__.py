"""How right is each frame, and which one to correct next: the estimated accuracy of every
segmented frame in the frame list and along the video timeline, and Go > Next suggested
frame (`controller.QualityController`)."""
