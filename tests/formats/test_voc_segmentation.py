"""Pascal VOC segmentation PNGs: layout, palette, object numbering, semantic-only input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from labelproof.errors import InvalidDataset
from labelproof.formats import Annotation, Category, Dataset, Image, get_codec
from labelproof.formats._cvat_rle import decode_coco, encode_coco
from labelproof.formats._palette import voc_color

W, H = 40, 30


def _mask(y0: int, y1: int, x0: int, x1: int) -> dict[str, object]:
    bits = np.zeros((H, W), bool)
    bits[y0:y1, x0:x1] = True
    return {"rle": encode_coco(bits)}


def _dataset() -> Dataset:
    cats = [Category(3, "cat"), Category(7, "dog", color=(10, 20, 30))]
    ds = Dataset(images=[Image(1, "a.jpg", W, H)], categories=cats)
    ds.annotations = [
        Annotation(1, "box", 3, {"x": 1.0, "y": 1.0, "w": 5.0, "h": 4.0}),
        Annotation(1, "mask", 7, _mask(5, 15, 5, 25), z_order=0),
        Annotation(1, "mask", 3, _mask(10, 20, 20, 30), z_order=1, attributes={"pose": "Left"}),
    ]
    return ds


def test_masks_are_objects_with_numbered_pixels_and_palette(tmp_path: Path) -> None:
    report = get_codec("voc").write(_dataset(), tmp_path)
    assert report.by_type == {"box": 1, "mask": 2}
    assert report.approximated["overlapping mask: pixels painted over by a later one"] == 1
    xml = (tmp_path / "Annotations" / "a.xml").read_text()
    assert xml.count("<object>") == 3 and "<segmented>1</segmented>" in xml
    # object 2 is the dog mask: its bndbox is the mask's bounds (x 5..25, y 5..15)
    assert "<xmin>5</xmin><ymin>5</ymin><xmax>25</xmax><ymax>15</ymax>" in xml
    with PILImage.open(tmp_path / "SegmentationObject" / "a.png") as im:
        assert im.mode == "P"
        objects = np.asarray(im)
    assert objects[6, 6] == 2 and objects[12, 22] == 3 and objects[2, 2] == 0
    with PILImage.open(tmp_path / "SegmentationClass" / "a.png") as im:
        assert im.mode == "P"
        classes = np.asarray(im)
        palette = im.getpalette()
    assert palette is not None
    # label map order: background 0, cat 1, dog 2 (dog keeps its own colour)
    assert classes[6, 6] == 2 and classes[12, 22] == 1
    assert palette[3:6] == list(voc_color(1)) and palette[6:9] == [10, 20, 30]
    labelmap = (tmp_path / "labelmap.txt").read_text().splitlines()
    assert labelmap[1:] == ["background:0,0,0::", "cat:128,0,0::", "dog:10,20,30::"]
    assert (tmp_path / "ImageSets" / "Segmentation" / "default.txt").read_text() == "a\n"

    back, rrep = get_codec("voc").read(tmp_path)
    assert rrep.by_type == {"box": 1, "mask": 2}
    masks = {back.category_by_id()[a.label].name: a for a in back.annotations if a.type == "mask"}
    # the dog lost the pixels the cat (later z_order) painted over
    dog = decode_coco(masks["dog"].geometry["rle"])
    assert dog.sum() == 10 * 20 - 5 * 5 and not dog[12, 22]
    assert decode_coco(masks["cat"].geometry["rle"]).sum() == 10 * 10
    assert masks["cat"].attributes == {"pose": "Left"}


def test_class_png_alone_gives_one_mask_per_class(tmp_path: Path) -> None:
    get_codec("voc").write(_dataset(), tmp_path)
    for f in (tmp_path / "SegmentationObject").iterdir():
        f.unlink()
    (tmp_path / "SegmentationObject").rmdir()
    back, rrep = get_codec("voc").read(tmp_path)
    names = back.category_by_id()
    got = sorted(
        (names[a.label].name, int(decode_coco(a.geometry["rle"]).sum()))
        for a in back.annotations
        if a.type == "mask"
    )
    assert got == [("cat", 100), ("dog", 175)]
    # without the object PNG the mask objects of the XML are read as boxes
    assert rrep.by_type == {"box": 3, "mask": 2}


def test_rgb_class_png_is_mapped_through_the_label_map(tmp_path: Path) -> None:
    get_codec("voc").write(_dataset(), tmp_path)
    (tmp_path / "SegmentationObject" / "a.png").unlink()
    png = tmp_path / "SegmentationClass" / "a.png"
    with PILImage.open(png) as im:
        rgb = im.convert("RGB")
    rgb.save(png)
    back, _ = get_codec("voc").read(tmp_path)
    assert sum(a.type == "mask" for a in back.annotations) == 2
    pixels = np.asarray(rgb).copy()
    pixels[0, 0] = (1, 2, 3)
    PILImage.fromarray(pixels).save(png)
    with pytest.raises(InvalidDataset, match=r"a\.png: colour \(1, 2, 3\) is not in the label map"):
        get_codec("voc").read(tmp_path)


def test_png_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    get_codec("voc").write(_dataset(), tmp_path)
    PILImage.new("P", (W + 1, H)).save(tmp_path / "SegmentationObject" / "a.png")
    with pytest.raises(InvalidDataset, match=r"size 41x30 is not the image's 40x30"):
        get_codec("voc").read(tmp_path)


def test_empty_mask_is_dropped(tmp_path: Path) -> None:
    ds = _dataset()
    ds.annotations.append(Annotation(1, "mask", 3, {"rle": encode_coco(np.zeros((H, W), bool))}))
    report = get_codec("voc").write(ds, tmp_path)
    assert report.dropped["empty mask: no object to write"] == 1
