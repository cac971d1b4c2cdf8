"""Import of masks made by other tools: CamVid folders or lists, Pascal VOC folders, COCO
instances files, colour masks and plain index masks.

`import_labels(source, images_dir, fmt, out_dir, label_set, overwrite, progress, cancel)`
reads the source's masks, matches them to the images of `images_dir` by file stem, maps
their classes to the label set (by name where the source names them, else by index or by
colour), and writes them as index PNGs ``<stem>.png`` into the images' labels folder, all or
nothing. The `ImportReport` it returns lists what was written, kept, unmatched and unknown.
No function here prints; `ImportReport.lines()` gives the text.

=========== ==========================================================================
camvid      a folder of list files (``train.txt``...) or one list file, or ``*annot/``
            folders; ``label_colors.txt`` beside them names the classes
voc         ``SegmentationClass/`` palette PNGs, 255 = void; ``labels.txt`` names classes
coco        an instances JSON (or a folder holding one): polygons, RLE, compressed RLE
color       a folder of RGB masks in the label set's colours
index       a folder of grey or palette masks whose values are class indices
=========== ==========================================================================
"""

from .classes import COMMON_VOID
from .export_marks import ExportMarks, export_marks
from .images import ImageFolder, ImageTarget
from .report import ImportFormat, ImportReport, SourceMask, UnknownClass
from .rle import counts_from_string, decode_counts, decode_polygons, decode_rle
from .run import Cancel, Progress, choose_label_set, import_labels
from .sources import detect_format, read_source
from .writing import MaskWriteError

#: The formats a source may be given as, `auto` first.
FORMAT_NAMES: tuple[str, ...] = tuple(f.value for f in ImportFormat)

__all__ = [
    "COMMON_VOID", "FORMAT_NAMES", "Cancel", "ExportMarks", "ImageFolder", "ImageTarget",
    "ImportFormat",
    "ImportReport", "MaskWriteError", "Progress", "SourceMask", "UnknownClass",
    "choose_label_set", "counts_from_string", "decode_counts", "decode_polygons",
    "decode_rle", "detect_format", "export_marks", "import_labels", "read_source",
]
