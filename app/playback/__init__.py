"""Video playback: a decoder thread that stays a few frames ahead, and the controller that
drives display, inference and the playback controls at the video's pace."""
