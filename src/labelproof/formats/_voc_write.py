"""Write Pascal VOC: one ``Annotations/<stem>.xml`` per image, boxes and masks as
``<object>`` elements, masks also painted into ``SegmentationClass``/``SegmentationObject``
palette PNGs (see ``voc.py`` and ``_voc_seg.py``)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from labelproof.formats import _voc_seg as seg
from labelproof.formats._cvat_rle import decode_coco
from labelproof.formats._media import place_image, safe_relpath
from labelproof.formats._palette import voc_color
from labelproof.formats.model import Annotation, Dataset, Image
from labelproof.formats.report import LossReport, where

_FLAGS = ("difficult", "truncated")


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _text(v: object) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def _object_xml(a: Annotation, name: str, box: tuple[float, float, float, float]) -> str:
    """An ``<object>`` with ``box`` = (xmin, ymin, xmax, ymax) px, flags and attributes."""
    attrs = dict(a.attributes)
    flags = "".join(f"<{f}>{int(bool(attrs.pop(f, False)))}</{f}>" for f in _FLAGS)
    pose = attrs.pop("pose", "Unspecified")
    extra = "".join(
        f"<attribute><name>{escape(str(k))}</name><value>{escape(_text(v))}</value></attribute>"
        for k, v in attrs.items()
    )
    x0, y0, x1, y1 = box
    return (
        f"  <object>\n    <name>{escape(name)}</name>\n"
        f"    <pose>{escape(str(pose))}</pose>\n"
        f"    {flags}<occluded>{int(a.occluded)}</occluded>\n"
        f"    <bndbox><xmin>{_num(x0)}</xmin><ymin>{_num(y0)}</ymin>"
        f"<xmax>{_num(x1)}</xmax><ymax>{_num(y1)}</ymax></bndbox>\n"
        + (f"    <attributes>{extra}</attributes>\n" if extra else "")
        + "  </object>\n"
    )


def write_voc(dataset: Dataset, out_dir: Path, report: LossReport) -> None:
    names = {c.id: c.name for c in dataset.categories}
    index = {c.id: i for i, c in enumerate(dataset.categories, start=1)}
    colors = [(0, 0, 0)] + [
        c.color or voc_color(i)
        for c, i in zip(dataset.categories, range(1, len(dataset.categories) + 1), strict=True)
    ]
    per: dict[int, list[Annotation]] = {}
    for a in dataset.iter_annotations():
        per.setdefault(a.image_id, []).append(a)
    (out_dir / "Annotations").mkdir(parents=True)
    (out_dir / "ImageSets" / "Main").mkdir(parents=True)
    lists: dict[str, list[str]] = {}
    seg_lists: dict[str, list[str]] = {}
    for im in dataset.images:
        stem = str(safe_relpath(im.file_name, f"image {im.id}").with_suffix(""))
        lists.setdefault(im.split, []).append(stem)
        objs: list[str] = []
        masks: list[tuple[int, int, Annotation]] = []  # (z_order, object number, mask)
        for a in per.get(im.id, []):
            ex = where(im.id, im.file_name, a.id)
            if a.type == "box":
                g = a.geometry
                box = (g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"])
            elif a.type == "mask":
                bits = decode_coco(a.geometry["rle"])
                ys, xs = np.nonzero(bits)
                if not ys.size:
                    report.drop("empty mask: no object to write", ex)
                    continue
                if len(objs) + 1 >= seg.VOID or index[a.label] >= seg.VOID:
                    report.drop("mask beyond object or class 254 (8-bit PNGs, 255 is void)", ex)
                    continue
                box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
                masks.append((a.z_order, len(objs) + 1, a))
            else:
                report.drop(f"{a.type}: no place in VOC", ex)
                continue
            objs.append(_object_xml(a, names[a.label], box))
            report.count(a.type, names[a.label])
            for prop, bad in (
                ("score", a.score is not None),
                ("z_order", a.z_order),
                ("crowd flag", a.crowd),
            ):
                if bad:
                    report.drop(f"{prop}: no place in VOC", ex)
        if masks:
            _paint(out_dir, stem, im, masks, index, colors, report)
            seg_lists.setdefault(im.split, []).append(stem)
        xml = (
            "<annotation>\n  <folder>JPEGImages</folder>\n"
            f"  <filename>{escape(im.file_name)}</filename>\n"
            f"  <size><width>{im.width}</width><height>{im.height}</height>"
            "<depth>3</depth></size>\n"
            f"  <segmented>{int(bool(masks))}</segmented>\n{''.join(objs)}</annotation>\n"
        )
        dst = out_dir / "Annotations" / f"{stem}.xml"
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(xml, encoding="utf-8")
        place_image(im, out_dir / "JPEGImages")
    for folder, by_split in (("Main", lists), (seg.LIST_DIR, seg_lists)):
        for split, stems in by_split.items():
            lst = out_dir / "ImageSets" / folder / f"{split}.txt"
            lst.parent.mkdir(parents=True, exist_ok=True)
            lst.write_text("\n".join(stems) + "\n", encoding="utf-8")
    # Datumaro's label map: name:r,g,b:parts:actions, background first; its colours are
    # the class PNGs' palette
    rows = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    for c, (red, green, blue) in zip(dataset.categories, colors[1:], strict=True):
        rows.append(f"{c.name}:{red},{green},{blue}::")
    (out_dir / "labelmap.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    report.images = len(dataset.images)


def _paint(
    out_dir: Path,
    stem: str,
    im: Image,
    masks: list[tuple[int, int, Annotation]],
    index: dict[int, int],
    colors: list[tuple[int, int, int]],
    report: LossReport,
) -> None:
    """Paint masks (later ``z_order`` over earlier) into the class and object PNGs."""
    classes = np.zeros((im.height, im.width), np.uint8)
    objects = np.zeros((im.height, im.width), np.uint8)
    for _, number, a in sorted(masks, key=lambda m: m[0]):
        bits = decode_coco(a.geometry["rle"])
        if (objects[bits] != 0).any():
            report.approx(
                "overlapping mask: pixels painted over by a later one",
                where(im.id, im.file_name, a.id),
            )
        classes[bits] = index[a.label]
        objects[bits] = number
    seg.save_indices(out_dir / seg.CLASS_DIR / f"{stem}.png", classes, colors)
    seg.save_indices(
        out_dir / seg.OBJECT_DIR / f"{stem}.png", objects, [voc_color(i) for i in range(256)]
    )
