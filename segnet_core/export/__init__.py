"""Export of masks (corrected, or the model's predictions) in the formats other tools read.

`export_masks(items, out_dir, formats, label_set, ...)` writes each chosen format into its
own folder below `out_dir` and a `manifest.json` listing every written file:

=========== ==========================================================================
index       `index/<stem>.png`: palette PNG, pixel values the class indices
color       `color/<stem>.png`: RGB in the label set's colours
per-class   `per-class/<stem>/<class>.png`: 0/255 binary mask per class
overlay     `overlay/<stem>.png`: the image blended with the colours (`alpha`)
video       `video/<video stem>.mp4` (`images.mp4` for stills): overlays as mp4v video
camvid      `camvid/`: `train/`, `trainannot/`, `train.txt`, `label_colors.txt` (+ val, test)
voc         `voc/`: `JPEGImages/`, `SegmentationClass/` (void 255), `ImageSets/`, `labels.txt`
coco        `coco/`: `images/`, `instances.json`: an annotation per connected region of a
            class, as polygons (RLE for a region with holes, which polygons cannot hold),
            or RLE for every region with `coco_segmentation`
=========== ==========================================================================

Items (`ExportItem`) name the stem of their files, so every mask matches its image by name.
Every file is written atomically (temporary file, fsync, rename); a disk error raises
`ExportError` naming the file. `export_format` and the `export_<format>` functions write a
single format straight into a folder, without a manifest. `MaskedInputs` makes the items
of images, folders and videos whose masks lie in a labels folder.
"""

from .coco import CONNECTIVITY, mask_regions, rle_encode
from .images import DEFAULT_VIDEO_FPS, class_file_names
from .items import ExportItem, SourceSizes
from .layouts import (SET_ASIDE, SPLIT_NAMES, VOC_VOID, VOC_VOID_COLOR, assign_splits,
                      check_split)
from .output import ExportOptions
from .result import ExportResult
from .run import (EARLIER_FILES, FORMATS, MANIFEST, MANIFEST_FORMAT, export_camvid,
                  export_coco, export_color, export_format, export_index, export_masks,
                  export_overlay, export_per_class, export_video, export_voc)
from .sources import MaskedInputs

__all__ = [
    "CONNECTIVITY", "DEFAULT_VIDEO_FPS", "EARLIER_FILES", "FORMATS", "MANIFEST",
    "MANIFEST_FORMAT", "SET_ASIDE", "SPLIT_NAMES", "VOC_VOID", "VOC_VOID_COLOR",
    "ExportItem", "ExportOptions", "ExportResult", "MaskedInputs", "SourceSizes",
    "assign_splits",
    "check_split", "class_file_names",
    "export_camvid", "export_coco", "export_color", "export_format", "export_index",
    "export_masks", "export_overlay", "export_per_class", "export_video", "export_voc",
    "mask_regions", "rle_encode",
]
