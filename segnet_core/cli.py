"""`segnet-studio <command>`: the command-line half of SegNet Studio.

Each command lives in `segnet_core.commands.<name>` and provides `HELP` (one line, the only
copy of its help), `add_arguments(parser)` and `run(args) -> int`. A command module imports
its heavy dependencies inside those functions, so `segnet-studio --help` stays quick and a
command never pays for another's imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from segnet_core import __version__
from segnet_core.errors import SegNetError

#: The commands, in the order `--help` lists them.
COMMANDS: tuple[str, ...] = ("train", "finetune", "evaluate", "predict", "rank", "export",
                             "import", "weights", "models", "export-onnx")
#: Commands whose module is not named after them (`import` is a Python keyword).
MODULES: dict[str, str] = {"import": "import_labels"}

USAGE_APP = "segnet-studio [PATH ...]    open the window with these images, folders or videos"


def _command_module(name: str):
    module = MODULES.get(name, name.replace("-", "_"))
    return importlib.import_module(f"segnet_core.commands.{module}")


def build_parser(with_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segnet-studio",
        description="SegNet Studio: semantic segmentation of images and video with SegNet.",
        epilog=f"Without a command:\n  {USAGE_APP}\n\n"
        "Run 'segnet-studio COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"segnet-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMANDS:
        module = _command_module(name)
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        if with_commands:
            module.add_arguments(command_parser)
    return parser


def is_cli_invocation(argv: Sequence[str]) -> bool:
    """True when argv asks for a command or for --help/--version rather than the window."""
    if not argv:
        return False
    return argv[0] in COMMANDS or argv[0] in {"-h", "--help", "--version"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        module = _command_module(argv[0])
        parser = argparse.ArgumentParser(prog=f"segnet-studio {argv[0]}",
                                         description=module.HELP)
        module.add_arguments(parser)
        args = parser.parse_args(argv[1:])
        from segnet_core.io.video import quiet_native_logs

        quiet_native_logs()  # a file OpenCV cannot read is named once, by the command
        try:
            return int(module.run(args) or 0)
        except SegNetError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
    build_parser(with_commands=False).parse_args(argv or ["--help"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
