"""SegNet Studio's core library: networks, data, training and evaluation. No Qt here."""

__version__ = "0.1.0"
