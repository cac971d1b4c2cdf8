"""The `segnet-studio` entry point: a command goes to the CLI, anything else opens the window."""

from __future__ import annotations

import sys
from typing import Sequence

from segnet_core import cli


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if cli.is_cli_invocation(argv):
        return cli.main(argv)
    return _start_window(argv)


def _start_window(paths: list[str]) -> int:
    try:
        from app.main_window import run  # noqa: F401  (the window arrives with its own issue)
    except ImportError:
        print("SegNet Studio's window is not built yet; the command-line tools work now.\n"
              "Run 'segnet-studio --help' to see them.", file=sys.stderr)
        return 1
    return run(paths)


if __name__ == "__main__":
    sys.exit(main())
