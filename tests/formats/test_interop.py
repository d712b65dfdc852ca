"""Interop with the reference tools: pycocotools reads our COCO; Datumaro (in its own venv,
``scripts/peers-datumaro``) reads ours and we read Datumaro's."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from labelproof.formats import Annotation, get_codec

from .roundtrip import sample_dataset

ROOT = Path(__file__).resolve().parents[2]
PEER = ROOT / ".peers" / "datumaro" / "bin" / "python"
IN_CI = os.environ.get("CI", "").lower() == "true"


def test_pycocotools_reads_our_coco(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    ds = sample_dataset(["box", "polygon", "mask", "keypoints"], extras=False)
    get_codec("coco").write(ds, tmp_path)
    gt = COCO(str(tmp_path / "annotations" / "instances_train.json"))
    ours = {a.id: a for a in ds.annotations}
    anns = gt.loadAnns(gt.getAnnIds())
    assert len(anns) == 4
    for rec in anns:
        a = ours[rec["id"]]
        im = ds.image_by_id()[a.image_id]
        assert rec["image_id"] == a.image_id and rec["category_id"] == a.label
        if a.type == "box":
            g = a.geometry
            assert rec["bbox"] == [g["x"], g["y"], g["w"], g["h"]]
            assert rec["area"] == g["w"] * g["h"]
        mine = get_type_mask(a, im.width, im.height)
        if mine is not None:  # pycocotools' raster of our record == our own raster
            np.testing.assert_array_equal(gt.annToMask(rec).astype(bool), mine)
    assert gt.loadCats(5)[0]["keypoints"] == ["head", "left_hand", "right_hand"]
    assert gt.loadCats(5)[0]["skeleton"] == [[1, 2], [1, 3]]


def get_type_mask(a: Annotation, w: int, h: int) -> np.ndarray | None:
    from labelproof.annotypes import ImageSize, get_type
    from labelproof.formats._cvat_rle import decode_coco

    if a.type not in ("polygon", "mask"):  # boxes carry no segmentation for pycocotools
        return None
    m = get_type(a.type).to_mask(a.geometry, ImageSize(w, h)) if a.type != "mask" else a.geometry
    assert m is not None
    return decode_coco(m["rle"])


def _peer(script: str, *args: str) -> dict:  # type: ignore[type-arg]
    if not PEER.exists():
        if IN_CI:
            pytest.fail(f"{PEER} is missing: run scripts/peers-datumaro")
        pytest.skip(f"Datumaro peer venv absent ({PEER}); create it with scripts/peers-datumaro")
    proc = subprocess.run(
        [str(PEER), "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict = json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[type-arg]
    return out


COUNT = """
import sys, json, datumaro as dm
ds = dm.Dataset.import_from(sys.argv[1], sys.argv[2])
types = {}
for item in ds:
    for a in item.annotations:
        types[a.type.name] = types.get(a.type.name, 0) + 1
labels = [c.name for c in ds.categories()[dm.AnnotationType.label]]
print(json.dumps({"items": len(ds), "types": types, "labels": labels}))
"""


@pytest.mark.parametrize(
    ("codec_name", "dm_format", "types", "expect"),
    [
        # Datumaro adds a bbox for every COCO record, polygons included
        ("coco", "coco_instances", ["box", "polygon"], {"bbox": 4, "polygon": 2}),
        ("cvat", "cvat", ["box", "polygon", "polyline"], {"bbox": 2, "polygon": 2, "polyline": 2}),
        ("voc", "voc_detection", ["box"], {"bbox": 2}),
    ],
)
def test_datumaro_reads_ours(
    codec_name: str, dm_format: str, types: list[str], expect: dict[str, int], tmp_path: Path
) -> None:
    ds = sample_dataset(types, extras=False)
    from PIL import Image as PILImage

    pixels = tmp_path / "pixels"
    pixels.mkdir()
    for im in ds.images:
        im.split = "default"
        im.path = pixels / im.file_name
        PILImage.new("RGB", (im.width, im.height)).save(im.path)
    out = tmp_path / "out"
    out.mkdir()
    get_codec(codec_name).write(ds, out)
    got = _peer(COUNT, str(out), dm_format)
    assert got["items"] == len(ds.images)
    for k, v in expect.items():
        assert got["types"].get(k) == v, got
    assert {"car", "road sign"} <= set(got["labels"])


MAKE = """
import sys, json, numpy as np, datumaro as dm
cats = {dm.AnnotationType.label: dm.LabelCategories.from_iterable(["car", "person"])}
def pixels():
    return dm.Image.from_numpy(np.zeros((60, 80, 3), np.uint8))
items = [
    dm.DatasetItem(id="a", subset="train", media=pixels(),
        annotations=[dm.Bbox(10, 5, 20, 30, label=0, id=1, group=1),
                     dm.Polygon([5, 5, 40, 6, 30, 40], label=1, id=2, group=2)]),
    dm.DatasetItem(id="b", subset="train", media=pixels(),
        annotations=[dm.Bbox(1.5, 2.5, 10, 12, label=1, id=3, group=3)]),
]
dm.Dataset.from_iterable(items, categories=cats).export(sys.argv[1], sys.argv[2], save_media=True)
print(json.dumps({"ok": True}))
"""


@pytest.mark.parametrize(
    ("codec_name", "dm_format"),
    [("coco", "coco_instances"), ("cvat", "cvat"), ("voc", "voc_detection")],
)
def test_we_read_datumaro(codec_name: str, dm_format: str, tmp_path: Path) -> None:
    _peer(MAKE, str(tmp_path), dm_format)
    ds, report = get_codec(codec_name).read(tmp_path)
    assert len(ds.images) == 2
    boxes = sorted(
        (round(a.geometry["x"], 2), round(a.geometry["y"], 2), round(a.geometry["w"], 2))
        for a in ds.iter_annotations()
        if a.type == "box"
    )
    assert boxes == [(1.5, 2.5, 10.0), (10.0, 5.0, 20.0)]
    if codec_name != "voc":
        polys = [a for a in ds.iter_annotations() if a.type == "polygon"]
        assert len(polys) == 1
        assert sorted(map(tuple, polys[0].geometry["points"])) == [(5, 5), (30, 40), (40, 6)]
    assert report.images == 2


MASKS = """
import sys, json, datumaro as dm
ds = dm.Dataset.import_from(sys.argv[1], "voc_instance_segmentation")
labels = [c.name for c in ds.categories()[dm.AnnotationType.label]]
masks = sorted(
    [item.id, labels[a.label], int(a.image.sum())]
    for item in ds for a in item.annotations if a.type == dm.AnnotationType.mask
)
print(json.dumps({"masks": masks}))
"""


def test_datumaro_reads_our_voc_masks(tmp_path: Path) -> None:
    from labelproof.formats._cvat_rle import decode_coco

    ds = sample_dataset(["box", "mask"], extras=False)
    for im in ds.images:
        im.split = "default"
    get_codec("voc").write(ds, tmp_path)
    names = {c.id: c.name for c in ds.categories}
    want = sorted(
        [im.file_name[:-4], names[a.label], int(decode_coco(a.geometry["rle"]).sum())]
        for a in ds.annotations
        if a.type == "mask"
        for im in ds.images
        if im.id == a.image_id
    )
    assert len(want) == 2
    assert _peer(MASKS, str(tmp_path))["masks"] == want


MAKE_MASKS = """
import sys, json, numpy as np, datumaro as dm
cats = {dm.AnnotationType.label: dm.LabelCategories.from_iterable(["car", "person"])}
m1 = np.zeros((60, 80), np.uint8); m1[5:20, 10:30] = 1
m2 = np.zeros((60, 80), np.uint8); m2[30:50, 40:70] = 1
media = dm.Image.from_numpy(np.zeros((60, 80, 3), np.uint8))
anns = [dm.Bbox(1, 2, 10, 12, label=0, id=1, group=1),
        dm.Mask(image=m1, label=0, id=2, group=2), dm.Mask(image=m2, label=1, id=3, group=3)]
item = dm.DatasetItem(id="a", subset="train", media=media, annotations=anns)
dm.Dataset.from_iterable([item], categories=cats).export(sys.argv[1], "voc", save_media=True)
print(json.dumps({"ok": True}))
"""


def test_we_read_datumaro_voc_masks(tmp_path: Path) -> None:
    """Datumaro writes colour (RGB) class and object PNGs and numbers instances by itself."""
    from labelproof.formats._cvat_rle import decode_coco

    _peer(MAKE_MASKS, str(tmp_path))
    ds, report = get_codec("voc").read(tmp_path)
    names = ds.category_by_id()
    masks = sorted(
        (names[a.label].name, int(decode_coco(a.geometry["rle"]).sum()))
        for a in ds.annotations
        if a.type == "mask"
    )
    assert masks == [("car", 15 * 20), ("person", 20 * 30)]
    assert report.by_type == {"box": 1, "mask": 2}
