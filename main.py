"""`python main.py ...` does exactly what `segnet-studio ...` does."""

import sys

from app.launcher import main

if __name__ == "__main__":
    sys.exit(main())
