"""The GUI thread keeps ticking while the model works on a large image."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from tests.app.conftest import scene_image, write_png


def test_event_loop_never_stalls_100ms_while_a_large_image_is_segmented(
        qtbot, make_window, slow_checkpoint, tmp_path):
    window = make_window(model=slow_checkpoint)
    big = write_png(tmp_path / "big.png", scene_image(3, 1080, 1440))
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    seconds = []
    window.worker.resultReady.connect(lambda *args: seconds.append(args[-1]))

    timer.start()
    qtbot.wait(50)
    with qtbot.waitSignal(window.display.overlayDrawn, timeout=120000):
        window.open_paths([big])  # reads the file and hands it to the worker
    qtbot.wait(50)
    timer.stop()

    assert window.display.overlay_rgba.shape == (1080, 1440, 4)
    assert seconds and seconds[0] > 0.1  # the model really was busy meanwhile
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(gaps) > 10
    print(f"longest gap {max(gaps) * 1000:.1f} ms over {len(gaps)} ticks, model {seconds[0]:.2f} s")
    assert max(gaps) < 0.100, f"longest stall {max(gaps) * 1000:.0f} ms"
