"""`segnet-studio <command>`: the command-line half of SegNet Studio.

Each command lives in `segnet_core.commands.<name>` and provides `HELP` (one line, the only
copy of its help), `add_arguments(parser)` and `run(args) -> int`. A command module imports
its heavy dependencies inside those functions, so `segnet-studio --help` stays quick and a
command never pays for another's imports.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from pathlib import Path
from typing import Sequence

from segnet_core import __version__
from segnet_core.errors import SegNetError

#: The commands, in the order `--help` lists them.
COMMANDS: tuple[str, ...] = ("train", "finetune", "evaluate", "predict", "rank", "export",
                             "import", "weights", "models", "export-onnx")
#: Commands whose module is not named after them (`import` is a Python keyword).
MODULES: dict[str, str] = {"import": "import_labels"}

#: The environment variable that names the window's model when --model is not given.
MODEL_ENV = "SEGNET_STUDIO_MODEL"
#: How the window is started (its options: `add_window_arguments`).
USAGE_WINDOW = "segnet-studio [--model CKPT] [--device DEVICE] [--precision P] [PATH ...]"


def _command_module(name: str):
    module = MODULES.get(name, name.replace("-", "_"))
    return importlib.import_module(f"segnet_core.commands.{module}")


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    """The window's own options, the one copy: `app.startup` parses them and the top-level
    `--help` lists them (`window_help`)."""
    from segnet_core.commands.arguments import add_model_arguments
    from segnet_core.resources import SHIPPED

    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="images, folders or videos to open (a folder opens its images, "
                             "then its videos)")
    parser.add_argument("--model", metavar="CKPT",
                        help=f"checkpoint to segment with (default: ${MODEL_ENV}, else the "
                             "current fine-tuned version of the first project opened, else the "
                             f"shipped model; '{SHIPPED}': the shipped model)")
    add_model_arguments(parser, model=False, batch=False)


def window_help() -> str:
    """How to start the window, with its options, as the top-level `--help` lists them."""
    parser = argparse.ArgumentParser(prog="segnet-studio", usage=argparse.SUPPRESS,
                                     add_help=False)
    add_window_arguments(parser)
    # the options' lines, without argparse's section titles ("options:")
    lines = [line for line in parser.format_help().splitlines() if line.startswith(" ")]
    return "\n".join([f"  {USAGE_WINDOW}", "", *lines])


def build_parser(with_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segnet-studio",
        usage=f"segnet-studio [-h] [--version] COMMAND ...\n       {USAGE_WINDOW}",
        description="SegNet Studio: semantic segmentation of images and video with SegNet.",
        epilog="Without a command, the window opens:\n"
               f"{window_help()}\n\n"
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


def mistyped_command(argv: Sequence[str]) -> str | None:
    """What to say when the first word is no command and no file or folder that exists but
    is close to a command's name (`segnet-studio rnak ...` opened a window that took `rnak`
    for a path: a user's check); None otherwise."""
    word = argv[0] if argv else ""
    if not word or word.startswith("-") or word in COMMANDS or Path(word).exists() or \
            any(mark in word for mark in "./\\"):  # a file's name (clip.avi, shots/): a path
        return None
    close = difflib.get_close_matches(argv[0], COMMANDS, n=1, cutoff=0.6)
    if not close:
        return None
    return (f"segnet-studio: '{argv[0]}' is no command, nor a file or folder here: did you "
            f"mean '{close[0]}'? ('segnet-studio --help' lists the commands)")


def opens_window(argv: Sequence[str]) -> bool:
    """True when `segnet-studio argv` starts the window, which needs Qt and a display: not a
    command, --help or --version (`is_cli_invocation`), nor the window's own --help, which
    prints without one. `scripts/start.sh` asks this before checking for a display."""
    argv = list(argv)
    options = argv[:argv.index("--")] if "--" in argv else argv
    return not is_cli_invocation(argv) and not {"-h", "--help"} & set(options) and \
        mistyped_command(argv) is None


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
