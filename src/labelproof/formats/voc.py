"""Pascal VOC detection and segmentation: ``Annotations/<stem>.xml``,
``ImageSets/{Main,Segmentation}/<split>.txt``, ``JPEGImages/``, ``SegmentationClass/`` and
``SegmentationObject/`` PNGs, ``labelmap.txt``.

Objects carry ``name``, ``bndbox`` (``xmin ymin xmax ymax`` in px, no offset, as Datumaro
reads them), ``difficult``, ``truncated``, ``occluded``, ``pose`` and other attributes in an
``<attributes>`` list (Datumaro's extension). A box is an object; a mask is an object too
(its ``bndbox`` is the mask's bounds) whose pixels carry its 1-based object number in the
``SegmentationObject`` PNG and its class index in the ``SegmentationClass`` PNG. On read,
an object with pixels is a mask; without an object PNG, each class present in the class
PNG is one mask. Everything else is dropped.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from labelproof.annotypes import validate
from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.formats import _voc_seg as seg
from labelproof.formats._cvat_rle import encode_coco
from labelproof.formats._io import parse_xml, read_text
from labelproof.formats._voc_write import write_voc
from labelproof.formats.model import Annotation, Category, Dataset, Image
from labelproof.formats.report import LossReport

NAME = "voc"
TITLE = "Pascal VOC detection XML"
READS = frozenset({"box", "mask"})
WRITES = frozenset({"box", "mask"})
CARRIES = frozenset({"attributes", "occluded", "splits"})
TOLERANCE = 0.0
_FLAGS = ("difficult", "truncated")


def detect(path: Path) -> float:
    if not path.is_dir() or not (path / "Annotations").is_dir():
        return 0.0
    return 0.9 if (path / "ImageSets").is_dir() else 0.7


def read(path: Path) -> tuple[Dataset, LossReport]:
    ann_dir = path / "Annotations"
    if not ann_dir.is_dir():
        raise InvalidDataset(f"{path}: no Annotations folder", field="input")
    ds = Dataset(name=path.name)
    report = LossReport(NAME, "read")
    split_of: dict[str, str] = {}
    for main in (path / "ImageSets" / "Main", path / "ImageSets" / seg.LIST_DIR):
        if not main.is_dir():
            continue
        for lst in sorted(main.glob("*.txt")):
            if "_" in lst.stem:
                continue  # per-class lists
            for line in read_text(lst).splitlines():
                if line.strip():
                    split_of.setdefault(line.split()[0], lst.stem)
    cats: dict[str, Category] = {}
    labelmap = seg.read_labelmap(path)
    segmented = (path / seg.CLASS_DIR).is_dir() or (path / seg.OBJECT_DIR).is_dir()
    for n, xml in enumerate(sorted(ann_dir.rglob("*.xml")), start=1):
        root = parse_xml(xml)
        stem = str(xml.relative_to(ann_dir).with_suffix(""))
        try:
            W = int(float(root.findtext("size/width") or "x"))
            H = int(float(root.findtext("size/height") or "x"))
        except ValueError:
            raise InvalidDataset(f"{xml}: size/width and size/height must be numbers") from None
        if W <= 0 or H <= 0:
            raise InvalidDataset(f"{xml}: image size {W}x{H} must be positive")
        fname = root.findtext("filename") or f"{stem}.jpg"
        img_path = path / "JPEGImages" / fname
        im = Image(
            n, fname, W, H, split_of.get(stem, "default"), img_path if img_path.is_file() else None
        )
        ds.images.append(im)
        parsed = [
            _parse_object(obj, f"{xml}: <object> #{k + 1}", im)
            for k, obj in enumerate(root.findall("object"))
        ]
        names = [p[0] for p in parsed]
        boxes_kept = list(range(len(parsed)))
        group_of: dict[int, int] = {}  # object index -> group shared with its mask
        for name, bits, linked in seg.read_masks(path, stem, W, H, labelmap, names):
            attrs: dict[str, object] = {}
            occluded, group = False, None
            if linked is not None:
                _, attrs, occluded, box = parsed[linked]
                ys, xs = np.nonzero(bits)
                bounds = (float(xs.min()), float(ys.min()), xs.max() + 1.0, ys.max() + 1.0)
                if box == bounds:  # the object only records the mask (as labelproof writes)
                    boxes_kept.remove(linked)
                else:  # a drawn box and a mask of the same object
                    group = group_of[linked] = linked + 1
            cat = cats.get(name) or ds.ensure_category(name)
            cats[name] = cat
            g = validate("mask", {"rle": encode_coco(bits)}, image=im.size)
            ds.annotations.append(
                Annotation(im.id, "mask", cat.id, g, dict(attrs), occluded=occluded, group=group)
            )
            report.count("mask", name)
        for k in boxes_kept:
            name, attrs, occluded, (x0, y0, x1, y1) = parsed[k]
            cat = cats.get(name) or ds.ensure_category(name)
            cats[name] = cat
            g = validate("box", {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}, image=im.size)
            ds.annotations.append(
                Annotation(im.id, "box", cat.id, g, attrs, occluded=occluded, group=group_of.get(k))
            )
            report.count("box", name)
    report.images = len(ds.images)
    if segmented:
        report.notes.append("void (255) pixels of segmentation PNGs are not part of any mask")
    return ds, report


def _object_attributes(obj: Any) -> tuple[dict[str, object], bool]:
    """(attributes, occluded) of an ``<object>`` element."""
    attrs: dict[str, object] = {}
    for flag in _FLAGS:
        t = obj.findtext(flag)
        if t is not None and t.strip() not in ("", "0"):
            attrs[flag] = True
    pose = obj.findtext("pose")
    if pose and pose.strip() != "Unspecified":
        attrs["pose"] = pose.strip()
    for at in obj.findall("attributes/attribute"):
        key = at.findtext("name") or ""
        val = at.findtext("value") or ""
        attrs[key] = {"true": True, "false": False}.get(val, val)
    occluded = (obj.findtext("occluded") or "0").strip() not in ("", "0")
    return attrs, occluded


def _parse_object(
    obj: Any, w_: str, im: Image
) -> tuple[str, dict[str, object], bool, tuple[float, float, float, float]]:
    """(name, attributes, occluded, (xmin, ymin, xmax, ymax)) of an ``<object>``; the box
    is checked against the image. InvalidDataset names the object."""
    name = (obj.findtext("name") or "").strip()
    if not name:
        raise InvalidDataset(f"{w_}: no <name>")
    attrs, occluded = _object_attributes(obj)
    try:
        vals = [float(obj.findtext(f"bndbox/{t}") or "x") for t in ("xmin", "ymin", "xmax", "ymax")]
    except ValueError:
        raise InvalidDataset(f"{w_}: bndbox needs numeric xmin, ymin, xmax, ymax") from None
    if not all(math.isfinite(v) for v in vals):
        raise InvalidDataset(f"{w_}: bndbox is not finite")
    x0, y0, x1, y1 = vals
    try:
        validate("box", {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}, image=im.size)
    except InvalidInput as exc:
        raise InvalidDataset(f"{w_}: {exc.message}") from None
    return name, attrs, occluded, (x0, y0, x1, y1)


def write(dataset: Dataset, out_dir: Path) -> LossReport:
    report = LossReport(NAME, "write")
    write_voc(dataset, out_dir, report)
    return report
