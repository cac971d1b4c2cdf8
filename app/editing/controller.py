"""Editing: builds the editor and the saving controller and connects them and the editing
actions to the context's display, label store and frame list and to the class panel. The
window calls the hooks under "window hooks"."""

from __future__ import annotations


import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoGroup
from PySide6.QtWidgets import QDialog, QLabel, QMessageBox

from segnet_core.labels import LabelSet
from segnet_core.quality import AS_PREDICTED_SHARE

from app.context import FeatureContext, MessageTime
from app.document import FrameDocument
from app.editing.actions import build_edit_actions
from app.editing.bulk import BulkReport, apply_bulk
from app.editing.corrections import CorrectionStatus
from app.editing.editor import Editor
from app.editing.frame_labels import FrameLabels
from app.editing.saving import SavingController
from app.editing.store import MaskFile
from app.editing.tools import ToolName
from app.frames import FrameRef
from app.widgets.bulk_edit_dialog import BulkEditDialog, BulkKind, BulkRequest
from app.widgets.class_panel import ClassPanel


class EditingController(QObject):
    """`editor` edits the frame shown, `store` holds every frame's labels, `saving` decides
    when they are written; `run_bulk` edits many frames at once."""

    def __init__(self, context: FeatureContext, class_panel: ClassPanel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.display = display = context.display
        self.class_panel = class_panel
        self.store = context.labels
        settings = context.settings
        self.editor = Editor(display.canvas, display.label_set, settings.brush_size, self)
        self.editor.class_hidden = display.hidden
        self.undo_group = QUndoGroup(self)
        self.actions = build_edit_actions(context.host, context.menus, self.undo_group)
        self.saving = SavingController(context, self.editor, self)
        self.corrections = CorrectionStatus(context, self)  # the frames' statuses
        self.tool_label = QLabel()
        context.host.add_status_widget(self.tool_label)
        self._connect()
        self.set_label_set(display.label_set)
        self.actions.autosave.setChecked(settings.autosave)

    def accept_prediction(self) -> bool:
        """Edit > Accept prediction (Ctrl+Return). Where it would replace labels a person
        made (a saved correction, edits, propagated labels) on more than a touch-up's share
        of the frame, it asks first: the key is one Shift from Accept propagated labels, and
        a user's check replaced a correction by it unawares."""
        if self.context.said_nothing_open():
            return False
        labels, prediction = self.editor.labels, self.editor.shown_prediction()
        if labels is not None and prediction is not None and labels.started and \
                not labels.locked:
            changed = float(np.mean(labels.mask != prediction.labels))
            if changed > 1 - AS_PREDICTED_SHARE and not self.ask_replace(changed):
                self._message("Kept this frame's labels")
                return False
        return self.editor.accept_prediction()

    def ask_replace(self, changed: float) -> bool:
        """Whether to replace the frame's labels with the prediction (`changed`: the share
        of pixels it changes)."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.context.host.widget, "Accept prediction",
            f"Replace this frame's labels with the model's prediction? It changes "
            f"{100 * changed:.1f} % of the pixels. Ctrl+Z takes it back.",
            buttons.Yes | buttons.Cancel, buttons.Cancel)
        return answer == buttons.Yes

    def _connect(self) -> None:
        a, editor = self.actions, self.editor
        for name, action in a.tools.items():
            action.triggered.connect(lambda _checked=False, n=name: editor.set_tool(n))
        for index, action in enumerate(a.classes):
            action.triggered.connect(lambda _checked=False, i=index: self._choose_class(i))
        a.brush_smaller.triggered.connect(lambda: editor.step_brush_size(False))
        a.brush_larger.triggered.connect(lambda: editor.step_brush_size(True))
        a.undo.triggered.connect(lambda: self._step(True))
        a.redo.triggered.connect(lambda: self._step(False))
        a.accept_prediction.triggered.connect(self.accept_prediction)
        a.keep_confident.triggered.connect(lambda: self.ask_bulk(BulkKind.KEEP))
        a.replace_class.triggered.connect(lambda: self.ask_bulk(BulkKind.REPLACE))
        a.save.triggered.connect(self.saving.save_current)
        a.autosave.toggled.connect(lambda on: setattr(self.context.settings, "autosave", on))
        editor.toolChanged.connect(self._on_tool)
        editor.classChanged.connect(self._on_class)
        editor.brushSizeChanged.connect(self._on_brush_size)
        editor.message.connect(self._message)
        self.saving.message.connect(self._message)
        self.class_panel.classChosen.connect(self._choose_class)
        a.find_class.triggered.connect(self.class_panel.start_search)
        self.class_panel.searchDone.connect(lambda: self.display.canvas.setFocus())
        self.display.documentShown.connect(self._on_document)

    # ------------------------------------------------------------ window hooks

    def read_saved_mask(self, ref: FrameRef) -> MaskFile:
        """The frame loader's companion: the saved mask, read on the loader's thread."""
        return self.store.read_file(ref)

    def labels_for(self, ref: FrameRef, image: np.ndarray, found: MaskFile | None) -> FrameLabels:
        return self.store.open(ref, image.shape[:2], found)

    def frames_opened(self) -> None:
        self.corrections.frames_opened()
        self.saving.frames_opened()

    def set_label_set(self, label_set: LabelSet) -> None:
        self.store.label_set = label_set
        self.editor.set_label_set(label_set)
        for index, action in enumerate(self.actions.classes):
            known = index < label_set.num_classes
            action.setText(f"{index + 1} {label_set.names[index]}" if known
                           else f"Class {index + 1}")
            action.setEnabled(known)
            action.setVisible(known)
        self._on_class(self.editor.current_class)

    def confirm_close(self) -> bool:
        return self.saving.confirm_close()

    def stop_watching(self) -> None:
        """The window closes: read no mask files that change from now on."""
        self.corrections.stop()

    def shutdown(self) -> None:
        self.saving.shutdown()

    def _on_document(self, document: FrameDocument | None) -> None:
        previous = self.editor.labels
        new = None if document is None else document.labels
        if previous is not None and previous is not new:
            self.editor.finish()
            self.saving.leave(previous)
        self.editor.set_document(document)
        if new is not None:
            if new.undo_stack not in self.undo_group.stacks():
                self.undo_group.addStack(new.undo_stack)
            self.undo_group.setActiveStack(new.undo_stack)
        else:
            self.undo_group.setActiveStack(None)
        if new is not None and new.locked:
            self._message(new.locked)

    # ------------------------------------------------------------ many frames

    def ask_bulk(self, kind: BulkKind) -> None:
        frames = self.context.frames
        if self.context.said_nothing_open():
            return
        document = self.editor.document
        row = frames.row_of(document.key) if document is not None else None
        dialog = BulkEditDialog(kind, self.store.label_set, len(frames), row or 0,
                                self.context.host.widget)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        request = dialog.request() if accepted else None
        dialog.deleteLater()  # one per question, not kept until the window goes
        if request is not None:
            self.run_bulk(request)

    def run_bulk(self, request: BulkRequest) -> BulkReport:
        """Apply a keep-confident or replace-class request to its rows; frames other than
        the one on screen are saved at once when autosave is on (as if left)."""
        self.editor.finish()
        frames = self.context.frames
        refs = [frames[row] for row in range(max(0, request.first),
                                             min(len(frames) - 1, request.last) + 1)]
        document = self.editor.document
        current = None if document is None else document.key

        def prediction_of(ref: FrameRef):
            return document.prediction if ref == current else self.context.cache.get(ref)

        report = apply_bulk(request, refs, self.store, prediction_of, shown=current,
                            unreadable=frames.unreadable)
        if self.context.settings.autosave:
            for ref in report.changed:
                if ref != current:
                    self.store.save(self.store.get(ref))
        self._message(report.summary())
        return report

    # ------------------------------------------------------------ tool state

    def _step(self, undo: bool) -> None:
        """Undo or redo on the frame shown, and say what (the step's name and frame). Undo
        while a polygon is drawn takes back its last corner only."""
        if undo and self.editor.take_back():  # it says so
            return
        if not undo and self.editor.drawing():  # it would drop the corners (a user's check)
            self._message("Close the polygon (Enter) or drop it (Esc) before Redo")
            return
        self.editor.finish()  # a stroke or polygon in progress ends first
        group = self.undo_group
        text = group.undoText() if undo else group.redoText()
        if not (group.canUndo() if undo else group.canRedo()):
            return  # the action is disabled then: a stroke just ended may have changed it
        (group.undo if undo else group.redo)()
        where = self.display.current_key
        name = f" ({where.name})" if where is not None else ""
        self.context.host.show_message(f"{'Undone' if undo else 'Redone'}: {text}{name}",
                                       MessageTime.SHORT)

    def _choose_class(self, index: int) -> None:
        if not self.editor.set_class(index):
            self._message(f"There is no class {index + 1}")

    def _on_tool(self, name: ToolName) -> None:
        self.actions.tools[name].setChecked(True)
        self._show_tool()

    def _on_class(self, index: int) -> None:
        self.class_panel.set_current_class(index)
        self._show_tool()

    def _on_brush_size(self, size: int) -> None:
        self.context.settings.brush_size = size
        self._show_tool()

    def _show_tool(self) -> None:
        editor = self.editor
        text = editor.tool_name.capitalize()
        if editor.tool_name in (ToolName.BRUSH, ToolName.ERASER):
            text += f" {editor.brush_size} px"
        if editor.tool_name != ToolName.ERASER:
            text += f" · {editor.label_set.names[editor.current_class]}"
        self.tool_label.setText(text)

    def _message(self, text: str) -> None:
        self.context.host.show_message(text)
