"""Work off the GUI thread: one generic `WorkerThread` (task.py) that the loaders, the
inference worker and the writers run their jobs on."""
