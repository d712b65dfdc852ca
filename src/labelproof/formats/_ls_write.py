"""Write Label Studio tasks JSON."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from labelproof.formats import _ls_rle
from labelproof.formats._cvat_rle import decode_coco
from labelproof.formats.model import Annotation, Dataset
from labelproof.formats.report import LossReport, where


def _region(a: Annotation, n: int, W: float, H: float, cat: Any) -> list[dict[str, Any]] | None:
    g = a.geometry
    base = {"original_width": int(W), "original_height": int(H), "image_rotation": 0}
    rid = f"r{n}"
    name = cat.name
    if a.type == "box":
        value: dict[str, Any] = {
            "x": g["x"] * 100 / W,
            "y": g["y"] * 100 / H,
            "width": g["w"] * 100 / W,
            "height": g["h"] * 100 / H,
            "rotation": 0,
            "rectanglelabels": [name],
        }
        kind = "rectanglelabels"
    elif a.type == "rotated_box":
        ang = math.radians(g["angle"])
        dx, dy = -g["w"] / 2, -g["h"] / 2
        x = g["cx"] + dx * math.cos(ang) - dy * math.sin(ang)
        y = g["cy"] + dx * math.sin(ang) + dy * math.cos(ang)
        value = {
            "x": x * 100 / W,
            "y": y * 100 / H,
            "width": g["w"] * 100 / W,
            "height": g["h"] * 100 / H,
            "rotation": g["angle"] % 360.0,
            "rectanglelabels": [name],
        }
        kind = "rectanglelabels"
    elif a.type == "polygon":
        value = {
            "points": [[x * 100 / W, y * 100 / H] for x, y in g["points"]],
            "polygonlabels": [name],
        }
        kind = "polygonlabels"
    elif a.type == "mask":
        bits = decode_coco(g["rle"])
        value = {"format": "rle", "rle": _ls_rle.encode(bits), "brushlabels": [name]}
        kind = "brushlabels"
    elif a.type == "tag":
        value = {"choices": [name]}
        kind = "choices"
        base = {}
    elif a.type == "keypoints" and cat.skeleton is not None:
        out = []
        for k, (kp, p) in enumerate(zip(cat.skeleton.keypoints, g["points"], strict=True)):
            if not p[2]:
                continue
            out.append(
                {
                    "id": f"{rid}k{k}",
                    "type": "keypointlabels",
                    "from_name": "keypoints",
                    "to_name": "image",
                    **base,
                    "labelproof_instance": n,
                    "value": {
                        "x": p[0] * 100 / W,
                        "y": p[1] * 100 / H,
                        "width": 0.5,
                        "keypointlabels": [kp],
                    },
                }
            )
        return out
    else:
        return None
    from_name = {"choices": "choice", "brushlabels": "brush"}.get(kind, "label")
    item: dict[str, Any] = {
        "id": rid,
        "type": kind,
        "from_name": from_name,
        "to_name": "image",
        **base,
        "value": value,
    }
    if a.score is not None:
        item["score"] = a.score
    out = [item]
    for key, val in a.attributes.items():
        out.append(
            {
                "id": rid,
                "type": "textarea",
                "from_name": f"attr:{key}",
                "to_name": "image",
                "value": {"text": [val if isinstance(val, str) else orjson.dumps(val).decode()]},
            }
        )
    return out


def write_labelstudio(ds: Dataset, out: Path, report: LossReport) -> None:
    cats = ds.category_by_id()
    per: dict[int, list[Annotation]] = defaultdict(list)
    for a in ds.iter_annotations():
        per[a.image_id].append(a)
    tasks = []
    n = 0
    for im in ds.images:
        human: list[dict[str, Any]] = []
        pred: list[dict[str, Any]] = []
        for a in per.get(im.id, []):
            n += 1
            ex = where(im.id, im.file_name, a.id)
            items = _region(a, n, im.width, im.height, cats[a.label])
            if items is None:
                report.drop(f"{a.type}: no place in Label Studio", ex)
                continue
            if a.type == "keypoints":
                if any(p[2] == 1 for p in a.geometry["points"]):
                    report.approx("occluded keypoint written as visible", ex)
                if a.attributes:
                    report.drop("attributes of keypoints", ex)
            if a.type != "keypoints" and any(not isinstance(v, str) for v in a.attributes.values()):
                report.approx("non-text attribute written as JSON text", ex)
            for prop, bad in (
                ("z_order", a.z_order),
                ("occluded flag", a.occluded),
                ("crowd flag", a.crowd),
                ("group", a.group is not None),
            ):
                if bad:
                    report.drop(f"{prop}: no place in Label Studio", ex)
            (pred if a.score is not None else human).extend(items)
            report.count(a.type, cats[a.label].name)
        task: dict[str, Any] = {
            "id": im.id,
            "data": {
                "image": f"/data/local-files/?d={im.file_name}",
                "labelproof_size": [im.width, im.height],
            },
            "annotations": [{"id": im.id, "result": human, "was_cancelled": False}]
            if human
            else [],
            "predictions": [{"model_version": "labelproof", "result": pred}] if pred else [],
        }
        tasks.append(task)
    report.images = len(ds.images)
    (out / "tasks.json").write_bytes(orjson.dumps(tasks, option=orjson.OPT_INDENT_2))
