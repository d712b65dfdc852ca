"""Write a :class:`Dataset` as COCO JSON, one ``annotations/instances_<split>.json`` per split."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from labelproof.annotypes import get_type
from labelproof.formats._media import place_image
from labelproof.formats.model import Annotation, Dataset
from labelproof.formats.report import LossReport, where


def _rle_fields(rle: dict[str, Any]) -> tuple[list[float], float]:
    from pycocotools import mask as mask_utils

    obj = {"size": rle["size"], "counts": rle["counts"].encode()}
    bbox = [float(v) for v in mask_utils.toBbox(obj)]
    return bbox, float(mask_utils.area(obj))


def _poly_area(points: list[list[float]], h: int, w: int) -> float:
    from pycocotools import mask as mask_utils

    flat = [float(v) for p in points for v in p]
    rle = mask_utils.merge(mask_utils.frPyObjects([flat], h, w))
    return float(mask_utils.area(rle))


def _bounds(points: list[list[float]]) -> list[float]:
    a = np.asarray(points, np.float64)[:, :2]
    x0, y0 = a.min(axis=0)
    x1, y1 = a.max(axis=0)
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def write_coco(ds: Dataset, out_dir: Path, report: LossReport) -> None:
    images = ds.image_by_id()
    names = {c.id: c.name for c in ds.categories}
    cats = []
    for c in ds.categories:
        d: dict[str, Any] = {"id": c.id, "name": c.name, "supercategory": c.supercategory}
        if c.skeleton is not None:
            d["keypoints"] = list(c.skeleton.keypoints)
            d["skeleton"] = [[a + 1, b + 1] for a, b in c.skeleton.edges]
        cats.append(d)
    by_split: dict[str, list[dict[str, Any]]] = defaultdict(list)
    split_of = {im.id: im.split for im in ds.images}
    used_ids = {int(v) for v in ds.boxes.ann_id if v >= 0}
    used_ids |= {a.id for a in ds.annotations if a.id is not None}
    next_id = max(used_ids, default=0) + 1
    seen: set[int] = set()

    def new_id(wanted: int | None) -> int:
        nonlocal next_id
        if wanted is not None and wanted >= 1 and wanted not in seen:
            seen.add(wanted)
            return wanted
        while next_id in seen:
            next_id += 1
        seen.add(next_id)
        return next_id

    b = ds.boxes
    if len(b):
        xywh = b.xywh.tolist()
        img_l, lab_l, id_l = b.image_id.tolist(), b.label.tolist(), b.ann_id.tolist()
        crowd_l, score_l = b.crowd.tolist(), b.score.tolist()
        for k in range(len(b)):
            w, h = xywh[k][2], xywh[k][3]
            rec: dict[str, Any] = {
                "id": new_id(id_l[k] if id_l[k] >= 0 else None),
                "image_id": img_l[k],
                "category_id": lab_l[k],
                "bbox": xywh[k],
                "area": w * h,
                "iscrowd": int(crowd_l[k]),
                "segmentation": [],
            }
            if score_l[k] == score_l[k]:
                rec["score"] = score_l[k]
            by_split[split_of[img_l[k]]].append(rec)
        u, cnt = np.unique(b.label, return_counts=True)
        for c, n in zip(u.tolist(), cnt.tolist(), strict=True):
            report.count("box", names[c], n)

    groups: dict[tuple[int, int, int], list[Annotation]] = defaultdict(list)
    singles: list[list[Annotation]] = []
    for a in ds.annotations:
        if a.group is not None and a.type in ("keypoints", "polygon", "box"):
            groups[(a.image_id, a.group, a.label)].append(a)
        else:
            singles.append([a])
    units: list[list[Annotation]] = []
    for members in groups.values():
        kinds = [m.type for m in members]
        ok = kinds.count("keypoints") <= 1 and kinds.count("box") <= 1
        ok = ok and not (kinds.count("box") and kinds.count("polygon"))
        ok = ok and all(not m.geometry.get("holes") for m in members if m.type == "polygon")
        units.extend([members] if ok else [[m] for m in members])
    units.extend(singles)
    for unit in units:
        made = _record(unit, images, names, report)
        if made is None:
            continue
        made["id"] = new_id(unit[0].id)
        by_split[split_of[unit[0].image_id]].append(made)

    ann_dir = out_dir / "annotations"
    ann_dir.mkdir(parents=True, exist_ok=True)
    for split in ds.splits():
        imgs = [im for im in ds.images if im.split == split]
        doc = {
            "info": {"description": ds.name or "labelproof export"},
            "licenses": [],
            "images": [
                {"id": im.id, "file_name": im.file_name, "width": im.width, "height": im.height}
                for im in imgs
            ],
            "annotations": by_split.get(split, []),
            "categories": cats,
        }
        (ann_dir / f"instances_{split}.json").write_bytes(orjson.dumps(doc))
        (out_dir / "images" / split).mkdir(parents=True, exist_ok=True)
        for im in imgs:
            place_image(im, out_dir / "images" / split)
    report.images += len(ds.images)


def _record(
    unit: list[Annotation], images: dict[int, Any], names: dict[int, str], report: LossReport
) -> dict[str, Any] | None:
    first = unit[0]
    im = images[first.image_id]
    ex = where(im.id, im.file_name, first.id)
    label = names[first.label]
    rec: dict[str, Any] = {
        "image_id": first.image_id,
        "category_id": first.label,
        "iscrowd": int(first.crowd),
    }
    attrs = dict(first.attributes)
    if first.occluded:
        attrs["occluded"] = True
    bbox: list[float] | None = None
    area = 0.0
    segs: list[list[float]] = []
    for a in unit:
        g = a.geometry
        if a.type == "box":
            bbox = [g["x"], g["y"], g["w"], g["h"]]
            area = g["w"] * g["h"]
        elif a.type == "rotated_box":
            bbox = [g["cx"] - g["w"] / 2, g["cy"] - g["h"] / 2, g["w"], g["h"]]
            attrs["rotation"] = g["angle"]
            area = g["w"] * g["h"]
        elif a.type == "polygon" and not g["holes"]:
            segs.append([float(v) for p in g["points"] for v in p])
            area += _poly_area(g["points"], im.height, im.width)
        elif a.type in ("polygon", "mask"):
            if a.type == "polygon":
                report.approx("polygon with holes written as RLE mask", ex)
                g = get_type("polygon").to_mask(g, im.size) or {}
            rec["segmentation"] = {"size": g["rle"]["size"], "counts": g["rle"]["counts"]}
            bbox, area = _rle_fields(g["rle"])
        elif a.type == "keypoints":
            pts = g["points"]
            rec["keypoints"] = [v for p in pts for v in (p[0], p[1], p[2])]
            rec["num_keypoints"] = sum(1 for p in pts if p[2] > 0)
        else:
            report.drop(f"{a.type}: no place in COCO", ex)
            continue
        report.count(a.type, label)
    if "segmentation" not in rec:
        rec["segmentation"] = segs
        if segs and bbox is None:
            bbox = _bounds([p for a in unit if a.type == "polygon" for p in a.geometry["points"]])
    if bbox is None and "keypoints" in rec:
        labelled = [p for a in unit if a.type == "keypoints" for p in a.geometry["points"] if p[2]]
        bbox = _bounds(labelled) if labelled else [0.0, 0.0, 0.0, 0.0]
        area = bbox[2] * bbox[3]
    if bbox is None:
        return None
    rec["bbox"] = bbox
    rec["area"] = area
    if attrs:
        rec["attributes"] = attrs
    if first.score is not None:
        rec["score"] = first.score
    for a in unit:
        if a.z_order:
            report.drop("z_order: no place in COCO", ex)
        if a.track is not None:
            report.drop("track id: no place in COCO", ex)
        if a.group is not None and len(unit) == 1:
            report.drop("group: no place in COCO", ex)
    return rec
