"""Drive-held-out splits: frames grouped by the drive their file name names."""

from pathlib import Path

import pytest

from segnet_core.data import drives
from segnet_core.data.datasets import Sample, SegmentationDataset
from segnet_core.errors import DataError
from segnet_core.labels import camvid_label_set

CAMVID = Path(__file__).resolve().parents[3] / "shared" / "data" / "camvid"


def dataset(names, source="list"):
    return SegmentationDataset([Sample(Path(f"/d/{n}.png"), Path(f"/m/{n}.png")) for n in names],
                               camvid_label_set(), source)


def test_hold_out_drive_splits_by_file_name_prefix():
    data = dataset(["0001TP_006690", "0006R0_f02010", "0016E5_07959", "0006R0_f02040"])
    assert drives.drives(data) == ["0001TP", "0006R0", "0016E5"]
    rest, held = drives.hold_out_drive(data, "0006R0")
    assert [s.image.stem for s in held.samples] == ["0006R0_f02010", "0006R0_f02040"]
    assert [s.image.stem for s in rest.samples] == ["0001TP_006690", "0016E5_07959"]
    with pytest.raises(DataError, match="no frame of drive 'XYZ'.*0001TP, 0006R0, 0016E5"):
        drives.hold_out_drive(data, "XYZ")


def test_join_keeps_order_and_drops_duplicates():
    a, b = dataset(["x_1", "y_2"], "a"), dataset(["y_2", "z_3"], "b")
    joined = drives.join([a, b])
    assert [s.image.stem for s in joined.samples] == ["x_1", "y_2", "z_3"]


@pytest.mark.camvid
@pytest.mark.skipif(not CAMVID.is_dir(), reason="needs ../shared/data/camvid")
def test_camvid_drives_match_its_readme():
    counts = {drive: len(drives.drive_frames(CAMVID, drive))
              for drive in ("0001TP", "0006R0", "0016E5")}
    assert counts == {"0001TP": 62, "0006R0": 101, "0016E5": 305}
    val = drives.drive_frames(CAMVID, "0016E5", splits=("val",))  # its one stretch
    assert len(val) == 101 and val.samples[0].image.name == "0016E5_07959.png"
    frames = drives.drive_frames(CAMVID, "0006R0")
    names = [s.image.name for s in frames.samples]
    assert names == sorted(names)
