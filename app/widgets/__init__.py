"""The window's panels and bars."""
