"""`segnet-studio <command>`: the command-line half of SegNet Studio.

Each command lives in `segnet_core.commands.<name>` and provides `HELP` (one line),
`add_arguments(parser)` and `run(args) -> int`. Commands are imported only when used, so
`segnet-studio --help` stays quick and a command never pays for another's imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from segnet_core import __version__
from segnet_core.errors import SegNetError

COMMANDS: dict[str, str] = {
    "train": "Train a model on a data set (also under torchrun)",
    "evaluate": "Score a model or a folder of predicted masks: G, C, mIoU, BF",
    "predict": "Segment images, folders or videos and write masks",
    "export": "Export masks as index/colour PNGs, overlays, video, CamVid, VOC or COCO",
    "weights": "Class pixel frequencies and median-frequency weights of a data set",
    "models": "List the network architectures and their parameter counts",
    "export-onnx": "Export a model to ONNX (runs in ONNX Runtime; needs the onnx extra)",
    "import": "Import masks from CamVid, VOC, COCO, colour or index PNGs",
    "rank": "Estimate each frame's accuracy and rank the frames to correct first",
}
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
    for name, help_text in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if with_commands:
            _command_module(name).add_arguments(command_parser)
    return parser


def is_cli_invocation(argv: Sequence[str]) -> bool:
    """True when argv asks for a command or for --help/--version rather than the window."""
    if not argv:
        return False
    return argv[0] in COMMANDS or argv[0] in {"-h", "--help", "--version"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        parser = argparse.ArgumentParser(prog=f"segnet-studio {argv[0]}",
                                         description=COMMANDS[argv[0]])
        module = _command_module(argv[0])
        module.add_arguments(parser)
        args = parser.parse_args(argv[1:])
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
