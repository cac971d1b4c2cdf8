"""SegNet Studio's desktop program (PySide6). Only this package imports Qt.

`main_window` builds the shared parts once and hands each feature a `context.FeatureContext`
(never the window); menus come from the registry in `menus`. Names follow one rule: a
feature's coordinating QObject is `<Feature>Controller` (it takes the context and wires the
feature's widgets, worker and actions); its widgets are `*Panel`, `*Dialog`, `*Bar`, `*Dock`;
its work off the GUI thread is a `*Worker` (or loader/writer) running on a
`workers.task.WorkerThread`. A feature with several modules is a package: `editing/`,
`playback/`, `export/`, `training/`.
"""
