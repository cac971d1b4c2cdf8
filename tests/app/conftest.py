"""Fixtures for the window's tests: isolated settings, tiny checkpoints, generated images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PySide6.QtCore import QCoreApplication

from segnet_core.checkpoint import checkpoint_from_model, save_checkpoint
from segnet_core.labels import LabelSet
from segnet_core.models import build_model

from app.settings import SETTINGS_ENV
from app.startup import MODEL_ENV
from app.workers.task import WorkerThread

H, W = 64, 96
LABELS = LabelSet(("Sky", "Road", "Car"), ((70, 130, 180), (128, 64, 128), (220, 20, 60)))


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch) -> Path:
    """Every test writes its QSettings to its own INI file, and no model comes from the
    environment (each keeps its estimates in its own folder: tests/conftest.py)."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    monkeypatch.delenv(MODEL_ENV, raising=False)
    return path


def make_checkpoint(path: Path, input_size) -> Path:
    torch.manual_seed(0)
    model = build_model("segnet-basic", LABELS.num_classes)
    save_checkpoint(path, checkpoint_from_model(model, LABELS.to_dict(), input_size))
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """SegNet-Basic for 3 classes that runs at 32x48 (inputs are resized): quick on a CPU."""
    return make_checkpoint(tmp_path_factory.mktemp("models") / "tiny.pt", (32, 48))


@pytest.fixture(scope="session")
def slow_checkpoint(tmp_path_factory) -> Path:
    """The same network run at 256x352, so one image keeps a CPU busy for a while."""
    return make_checkpoint(tmp_path_factory.mktemp("models") / "slow.pt", (256, 352))


def scene_image(seed: int, h: int = H, w: int = W) -> np.ndarray:
    """A picture with some structure (bands, a block, noise) so the model's labels vary."""
    rng = np.random.default_rng(seed)
    image = np.empty((h, w, 3), np.uint8)
    image[: h // 3] = rng.integers(100, 256, 3)
    image[h // 3:] = rng.integers(0, 120, 3)
    y, x = rng.integers(0, h // 2), rng.integers(0, w // 2)
    image[y:y + h // 3, x:x + w // 3] = rng.integers(0, 256, 3)
    noise = rng.integers(-40, 40, (h, w, 3))
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def write_png(path: Path, rgb: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """Four PNGs (a.png .. d.png), a corrupt PNG and a text file."""
    folder = tmp_path / "images"
    folder.mkdir()
    for i, name in enumerate("abcd"):
        write_png(folder / f"{name}.png", scene_image(i))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def settle(*threads: WorkerThread, timeout_s: float = 30.0) -> None:
    """Wait until `threads` have run every task asked for and what they emitted has been
    delivered on this thread, including the tasks that delivery asked for in turn."""
    for _ in range(100):
        assert all(thread.wait_idle(timeout_s) for thread in threads), "a worker is stuck"
        before = sum(thread.completed for thread in threads)
        QCoreApplication.processEvents()
        if all(thread.wait_idle(0) for thread in threads) and \
                sum(thread.completed for thread in threads) == before:
            return
    raise AssertionError("the workers never went quiet")


@pytest.fixture
def make_window(qtbot, tiny_checkpoint):
    """make_window(model=tiny_checkpoint) -> a shown MainWindow on the CPU in fp32 whose
    model has loaded (model=None: no model)."""
    from app.editing.saving import CloseAnswer
    from app.main_window import MainWindow

    def make(model: Path | None = tiny_checkpoint):
        window = MainWindow(model, device="cpu", precision="fp32")
        # never a modal box in tests: close without what is not saved
        window.editing.saving.ask_unsaved = lambda count, failed=(): CloseAnswer.DISCARD
        # nor one before Accept prediction replaces labels: replaced, as before it asked (a
        # test of the question deletes this, and the class's method asks)
        window.editing.ask_replace = lambda _changed: True
        # nor one on closing while a fine-tune runs: stopped, as before it asked
        window.training.ask_stop = lambda: True
        qtbot.addWidget(window)
        if model is None:
            window.show()
            return window
        with qtbot.waitSignal(window.modelReady, timeout=60000):
            window.show()
        return window

    return make


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread():
    """After each test, collect here (the GUI thread) and give collection back to Python, so
    no Qt object of a finished test is left for a worker thread's collection to delete."""
    yield
    import gc

    gc.enable()
    gc.collect()


@pytest.fixture
def pointer_put_back():
    """Where the pointer was before the test, again after it: left over a later test's
    window, it would hover a tool button there (whose status tip replaces a message)."""
    from PySide6.QtGui import QCursor
    from PySide6.QtWidgets import QApplication

    before = QCursor.pos()
    yield
    QCursor.setPos(before)
    QApplication.processEvents()
