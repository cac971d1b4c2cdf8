"""The GUI thread keeps ticking while the model works on a large image, and never runs it."""

from __future__ import annotations

from tests.app.conftest import scene_image, write_png
from tests.app.ticks import GuiThreadWatch


def test_event_loop_keeps_ticking_while_a_large_image_is_segmented_off_the_gui_thread(
        qtbot, make_window, slow_checkpoint, tmp_path):
    window = make_window(model=slow_checkpoint)
    big = write_png(tmp_path / "big.png", scene_image(3, 1080, 1440))
    seconds = []
    window.worker.resultReady.connect(lambda *args: seconds.append(args[-1]))

    with GuiThreadWatch() as watch:
        watch.wait_for_ticks(qtbot, 5)
        with qtbot.waitSignal(window.display.overlayDrawn, timeout=120000):
            window.open_paths([big])  # reads the file and hands it to the worker
        watch.wait_for_ticks(qtbot, 5)

    assert window.display.overlay_rgba.shape == (1080, 1440, 4)
    assert seconds and seconds[0] > 0.1  # the model really was busy meanwhile
    print(f"model {seconds[0]:.2f} s")
    watch.assert_gui_thread_kept_ticking(min_ticks=10)
