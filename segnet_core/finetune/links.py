"""Which corrected frames are linked by propagation, so that a fine-tune holds them out
together or not at all.

Labels propagated from frame S to frame F are S's labels moved by optical flow. With S held
out and F trained (or the other way round), the model is scored on labels it has all but
seen, and the verdict flatters it. The window notes each propagation in the labels folder's
`propagated_from.txt` (`PROPAGATED_FROM`), one "F <- S" line (mask names) per frame carried
to. A line stays when the labels are accepted, edited, or undone since: a link too many only
narrows the held-out draw, a link too few flatters the verdict. Links are transitive:
S -> F -> G puts all three in one group.

The frames carried to (`carried_names`) are also no evidence of how right the model is:
where the flow was not trusted their labels are the model's own prediction.
"""

from __future__ import annotations

from typing import Callable, Collection, Sequence

from segnet_core.masks.labels_folder import (  # the lines' form: kept beside the list's
    LINK, LabelsFolder, carried_names, link_line, parse_link)

__all__ = ["LINK", "carried_names", "link_groups", "link_line", "parse_link"]


def link_groups(masks: Sequence[tuple[LabelsFolder, str]],
                lines: Callable[[LabelsFolder], Collection[str]]) -> list[str | None]:
    """Per mask (its labels folder and name: `frames.mask_location`), the group of masks
    linked to it by propagation, directly or through other frames (named by its folder and
    first mask name); None when no link names it. `lines`: a labels folder's
    `propagated_from.txt` lines (asked once per folder)."""
    parent: dict[tuple[LabelsFolder, str], tuple[LabelsFolder, str]] = {}

    def root(node):
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    keys = list(masks)
    for folder in dict.fromkeys(folder for folder, _name in keys):
        for line in lines(folder):
            link = parse_link(line)
            if link is None:
                continue
            a, b = ((folder, name) for name in link)
            for node in (a, b):
                parent.setdefault(node, node)
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb, key=_order)] = min(ra, rb, key=_order)
    return [None if key not in parent else _group_name(root(key)) for key in keys]


def _order(node: tuple[LabelsFolder, str]) -> tuple[str, str]:
    return str(node[0].root), node[1]


def _group_name(node: tuple[LabelsFolder, str]) -> str:
    return str(node[0].root / node[1])
