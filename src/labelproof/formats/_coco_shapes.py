"""COCO annotations that are not plain boxes: polygons, RLE masks, keypoints, attributes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import ImageSize, validate
from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.formats.model import Annotation, Category

if TYPE_CHECKING:
    from labelproof.formats._coco_read import CocoReader


def _bad(path: Path, record: str, message: str) -> InvalidDataset:
    return InvalidDataset(f"{path}: {record}: {message}", field=record)


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass
class _Record:
    """One COCO annotation record being read: where it is and what all its parts share."""

    r: CocoReader
    path: Path
    rec: str
    """``annotations[i]``, the record's path in the file."""
    ex: str
    """The record as a loss-report example."""
    width: int
    height: int
    cat: Category
    image_id: int
    ann_id: int | None
    attributes: dict[str, Any]
    occluded: bool
    crowd: bool
    score: float | None
    made: list[Annotation] = dataclass_field(default_factory=list)

    @property
    def image(self) -> ImageSize:
        return ImageSize(self.width, self.height)

    def add(self, type_name: str, geometry: dict[str, Any], group: int | None) -> None:
        """Append an already validated part of the record."""
        self.made.append(
            Annotation(
                self.image_id,
                type_name,
                self.cat.id,
                geometry,
                attributes=dict(self.attributes),
                id=self.ann_id,
                occluded=self.occluded,
                crowd=self.crowd,
                score=self.score,
                group=group,
            )
        )
        self.r.report.count(type_name, self.cat.name)

    def emit(self, type_name: str, geometry: Any, field: str, group: int | None = None) -> None:
        """Validate ``geometry`` as ``type_name`` and append it; InvalidDataset naming ``field``."""
        try:
            g = validate(type_name, geometry, image=self.image, skeleton=self.cat.skeleton)
        except InvalidInput as exc:
            raise _bad(self.path, field, exc.message) from None
        self.add(type_name, g, group)

    def clip_pts(self, pts: NDArray[np.float64], field: str) -> NDArray[np.float64]:
        """(N, 2) points clipped to the image; InvalidDataset beyond the 1 px slack."""
        from labelproof.formats._coco_read import EDGE_SLACK

        w, h = self.width, self.height
        lo = pts.min(axis=0) if pts.size else np.zeros(2)
        hi = pts.max(axis=0) if pts.size else np.zeros(2)
        if (lo < -EDGE_SLACK).any() or hi[0] > w + EDGE_SLACK or hi[1] > h + EDGE_SLACK:
            raise _bad(self.path, field, f"lies outside the image {w}x{h}")
        if (lo < 0).any() or hi[0] > w or hi[1] > h:
            self.r.report.approx("shape clipped to the image", self.ex)
            pts = np.stack([np.clip(pts[:, 0], 0, w), np.clip(pts[:, 1], 0, h)], axis=1)
        return pts


def read_general(r: CocoReader, a: Any, path: Path, i: int) -> None:
    """Read one COCO annotation record ``a`` (``annotations[i]``) into ``r.ds``."""
    from labelproof.formats._coco_read import KNOWN_KEYS, _int

    rec = f"annotations[{i}]"
    if not isinstance(a, dict):
        raise _bad(path, rec, "must be a JSON object")
    iid = _int(a.get("image_id"), path, f"{rec}.image_id")
    if iid not in r.img_size:
        raise _bad(path, f"{rec}.image_id", f"unknown image id {iid}")
    cid = _int(a.get("category_id"), path, f"{rec}.category_id")
    cat = r.cat_ids.get(cid)
    if cat is None:
        raise _bad(path, f"{rec}.category_id", f"unknown category {cid}")
    w, h, fname = r.img_size[iid]
    ann_id = _int(a["id"], path, f"{rec}.id") if "id" in a else None
    ex = f"image {iid} ({fname}), annotation {ann_id if ann_id is not None else rec}"
    for k in sorted(a.keys() - KNOWN_KEYS):
        r.report.drop(f"unknown annotation field {k!r}", ex)
    crowd = bool(_int(a.get("iscrowd", 0), path, f"{rec}.iscrowd"))
    score = a.get("score")
    if score is not None and not _num(score):
        raise _bad(path, f"{rec}.score", f"must be a number, got {score!r}")
    attrs = a.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise _bad(path, f"{rec}.attributes", "must be a JSON object")
    attrs = dict(attrs)
    occluded = bool(attrs.pop("occluded", False))
    rotation = attrs.pop("rotation", 0.0)
    if not _num(rotation):
        raise _bad(path, f"{rec}.attributes.rotation", f"must be a number, got {rotation!r}")
    one = _Record(
        r,
        path,
        rec,
        ex,
        w,
        h,
        cat,
        iid,
        ann_id,
        attrs,
        occluded,
        crowd,
        float(score) if score is not None else None,
    )
    try:
        _shapes(a, one, float(rotation))
    finally:
        if len(one.made) == 1:
            one.made[0].group = None
        r.ds.annotations.extend(one.made)


def _shapes(a: dict[str, Any], one: _Record, rotation: float) -> None:
    path, rec, ex, cat, made = one.path, one.rec, one.ex, one.cat, one.made
    w, h = one.width, one.height
    ann_id = one.ann_id if one.ann_id is not None else -1 - len(one.r.ds.annotations)
    seg = a.get("segmentation")
    kps = a.get("keypoints")
    has_kps = isinstance(kps, list) and len(kps) > 0
    group = ann_id if has_kps else None
    if isinstance(kps, list) and kps:
        if cat.skeleton is None:
            raise _bad(path, f"{rec}.keypoints", f"category {cat.name!r} has no keypoints")
        n = len(cat.skeleton.keypoints)
        if len(kps) != 3 * n or not all(_num(v) for v in kps):
            raise _bad(path, f"{rec}.keypoints", f"must be {3 * n} numbers (x, y, v per keypoint)")
        pts = [[float(kps[3 * j]), float(kps[3 * j + 1]), int(kps[3 * j + 2])] for j in range(n)]
        one.emit("keypoints", {"points": pts}, f"{rec}.keypoints", group)
    if isinstance(seg, dict):
        counts = seg.get("counts")
        size = seg.get("size")
        if isinstance(counts, list) and isinstance(size, list) and len(size) == 2:
            from pycocotools import mask as mask_utils

            try:
                rle = mask_utils.frPyObjects({"counts": counts, "size": size}, *size)
                counts = rle["counts"].decode()
            except (TypeError, ValueError) as exc:
                raise _bad(path, f"{rec}.segmentation", f"bad uncompressed RLE ({exc})") from None
        one.emit("mask", {"rle": {"size": size, "counts": counts}}, f"{rec}.segmentation", group)
        return
    if isinstance(seg, list) and seg:
        parts = []
        for j, poly in enumerate(seg):
            field = f"{rec}.segmentation[{j}]"
            if not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2:
                raise _bad(path, field, "a polygon is a flat list of >= 3 x, y pairs")
            if not all(_num(v) for v in poly):
                raise _bad(path, field, "holds a value that is not a finite number")
            parts.append(one.clip_pts(np.asarray(poly, np.float64).reshape(-1, 2), field))
        if len(parts) > 1:
            one.r.report.approx("multi-part polygon read as parts sharing a group", ex)
            group = ann_id
        for j, ring in enumerate(parts):
            field = f"{rec}.segmentation[{j}]"
            try:
                g = validate("polygon", {"points": ring.tolist()}, image=one.image)
            except InvalidInput:
                # self-intersecting or degenerate rings: keep the pixels, as pycocotools would
                from pycocotools import mask as mask_utils

                rle = mask_utils.frPyObjects([ring.ravel().tolist()], h, w)[0]
                one.r.report.approx(
                    "invalid polygon (self-intersecting or degenerate) read as mask", ex
                )
                one.emit(
                    "mask",
                    {"rle": {"size": [h, w], "counts": rle["counts"].decode()}},
                    field,
                    group,
                )
                continue
            one.add("polygon", g, group)
        return
    bbox = a.get("bbox")
    if has_kps and (not bbox or _derived_box(bbox, made[0].geometry["points"])):
        return
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(_num(v) for v in bbox)):
        raise _bad(path, f"{rec}.bbox", f"must be [x, y, w, h] numbers, got {bbox!r}")
    x, y, bw, bh = (float(v) for v in bbox)
    if bw <= 0 or bh <= 0:
        if has_kps:  # COCO keypoint records may carry an empty box
            return
        raise _bad(path, f"{rec}.bbox", f"w and h must be > 0, got {bbox}")
    if rotation:
        one.emit(
            "rotated_box",
            {"cx": x + bw / 2, "cy": y + bh / 2, "w": bw, "h": bh, "angle": rotation},
            f"{rec}.bbox",
            group,
        )
        return
    corners = one.clip_pts(np.array([[x, y], [x + bw, y + bh]]), f"{rec}.bbox")
    (x0, y0), (x1, y1) = corners.tolist()
    one.emit("box", {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}, f"{rec}.bbox", group)


def _derived_box(bbox: Any, points: list[list[float]]) -> bool:
    """True when ``bbox`` is just the bounds of the labelled keypoints (we wrote it so)."""
    labelled = np.array([p[:2] for p in points if p[2]], np.float64).reshape(-1, 2)
    if not labelled.size:
        return bool(bbox == [0.0, 0.0, 0.0, 0.0] or bbox == [0, 0, 0, 0])
    lo, hi = labelled.min(axis=0), labelled.max(axis=0)
    want = [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]]
    return (
        isinstance(bbox, list)
        and len(bbox) == 4
        and all(_num(v) and abs(v - x) < 1e-9 for v, x in zip(bbox, want, strict=True))
    )
