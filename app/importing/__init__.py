"""File > Import labels...: masks made by other tools, brought into the labels folder."""
