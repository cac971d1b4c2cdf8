"""Export: the dialog (formats, folder, split), the controller that gathers the frames, and
the worker that writes them."""
