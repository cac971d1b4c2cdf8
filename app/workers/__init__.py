"""QObject workers that run on their own QThreads."""
