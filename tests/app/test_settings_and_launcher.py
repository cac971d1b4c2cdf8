"""What persists between runs, and starting the window the way `segnet-studio` does."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from app.settings import MAX_RECENT, Settings
from app.startup import MODEL_ENV


def test_opacity_recent_files_and_layout_persist_to_a_second_window(
        qtbot, make_window, image_folder, isolated_settings):
    first = make_window(model=None)
    first.actions.opacity.setValue(80)
    first.open_paths([image_folder])
    first.resize(700, 500)  # inside the offscreen screen (800x600)
    assert first.problems.isVisible()  # broken.png
    first.close()
    assert isolated_settings.is_file()

    second = make_window(model=None)
    assert second.actions.opacity.value() == 80
    assert second.canvas._overlay_item.opacity() == 0.8
    assert second.settings.recent_files() == [str(image_folder.resolve())]
    assert (second.width(), second.height()) == (700, 500)
    assert not second.problems.isVisible()  # left open, but empty now: not brought back
    second.actions.recent_menu.aboutToShow.emit()
    texts = [a.text() for a in second.actions.recent_menu.actions()]
    assert str(image_folder.resolve()) in texts


def test_recent_files_keep_the_ten_newest_without_repeats(tmp_path):
    settings = Settings(tmp_path / "s.ini")
    for i in range(12):
        settings.add_recent(tmp_path / f"f{i}.png")
    settings.add_recent(tmp_path / "f5.png")
    recent = settings.recent_files()
    assert len(recent) == MAX_RECENT and recent[0].endswith("f5.png")
    assert recent.count(recent[0]) == 1 and not any(p.endswith("f0.png") for p in recent)


def test_fine_tuning_settings_come_back_and_a_bad_value_costs_only_itself(tmp_path):
    from segnet_core.finetune import FineTuneSettings

    path = tmp_path / "s.ini"
    assert Settings(path).finetune == FineTuneSettings()  # the recipe's before a run
    Settings(path).finetune = FineTuneSettings(epochs=7, lr=0.005, size=(96, 128),
                                               holdout=(0, 2), device="cuda", seed=3)
    back = Settings(path).finetune
    assert (back.epochs, back.lr, back.size) == (7, 0.005, (96, 128))
    # the frames ticked by hand, the device and the seed are not the panel's to keep
    assert (back.holdout, back.device, back.seed) == (0.25, "auto", 0)

    Settings(path)._store.setValue(
        "training/finetune", '{"epochs": "many", "size": [8, 8], "batch_size": 2, '
                             '"start": "nowhere", "augment": false}')
    back = Settings(path).finetune
    assert (back.epochs, back.size, back.start) == (24, None, "current")
    assert (back.batch_size, back.augment) == (2, False)
    Settings(path)._store.setValue("training/finetune", "not json {")
    assert Settings(path).finetune == FineTuneSettings()


def test_export_choices_come_back_and_a_bad_value_costs_only_itself(tmp_path):
    path = tmp_path / "s.ini"
    assert Settings(path).export_choices == {}
    Settings(path).export_choices = {"split": [0.5, 0.25, 0.25], "predictions": True,
                                     "min_area": 12}
    assert Settings(path).export_choices == {"split": [0.5, 0.25, 0.25], "predictions": True,
                                             "min_area": 12}
    Settings(path).export_choices = {"split": [0.125, 0.875], "predictions": 1,
                                     "min_area": 10 ** 20}  # edited by hand
    # as the boxes show them (two decimals, still adding up to 1); the rest the dialog's own
    assert Settings(path).export_choices == {"split": [0.12, 0.88]}
    Settings(path).export_choices = {"split": [0.333, 0.333, 0.334], "min_area": True}
    assert Settings(path).export_choices == {}  # 0.33 * 2 + 0.33 is not 1


def test_export_folders_and_import_sources_are_kept_per_project_the_newest_fifty(tmp_path):
    path = tmp_path / "s.ini"
    settings = Settings(path)
    for number in range(Settings.PROJECTS_KEPT + 1):
        settings.set_export_folder(f"/p{number}", f"/out{number}")
        settings.set_import_source(f"/p{number}", f"/masks{number}", "voc")
    settings.set_export_folder("/p0", "/out0")  # the oldest but one, exported to again
    settings.sync()
    again = Settings(path)
    assert again.export_folder("/p1") == "" and again.import_source("/p0") == ("", "")
    assert again.export_folder("/p0") == "/out0" and again.export_folder("/p2") == "/out2"
    assert again.import_source("/p50") == ("/masks50", "voc")
    assert again.import_source("/elsewhere") == ("", "")  # another project's: never
    again._store.setValue("import/sources", '{"/p7": "not a pair"}')  # edited by hand
    assert again.import_source("/p7") == ("", "")


def test_launcher_opens_the_window_on_the_given_folder(qtbot, monkeypatch, image_folder,
                                                       tiny_checkpoint):
    from app import launcher
    from app.main_window import MainWindow

    monkeypatch.setenv(MODEL_ENV, str(tiny_checkpoint))
    shown: list[MainWindow] = []
    original_show = MainWindow.show

    def record_show(window):
        shown.append(window)
        original_show(window)

    def fake_exec(app):  # run the loop until the first overlay is drawn, then "quit"
        qtbot.waitUntil(lambda: shown and shown[0].display.overlay_rgba is not None,
                        timeout=60000)
        return 0

    monkeypatch.setattr(MainWindow, "show", record_show)
    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert launcher.main(["--device", "cpu", str(image_folder)]) == 0
    window = shown[0]
    assert len(window.frames) == 4 and window.model_info.name == "tiny.pt"
    assert window.segmentation.model_chosen  # named by $SEGNET_STUDIO_MODEL: kept
    assert not window.isVisible()  # closed on the way out, worker stopped
    assert QApplication.applicationName() == "SegNet Studio"


@pytest.mark.parametrize("named_by", ["--model", MODEL_ENV])
def test_the_window_takes_shipped_as_the_shipped_model_as_the_commands_do(
        qtbot, monkeypatch, image_folder, named_by):
    from app import launcher
    from app.main_window import MainWindow
    from segnet_core.resources import DEFAULT_MODEL

    shown: list[MainWindow] = []
    failed: list[str] = []
    original_show = MainWindow.show

    def record_show(window):
        shown.append(window)
        window.segmentation.modelFailed.connect(lambda _path, message: failed.append(message))
        original_show(window)

    def drawn_or_failed() -> bool:
        return bool(failed) or bool(shown) and shown[0].display.overlay_rgba is not None

    def fake_exec(app):  # until the first overlay is drawn, or the model would not load
        qtbot.waitUntil(drawn_or_failed, timeout=60000)
        return 0

    monkeypatch.setattr(MainWindow, "show", record_show)
    monkeypatch.setattr(QApplication, "exec", fake_exec)
    argv = ["--device", "cpu", str(image_folder)]
    if named_by == MODEL_ENV:
        monkeypatch.setenv(MODEL_ENV, "shipped")
    else:
        argv[:0] = ["--model", "shipped"]
    assert launcher.main(argv) == 0
    assert failed == []
    window = shown[0]
    assert window.model_info.name == DEFAULT_MODEL.name
    assert window.segmentation.model_chosen  # named: kept when a project is opened
