"""`segnet-studio models`: the architectures, their parameter counts and the paper's."""

from __future__ import annotations

import argparse

HELP = "List the network architectures and their parameter counts"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--classes", type=int, default=11, help="K, number of classes (11)")


def run(args: argparse.Namespace) -> int:
    from segnet_core.models import available_models, build_model, count_parameters, model_info

    print(f"{'model':42s} {'params (M)':>10s} {'paper (M)':>9s}  description")
    for name in available_models():
        info = model_info(name)
        count = count_parameters(build_model(name, args.classes)) / 1e6
        print(f"{name:42s} {count:10.3f} {info.paper_parameters:9.3f}  {info.description}")
    return 0
