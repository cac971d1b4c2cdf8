import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from segnet_core import __version__, cli

ROOT = Path(__file__).resolve().parents[2]


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "predict", "weights"):
        assert command in out
    assert "PATH" in out


def test_top_level_help_shows_how_to_start_the_window_with_its_options():
    run = [sys.executable, str(ROOT / "main.py"), "--help"]
    result = subprocess.run(run, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0
    usage, window = result.stdout.split("Without a command")
    assert "[--model CKPT] [--device DEVICE] [--precision P] [PATH ...]" in usage
    for option in ("PATH", "--model CKPT", "$SEGNET_STUDIO_MODEL", "--device DEVICE",
                   "--precision {auto,fp32,bf16,fp16}"):
        assert option in window, option
    assert "--screenshot" not in result.stdout  # hidden, for checks under Xvfb


def test_the_window_takes_the_options_the_help_lists():
    from app.startup import parse_window_args

    options = parse_window_args(["--model", "m.pt", "--device", "cpu", "--precision", "fp32",
                                 "shots", "clip.mp4"])
    assert (options.model, options.device, options.precision) == ("m.pt", "cpu", "fp32")
    assert options.paths == ["shots", "clip.mp4"]
    assert parse_window_args([]).precision == "auto"


def test_main_py_and_console_script_agree():
    run = [sys.executable, str(ROOT / "main.py"), "--version"]
    result = subprocess.run(run, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and __version__ in result.stdout
    script = Path(sys.executable).parent / "segnet-studio"
    if script.exists():
        result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
        assert result.returncode == 0 and "segnet-studio" in result.stdout


def test_models_command_lists_parameter_counts(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "segnet-basic" in out and "29.45" in out


def test_launcher_names_the_install_command_when_pyside6_is_missing(monkeypatch, capsys):
    import importlib.util

    from app import launcher

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "PySide6" else real_find_spec(name, *a))
    assert launcher.main(["some/folder"]) == 1
    message = capsys.readouterr().err
    assert "PySide6" in message and "pip install -e ." in message


def test_launcher_lets_a_real_import_error_in_the_window_surface(monkeypatch):
    from app import launcher

    monkeypatch.setitem(sys.modules, "app.main_window", None)  # importing it now fails
    with pytest.raises(ImportError):
        launcher.main(["some/folder"])


def test_a_mistyped_command_is_said_not_opened_as_a_path(monkeypatch, tmp_path, capsys):
    """A user's check: `segnet-studio rnak --images DIR` opened a window that took `rnak`
    for a path ("unrecognized arguments: --images ..."). A word close to a command that is
    no file or folder is said so; one that exists, or is like no command, opens as before."""
    from app import launcher

    monkeypatch.chdir(tmp_path)
    opened = []
    monkeypatch.setattr(launcher, "_start_window", lambda argv: opened.append(argv) or 0)
    assert launcher.main(["rnak", "--images", "frames"]) == 2
    assert capsys.readouterr().err.strip() == (
        "segnet-studio: 'rnak' is no command, nor a file or folder here: did you mean "
        "'rank'? ('segnet-studio --help' lists the commands)")
    assert not cli.opens_window(["rnak"]) and opened == []  # start.sh asks no display
    (tmp_path / "rnak").mkdir()  # a folder of that name: opened
    assert launcher.main(["rnak"]) == 0 and cli.opens_window(["rnak"])
    assert launcher.main(["shots"]) == 0 and opened == [["rnak"], ["shots"]]
    assert launcher.main(["export.avi"]) == 0  # a missing file: the window's Problems say so
    assert cli.mistyped_command(["exprot/"]) is None and cli.opens_window(["export.avi"])


def command_parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"segnet-studio {name}")
    cli._command_module(name).add_arguments(parser)
    return parser


def test_every_option_of_every_command_and_the_window_has_help():
    window = argparse.ArgumentParser()
    cli.add_window_arguments(window)
    parsers = {name: command_parser(name) for name in cli.COMMANDS} | {"(window)": window}
    missing = [f"{name} {'/'.join(action.option_strings) or action.dest}"
               for name, parser in parsers.items() for action in parser._actions
               if not (action.help or "").strip()]
    assert missing == []


def test_finetune_help_says_what_an_epoch_is_and_reads_well():
    from segnet_core.finetune.settings import FineTuneSettings

    text = " ".join(command_parser("finetune").format_help().split())
    defaults = FineTuneSettings()
    assert (f"epochs of {defaults.samples_per_epoch} training samples each, drawn from the "
            "corrected frames") in text
    assert f"(default: {defaults.epochs}," in text and "passes over" not in text
    assert "current (default): fine-tune the model --model names" in text
    assert "The current model" not in text and "Scratch (same" not in text
    assert "median (default): median-frequency weights; natural:" in text
