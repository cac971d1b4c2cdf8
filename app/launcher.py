"""The `segnet-studio` entry point: a command goes to the CLI, anything else opens the window."""

from __future__ import annotations

import importlib.util
import sys
from typing import Sequence

from segnet_core import cli


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if cli.is_cli_invocation(argv):
        return cli.main(argv)
    mistyped = cli.mistyped_command(argv)
    if mistyped:
        print(mistyped, file=sys.stderr)
        return 2
    return _start_window(argv)


def _start_window(paths: list[str]) -> int:
    if importlib.util.find_spec("PySide6") is None:
        print("The window needs PySide6, which is not installed. Install it with "
              "'pip install -e .' in the project folder (the PySide6-Essentials version "
              "pyproject.toml pins), or run 'bash scripts/start.sh'. The command-line tools "
              "work without it: 'segnet-studio --help'.", file=sys.stderr)
        return 1
    from app.qt_system_libraries import main as check_system_libraries

    missing = check_system_libraries(paths, install=False)  # said, before Qt's own abort
    if missing:
        return missing
    from app.main_window import run

    return run(paths)


if __name__ == "__main__":
    sys.exit(main())
