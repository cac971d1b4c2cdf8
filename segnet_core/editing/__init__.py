"""Edits of label masks that need no Qt: propagation of a corrected mask along a video."""
