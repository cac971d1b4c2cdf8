"""The toolbar's icons: small line drawings (SVG, 24x24) in the palette's text colour, so
the toolbars stay narrow enough for a 1280x800 screen; each action keeps its text in the
menus and shows it, with its keys, as the button's tooltip."""

from __future__ import annotations

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QPalette, QPixmap

_LINE = 'fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" ' \
        'stroke-linejoin="round"'

#: the drawings, inside <svg viewBox="0 0 24 24">
DRAWINGS = {
    "open": f'<path {_LINE} d="M3 7V5h6l2 2h10v12H3z M3 10h18"/>',
    "segment-all": f'<rect {_LINE} x="3" y="3" width="13" height="13"/>'
                   f'<path {_LINE} d="M19 7v12H7 M3 11l5-4 4 3 4-3"/>',
    "overlay": f'<rect {_LINE} x="3" y="3" width="12" height="12"/>'
               '<rect x="9" y="9" width="12" height="12" fill="currentColor" opacity="0.55"/>',
    "confidence": '<defs><linearGradient id="g"><stop offset="0" stop-color="#000004"/>'
                  '<stop offset="0.5" stop-color="#bc3754"/><stop offset="1" '
                  'stop-color="#fcffa4"/></linearGradient></defs>'
                  f'<rect x="3" y="6" width="18" height="12" fill="url(#g)"/>'
                  f'<rect {_LINE} x="3" y="6" width="18" height="12"/>',
    "fit": f'<path {_LINE} d="M3 8V3h5 M16 3h5v5 M21 16v5h-5 M8 21H3v-5"/>'
           f'<rect {_LINE} x="8" y="8" width="8" height="8"/>',
    "brush": f'<path {_LINE} d="M20 4 10 14"/><path d="M9 13c-3 0-5 2-5 5 0 1-1 2-2 2 '
             '3 1 8 0 9-3 1-2 0-4-2-4z" fill="currentColor"/>',
    "eraser": f'<path {_LINE} d="M8 20h12 M4 15l9-9 6 6-8 8H8z"/>'
              '<path d="M4 15l4-4 6 6-3 3H8z" fill="currentColor"/>',
    "fill": f'<path {_LINE} d="M5 11l7-7 7 7-7 7z M5 11h14"/>'
            '<path d="M20 15c1 2 2 3 2 4a2 2 0 0 1-4 0c0-1 1-2 2-4z" fill="currentColor"/>',
    "polygon": f'<path {_LINE} d="M5 6l11-2 5 9-7 8-10-4z"/>'
               '<g fill="currentColor"><circle cx="5" cy="6" r="2"/><circle cx="16" cy="4" '
               'r="2"/><circle cx="21" cy="13" r="2"/><circle cx="14" cy="21" r="2"/>'
               '<circle cx="4" cy="17" r="2"/></g>',
    "picker": f'<path {_LINE} d="M14 6l4 4 M4 20l2-1 9-9-2-2-9 9z"/>'
              '<path d="M13 5l3-3a2 2 0 0 1 3 0l3 3a2 2 0 0 1 0 3l-3 3z" fill="currentColor"/>',
    "undo": f'<path {_LINE} d="M9 14 4 9l5-5 M4 9h10a6 6 0 0 1 0 12h-3"/>',
    "redo": f'<path {_LINE} d="M15 14l5-5-5-5 M20 9H10a6 6 0 0 0 0 12h3"/>',
    "accept": f'<path {_LINE} d="M4 13l5 5L20 6"/>',
    "save": f'<path {_LINE} d="M4 4h13l3 3v13H4z M8 4v5h8V4 M7 20v-7h10v7"/>',
    "opacity": '<circle cx="12" cy="12" r="8" fill="none" stroke="currentColor" '
               'stroke-width="1.8"/><path d="M12 4a8 8 0 0 1 0 16z" fill="currentColor"/>',
}


def _svg(name: str, size: int, color: str) -> bytes:
    body = DRAWINGS[name].replace("currentColor", color)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 24 24">{body}</svg>').encode()


def icon(name: str) -> QIcon:
    """The icon `name` (a key of DRAWINGS), drawn at 24 and 48 px."""
    color = QGuiApplication.palette().color(QPalette.ColorRole.WindowText).name()
    result = QIcon()
    for size in (24, 48):
        pixmap = QPixmap()
        if pixmap.loadFromData(QByteArray(_svg(name, size, color)), "SVG"):
            result.addPixmap(pixmap)
    return result


def decorate(action: QAction, name: str) -> QAction:
    """Give `action` its icon and a tooltip with its text and keys, e.g. "Brush (B)"."""
    action.setIcon(icon(name))
    text = action.text().replace("&", "")
    keys = ", ".join(sequence.toString() for sequence in action.shortcuts())
    action.setToolTip(f"{text} ({keys})" if keys else text)
    return action
