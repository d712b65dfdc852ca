"""Write a :class:`Dataset` in the Ultralytics YOLO layout (detect, segment, pose, OBB).

Plain boxes from the columnar store are formatted with vectorised code (``_numfmt``):
normalised ``cx cy w h`` with 6 decimals, one text block per image, no Python object per
box. Other annotations are formatted one by one.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from labelproof.formats import _numfmt as nf
from labelproof.formats import _yaml
from labelproof.formats._box_order import BoxesByImage
from labelproof.formats._media import check_relpath, place_image
from labelproof.formats.model import Annotation, Dataset
from labelproof.formats.report import LossReport, where

SIDECAR = "labelproof.images.json"
ROWS_PER_BATCH = 250_000
"""Columnar boxes are formatted this many at a time (whole images per batch)."""


def choose_task(ds: Dataset) -> str:
    types = {a.type for a in ds.annotations}
    if "keypoints" in types:
        return "pose"
    if "rotated_box" in types:
        return "obb"
    if types & {"polygon"}:
        return "segment"
    return "detect"


def _f(v: float) -> str:
    return f"{v:.6f}"


def corners(g: dict[str, Any]) -> list[tuple[float, float]]:
    """Rotated box corners TL, TR, BR, BL (unrotated order), px."""
    a = math.radians(g["angle"])
    c, s = math.cos(a), math.sin(a)
    out = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x, y = dx * g["w"] / 2, dy * g["h"] / 2
        out.append((g["cx"] + c * x - s * y, g["cy"] + s * x + c * y))
    return out


def _box_line(cls: int, x: float, y: float, w: float, h: float, W: int, H: int) -> str:
    return f"{cls} {_f((x + w / 2) / W)} {_f((y + h / 2) / H)} {_f(w / W)} {_f(h / H)}"


def write_yolo(ds: Dataset, out: Path, report: LossReport) -> None:
    task = choose_task(ds)
    report.notes.append(f"YOLO task: {task}")
    cls_of = {c.id: i for i, c in enumerate(ds.categories)}
    names = {c.id: c.name for c in ds.categories}
    images = ds.image_by_id()
    skeletons = {c.skeleton for c in ds.categories if c.skeleton is not None}
    skeleton = next(iter(skeletons)) if len(skeletons) == 1 else None
    if len(skeletons) > 1:
        report.notes.append("several skeletons: only the first keypoint class set is written")
        skeleton = next(c.skeleton for c in ds.categories if c.skeleton is not None)
    text: dict[int, list[bytes]] = defaultdict(list)

    # columnar boxes, vectorised per batch of images (see _label_files)
    b = ds.boxes
    by_image: BoxesByImage | None = None
    if len(b):
        if task in ("detect", "segment", "obb"):
            by_image = BoxesByImage(ds, report)
            u, cnt = np.unique(b.label[by_image.kept], return_counts=True)
            for c, n in zip(u.tolist(), cnt.tolist(), strict=True):
                report.count("box", names[c], n)
                if task != "detect":
                    report.approx(f"box written as a 4-corner {task} polygon", None, n)
        else:
            report.drop("box without keypoints in a pose dataset", None, len(b))
        if not np.isnan(b.score).all():
            report.drop("score: no place in YOLO labels", None, int((~np.isnan(b.score)).sum()))

    partner: dict[tuple[int, int], Annotation] = {}
    if task == "pose":
        for a in ds.annotations:
            if a.type == "box" and a.group is not None:
                partner[(a.image_id, a.group)] = a
    used_partner: set[int] = set()
    for a in ds.annotations:
        im = images[a.image_id]
        W, H = im.width, im.height
        ex = where(im.id, im.file_name, a.id)
        cls = cls_of[a.label]
        g = a.geometry
        line = None
        if task == "pose":
            if a.type == "keypoints":
                cat = next(c for c in ds.categories if c.id == a.label)
                if cat.skeleton != skeleton:
                    report.drop("keypoints of a second skeleton", ex)
                    continue
                p = partner.get((a.image_id, a.group)) if a.group is not None else None
                if p is not None:
                    used_partner.add(id(p))
                    bx = p.geometry
                    x, y, w, h = bx["x"], bx["y"], bx["w"], bx["h"]
                else:
                    pts = np.array([q[:2] for q in g["points"] if q[2]], np.float64).reshape(-1, 2)
                    if not len(pts):
                        report.drop("keypoints with no labelled point", ex)
                        continue
                    (x, y), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
                    w, h = x1 - x, y1 - y
                    report.approx("pose box computed from the keypoints", ex)
                kp = " ".join(f"{_f(q[0] / W)} {_f(q[1] / H)} {q[2]}" for q in g["points"])
                line = f"{_box_line(cls, x, y, w, h, W, H)} {kp}"
            elif a.type == "box" and a.group is not None:
                continue  # written with its keypoints below, or dropped after the loop
        elif a.type == "box":
            x, y, w, h = g["x"], g["y"], g["w"], g["h"]
            if task == "detect":
                line = _box_line(cls, x, y, w, h, W, H)
            else:
                pts4 = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
                line = f"{cls} " + " ".join(f"{_f(px / W)} {_f(py / H)}" for px, py in pts4)
                report.approx(f"box written as a 4-corner {task} polygon", ex)
        elif a.type == "rotated_box" and task == "obb":
            line = f"{cls} " + " ".join(f"{_f(px / W)} {_f(py / H)}" for px, py in corners(g))
        elif a.type == "polygon" and task == "segment":
            if g["holes"]:
                report.approx("polygon holes dropped (YOLO segments have no holes)", ex)
            line = f"{cls} " + " ".join(f"{_f(px / W)} {_f(py / H)}" for px, py in g["points"])
        if line is None:
            report.drop(f"{a.type}: no place in a YOLO {task} dataset", ex)
            continue
        text[a.image_id].append(line.encode() + b"\n")
        report.count(a.type, names[a.label])
        _report_props(a, report, ex)
    if task == "pose":
        for a in ds.annotations:
            if a.type == "box" and a.group is not None and id(a) not in used_partner:
                report.drop("box without keypoints in a pose dataset", where(a.image_id, "", a.id))

    splits = ds.splits()
    for split in splits:
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
    sidecar: dict[str, dict[str, list[int]]] = defaultdict(dict)
    label_dirs = {split: str(out / "labels" / split) for split in splits}
    batches = by_image.batches(ROWS_PER_BATCH) if by_image else [(0, len(ds.images))]
    with _LabelFiles(label_dirs) as files:
        for lo, hi in batches:
            box_text, at = _box_lines(ds, task, cls_of, by_image, lo, hi)
            view = memoryview(box_text)
            for k, im in enumerate(ds.images[lo:hi]):
                name = im.file_name
                if "/" in name or "\\" in name or name[1:2] == ":" or name in ("", ".."):
                    rel = check_relpath(name, f"image {im.id}")
                else:
                    rel = name
                sidecar[im.split][rel] = [im.width, im.height, im.id]
                if im.path is not None:
                    place_image(im, out / "images" / im.split)
                blocks = text.get(im.id)
                if at[k] == at[k + 1] and not blocks:
                    continue
                lines = view[at[k] : at[k + 1]]
                files.write(im.split, rel, bytes(lines) + b"".join(blocks) if blocks else lines)
            del view, box_text
    report.images += len(ds.images)
    (out / SIDECAR).write_bytes(orjson.dumps(sidecar))
    doc: dict[str, Any] = {"path": "."}
    for split in splits:
        doc[split] = f"images/{split}"
    doc.setdefault("train", f"images/{splits[0]}")
    doc.setdefault("val", doc["train"])
    doc["nc"] = len(ds.categories)
    doc["names"] = {i: c.name for i, c in enumerate(ds.categories)}
    if task == "pose" and skeleton is not None:
        doc["kpt_shape"] = [len(skeleton.keypoints), 3]
        doc["kpt_names"] = list(skeleton.keypoints)
        doc["skeleton"] = [list(e) for e in skeleton.edges]
    doc["task"] = task
    (out / "data.yaml").write_text(_yaml.dump(doc), encoding="utf-8")


class _LabelFiles:
    """Creates label files ``<split folder>/<image name less its extension>.txt``.

    Names without a folder are opened relative to the split folder's descriptor (no path
    walk per file); each file is one ``open`` + ``write`` + ``close``.
    """

    _FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC

    def __init__(self, folders: dict[str, str]) -> None:
        self.folders = folders
        self.fds: dict[str, int] = {}

    def __enter__(self) -> _LabelFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()

    def write(self, split: str, rel: str, data: bytes | memoryview) -> None:
        """Write ``data`` as the label file of image file ``rel`` (a checked relative path)."""
        if rel[0] != "." and "/" not in rel:
            dot = rel.rfind(".")
            name = (rel[:dot] if dot > 0 else rel) + ".txt"
            folder = self.fds.get(split)
            if folder is None:
                folder = self.fds[split] = os.open(self.folders[split], os.O_RDONLY)
            fd = os.open(name, self._FLAGS, 0o644, dir_fd=folder)
        else:
            dst = f"{self.folders[split]}/{os.path.splitext(rel)[0]}.txt"
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            fd = os.open(dst, self._FLAGS, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


def _report_props(a: Annotation, report: LossReport, ex: str) -> None:
    if a.attributes:
        report.drop("attributes: no place in YOLO labels", ex)
    if a.score is not None:
        report.drop("score: no place in YOLO labels", ex)
    if a.occluded:
        report.drop("occluded flag: no place in YOLO labels", ex)
    if a.z_order:
        report.drop("z_order: no place in YOLO labels", ex)


def _box_lines(
    ds: Dataset,
    task: str,
    cls_of: dict[int, int],
    by_image: BoxesByImage | None,
    lo: int,
    hi: int,
) -> tuple[bytes, list[int]]:
    """(label lines of the columnar boxes of images ``lo..hi-1``, byte offset where each of
    those images' lines start, plus the end), formatted with vectorised code."""
    if by_image is None:
        return b"", [0] * (hi - lo + 1)
    b = ds.boxes
    r = by_image.select(lo, hi)  # (a slice when the boxes are in image order: no copies)
    n = int(by_image.first[hi] - by_image.first[lo])
    if not n:
        return b"", [0] * (hi - lo + 1)
    wh = np.array([[im.width, im.height] for im in ds.images[lo:hi]], np.float64)
    at = by_image.position[r] - lo
    W, H = wh[at, 0], wh[at, 1]
    lut_ids = np.array(sorted(cls_of), np.int64)
    lut_cls = np.array([cls_of[int(i)] for i in lut_ids], np.int64)
    cls = lut_cls[np.searchsorted(lut_ids, b.label[r])]
    x, y, w, h = (b.xywh[r, k] for k in range(4))
    if task == "detect":
        cols = [(x + w / 2) / W, (y + h / 2) / H, w / W, h / H]
    else:
        x0, y0, x1, y1 = x / W, y / H, (x + w) / W, (y + h) / H
        cols = [x0, y0, x1, y0, x1, y1, x0, y1]
    parts: list[Any] = [nf.integers(cls)]
    for c in cols:
        parts += [b" ", nf.fixed(c, 6)]
    parts.append(b"\n")
    blob, ends = nf.join_lines(parts, n)
    return blob, by_image.line_starts(lo, hi, ends)
