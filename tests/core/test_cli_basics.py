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
