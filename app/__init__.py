"""SegNet Studio's desktop program (PySide6). Only this package imports Qt."""
