"""COCO instances JSON: one annotation (polygons or RLE) per connected region of a class.

Choices, so that readers know what they get:

* Regions are 8-connected (pixels touching by a corner belong together), OpenCV's default:
  a thin diagonal structure (a pole, a lane marking) stays one region.
* `segmentation` is by default polygons along the region's outline (a quarter pixel inside
  the pixel edges, so pycocotools and pixel-centre readers fill exactly the region's
  pixels); a region with holes is written as RLE (polygons of one annotation are united).
  Optionally compressed RLE (pycocotools' string) or uncompressed RLE,
  ``{"counts": [...], "size": [h, w]}``: run
  lengths over the mask read in column-major (Fortran) order, alternating zeros and ones and
  starting with the zeros (0 when the first pixel is set); no trailing run of zeros is
  written. pycocotools reads it with ``frPyObjects``/``annToRLE``.
* ``iscrowd`` is 0. Each annotation is one region of one class, not a crowd of objects, and
  COCO's evaluation treats ``iscrowd: 1`` regions as areas to ignore. pycocotools chooses
  the decoder from the form of ``segmentation`` (polygon list or RLE dict), not from
  ``iscrowd``; COCO-Stuff ships RLE segmentations with ``iscrowd: 0`` the same way.
* Category ids are class index + 1 (COCO keeps 0 free); void pixels get no annotation.
* Regions under ``min_area`` pixels (an export option, default 0: every region) are left
  out, so prediction speckle need not become hundreds of annotations.
* ``area`` is the region's pixel count; ``bbox`` is ``[x, y, width, height]`` in pixels.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterator

import cv2
import numpy as np

from segnet_core.masks.render import encode_png

from .output import Exporter

#: Pixel connectivity of a COCO region (8: corners connect; OpenCV's default).
CONNECTIVITY = 8


def _counts(indices: np.ndarray, total: int) -> list[int]:
    """RLE counts of a mask given the sorted column-major indices of its set pixels."""
    if indices.size == 0:
        return [int(total)]
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    starts = indices[np.concatenate(([0], breaks))]
    ends = indices[np.concatenate((breaks - 1, [indices.size - 1]))] + 1
    counts = np.empty(2 * starts.size + 1, np.int64)
    counts[0] = starts[0]
    counts[2:-1:2] = starts[1:] - ends[:-1]
    counts[1::2] = ends - starts
    counts[-1] = total - ends[-1]
    if counts[-1] == 0:
        counts = counts[:-1]
    return counts.tolist()


def rle_encode(binary: np.ndarray) -> dict[str, Any]:
    """COCO uncompressed RLE of an HxW boolean (or 0/1) mask."""
    binary = np.asarray(binary)
    h, w = binary.shape
    indices = np.flatnonzero(binary.T.ravel())  # column-major order
    return {"counts": _counts(indices, h * w), "size": [int(h), int(w)]}


def mask_regions(mask: np.ndarray, num_classes: int,
                 connectivity: int = CONNECTIVITY) -> Iterator[tuple[int, dict, int, list[int]]]:
    """(class index, RLE, area, bbox) for every connected region of every class in `mask`,
    by class then in OpenCV's label order. Values >= `num_classes` (void) are left out."""
    h, w = mask.shape
    region_ids = np.zeros((h, w), np.int32)
    regions: list[tuple[int, list[int], int]] = []  # class, bbox, area
    for k in np.unique(mask):
        k = int(k)
        if k >= num_classes:
            continue
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            (mask == k).astype(np.uint8), connectivity=connectivity, ltype=cv2.CV_32S)
        inside = labels > 0
        region_ids[inside] = labels[inside] + len(regions)
        for label in range(1, count):
            x, y, bw, bh, area = (int(v) for v in stats[label, :5])
            regions.append((k, [x, y, bw, bh], area))
    if not regions:
        return
    flat = region_ids.T.ravel()  # column-major, so each region's indices come out sorted
    order = np.argsort(flat, kind="stable")
    ids = flat[order]
    bounds = np.searchsorted(ids, np.arange(1, len(regions) + 2))
    for number, (k, bbox, area) in enumerate(regions):
        indices = order[bounds[number]:bounds[number + 1]]
        yield k, {"counts": _counts(indices, h * w), "size": [h, w]}, area, bbox


#: How `segmentation` is written: "polygons" (RLE for a region with holes), "uncompressed"
#: or "compressed" RLE.
COCO_SEGMENTATIONS = ("polygons", "uncompressed", "compressed")


def compress_counts(counts: list[int]) -> str:
    """COCO's compressed RLE string of `counts` (as pycocotools' rleToString writes it)."""
    chars = []
    for i, value in enumerate(counts):
        x = int(value) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            chars.append(chr(c + 48 + (0x20 if more else 0)))
    return "".join(chars)


def region_polygons(region: np.ndarray) -> list[list[float]] | None:
    """Polygons ([x0, y0, x1, y1, ...]) whose filled union is exactly `region` for
    pycocotools and for pixel-centre readers; None when the region has holes (several
    polygons of one annotation are united, so a hole cannot be drawn)."""
    doubled = np.kron(region.astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, hierarchy = cv2.findContours(doubled, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None or (hierarchy[0][:, 3] >= 0).any():
        return None
    # contour points run through the doubled pixels' centres: a quarter pixel inside the edges
    return [((c[:, 0, :].astype(np.float64) + 0.5) / 2).ravel().tolist() for c in contours]


class CocoExporter(Exporter):
    """`images/<stem>.png` (the image) and `instances.json` (COCO instances, polygons or RLE;
    an image's ``file_name`` is relative to `images/`)."""

    format = "coco"
    needs_image = True

    def __init__(self, out, label_set, options):
        super().__init__(out, label_set, options)
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def add(self, item, mask, image, split):
        file_name = f"{item.name}.png"
        self.out.write_bytes(f"images/{file_name}", encode_png(image), item, role="image")
        image_id = len(self.images) + 1
        h, w = mask.shape
        self.images.append({"id": image_id, "file_name": file_name, "width": int(w),
                            "height": int(h)})
        for k, rle, area, bbox in mask_regions(mask, self.label_set.num_classes):
            if area < self.options.min_area:
                continue
            rle = self._segmentation(rle)
            self.annotations.append({
                "id": len(self.annotations) + 1, "image_id": image_id, "category_id": k + 1,
                "segmentation": rle, "area": area, "bbox": bbox, "iscrowd": 0,
            })

    def _segmentation(self, rle: dict[str, Any]) -> Any:
        style = self.options.coco_segmentation
        if style == "compressed":
            return {"counts": compress_counts(rle["counts"]), "size": rle["size"]}
        if style == "polygons":
            h, w = rle["size"]
            counts = np.asarray(rle["counts"], np.int64)
            values = np.zeros(len(counts), np.uint8)
            values[1::2] = 1
            flat = np.repeat(values, counts)
            flat = np.concatenate((flat, np.zeros(h * w - flat.size, np.uint8)))
            polygons = region_polygons(flat.reshape(w, h).T)
            if polygons is not None:
                return polygons
        return rle

    def finish(self):
        document = {
            "info": {"description": "Masks exported by SegNet Studio",
                     "date_created": datetime.now(timezone.utc).isoformat(timespec="seconds")},
            "licenses": [],
            "images": self.images,
            "categories": [{"id": k + 1, "name": name, "supercategory": "class"}
                           for k, name in enumerate(self.label_set.names)],
            "annotations": self.annotations,
        }
        data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.out.write_bytes("instances.json", data, None, images=len(self.images),
                             annotations=len(self.annotations))
