"""Fine-tuning on corrected frames from the window: panel, charts, worker, wiring."""
