"""Correcting labels: the editor and its tools, the frames' label masks with undo, saving."""
