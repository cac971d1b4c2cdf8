"""Label masks: undoable edits, the labels folder beside the images, and rendering.
Reading and writing mask files is `segnet_core.io.masks`."""
