"""The start command's check of the system libraries Qt's X11 platform needs, before the
window starts: `app.qt_system_libraries` (as root, missing ones are installed with apt-get)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's app

from app.qt_system_libraries import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], install=True))
