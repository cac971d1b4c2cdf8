"""The canvas: the image view and the overlays drawn on it."""
