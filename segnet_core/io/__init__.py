"""Files in and out: images, masks, label-set files, video frames and the discovery of
inputs (folders, images, videos). Every failure about a file names it.

This package imports nothing itself, so `segnet_core.labels` can use its label-file
module without loading the rest.
"""
