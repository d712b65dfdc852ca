"""COCO ground truth and detection results as validated numpy columns.

Detections follow pycocotools ``COCO.loadRes``: the *first* detection decides how every
detection is read (its "mode"): ``bbox`` when it has a non-empty ``bbox`` (area = w * h),
else ``segm`` when it has a ``segmentation`` (area = mask area), else ``keypoints`` (area =
the keypoints' bounding box). Detection ids are their 1-based position, whatever ``id`` the
file gives.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import orjson

from labelproof.errors import InvalidDataset
from labelproof.metrics.coco._columns import F64, I64, Records
from labelproof.metrics.coco._rle import rle_areas, to_rles

DetMode = Literal["bbox", "segm", "keypoints"]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class GtBatch:
    """Ground truth columns. N annotations, K keypoints per annotation.

    ``rles`` holds one compressed RLE dict per annotation (segm only), ``bbox`` is (N, 4)
    ``[x, y, w, h]`` pixels (bbox/keypoints), ``keypoints`` is (N, 3K) ``x, y, v``.
    """

    img_ids: I64
    heights: I64
    widths: I64
    cat_ids: I64
    ann_ids: I64
    ann_img: I64
    ann_cat: I64
    area: F64
    crowd: B
    bbox: F64 | None
    keypoints: F64 | None
    num_keypoints: I64 | None
    rles: list[dict[str, Any]] | None


@dataclass(frozen=True)
class DtBatch:
    """Detection columns, N detections: image id, category id, score, area (pixels²).

    ``bbox`` (N, 4) for bbox evaluation, ``keypoints`` (N, 3K), ``rles`` (segm).
    """

    img: I64
    cat: I64
    score: F64
    area: F64
    bbox: F64 | None
    keypoints: F64 | None
    rles: list[dict[str, Any]] | None


def read_json(path: str | Path) -> Any:
    """Parse a JSON file with orjson; unreadable or malformed files raise InvalidDataset."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InvalidDataset(f"{p}: cannot read the file ({exc.strerror})", source=str(p)) from None
    try:
        with gc_paused():
            return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidDataset(f"{p}: not valid JSON ({exc})", source=str(p)) from None


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many containers.

    Parsing 500,000 detection objects otherwise triggers repeated full collections that
    cost more than the parse itself; nothing built here forms reference cycles.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def detection_mode(records: list[Any], source: str) -> DetMode:
    """The pycocotools ``loadRes`` branch the first detection selects."""
    first = records[0]
    if not isinstance(first, dict):
        raise Records(records, source, "detections").error(0, None, "is not a JSON object")
    if "bbox" in first and first["bbox"] != []:
        return "bbox"
    if "segmentation" in first:
        return "segm"
    if "keypoints" in first:
        return "keypoints"
    raise Records(records, source, "detections").error(
        0, None, "has none of 'bbox', 'segmentation', 'keypoints'"
    )


def load_gt(data: Any, source: str, iou_type: str, n_kpt: int) -> GtBatch:
    """Validate a parsed COCO ground-truth dict and return its columns."""
    if not isinstance(data, dict):
        raise InvalidDataset(
            f"{source}: the ground truth must be a JSON object with images, annotations and "
            "categories",
            field="",
            source=source,
        )
    lists = {}
    for key in ("images", "annotations", "categories"):
        if key not in data:
            raise InvalidDataset(f"{source}: no '{key}' list", field=key, source=source)
        if not isinstance(data[key], list):
            raise InvalidDataset(f"{source}: '{key}' must be a list", field=key, source=source)
        lists[key] = data[key]
    imgs = Records(lists["images"], source, "images")
    img_ids = imgs.integers("id")
    imgs.unique_ids(img_ids)
    if iou_type == "segm":
        heights = imgs.integers("height")
        widths = imgs.integers("width")
        bad = (heights <= 0) | (widths <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise imgs.error(i, "height", "height and width must be positive")
    else:
        heights = np.full(len(img_ids), -1, dtype=np.int64)
        widths = heights.copy()
    cats = Records(lists["categories"], source, "categories")
    cat_ids = cats.integers("id")
    cats.unique_ids(cat_ids)

    anns = Records(lists["annotations"], source, "annotations")
    ann_ids = anns.integers("id")
    anns.unique_ids(ann_ids)
    img_sort = np.argsort(img_ids, kind="stable")
    ann_img = anns.integers("image_id")
    img_pos = img_sort[anns.members(ann_img, img_ids[img_sort], "image_id", "image")]
    ann_cat = anns.integers("category_id")
    anns.members(ann_cat, np.sort(cat_ids), "category_id", "category")
    area = anns.numbers("area", nonneg=True)
    crowd_v = anns.integers("iscrowd", allow_bool=True)
    bad = (crowd_v != 0) & (crowd_v != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise anns.error(i, "iscrowd", f"must be 0 or 1, got {crowd_v[i]}")
    bbox = None
    if iou_type in ("bbox", "keypoints"):
        bbox = anns.numbers("bbox", width=4, nonneg=True)
    keypoints = num_kp = None
    if iou_type == "keypoints":
        keypoints = _keypoints(anns, n_kpt, gt=True)
        num_kp = anns.integers("num_keypoints")
        if (num_kp < 0).any():
            i = int(np.flatnonzero(num_kp < 0)[0])
            raise anns.error(i, "num_keypoints", "must not be negative")
    rles = None
    if iou_type == "segm":
        rles = to_rles(anns, anns.pluck("segmentation"), heights[img_pos], widths[img_pos])
    return GtBatch(
        img_ids=img_ids,
        heights=heights,
        widths=widths,
        cat_ids=cat_ids,
        ann_ids=ann_ids,
        ann_img=ann_img,
        ann_cat=ann_cat,
        area=area,
        crowd=crowd_v.astype(bool),
        bbox=bbox,
        keypoints=keypoints,
        num_keypoints=num_kp,
        rles=rles,
    )


def load_dt(
    records: Any,
    source: str,
    iou_type: str,
    mode: DetMode,
    n_kpt: int,
    known_imgs: tuple[I64, I64, I64],
    known_cats: I64,
) -> DtBatch:
    """Validate detection records (a list of dicts) and return their columns.

    ``known_imgs`` is (sorted image ids, their heights, their widths); ``known_cats`` the
    sorted category ids of the ground truth.
    """
    if not isinstance(records, list):
        raise InvalidDataset(
            f"{source}: detections must be a JSON list of objects", field="", source=source
        )
    dts = Records(records, source, "detections")
    img = dts.integers("image_id")
    ids_sorted, hs, ws = known_imgs
    pos = dts.members(img, ids_sorted, "image_id", "image")
    cat = dts.integers("category_id")
    dts.members(cat, known_cats, "category_id", "category")
    score = dts.numbers("score")
    bbox = keypoints = rles = None
    if mode == "bbox":
        bbox = dts.numbers("bbox", width=4, nonneg=True)
    if mode == "keypoints" or iou_type == "keypoints":
        keypoints = _keypoints(dts, n_kpt, gt=False)
    if iou_type == "segm" or mode == "segm":
        if mode == "bbox":
            assert bbox is not None
            segs = [
                r["segmentation"] if "segmentation" in r else _box_polygon(bbox[i])
                for i, r in enumerate(records)
            ]
        else:
            segs = dts.pluck("segmentation")
        rles = to_rles(dts, segs, hs[pos], ws[pos])
    if iou_type == "bbox" and mode == "keypoints":
        assert keypoints is not None
        x, y = keypoints[:, 0::3], keypoints[:, 1::3]
        x0, y0 = x.min(axis=1), y.min(axis=1)
        bbox = np.stack([x0, y0, x.max(axis=1) - x0, y.max(axis=1) - y0], axis=1)
    elif iou_type == "bbox" and mode == "segm":
        assert rles is not None
        bbox = _segm_mode_boxes(dts, rles)
    if mode == "bbox":
        assert bbox is not None
        area = bbox[:, 2] * bbox[:, 3]
    elif mode == "segm":
        assert rles is not None
        area = rle_areas(rles)
    else:
        assert keypoints is not None
        x, y = keypoints[:, 0::3], keypoints[:, 1::3]
        area = (x.max(axis=1) - x.min(axis=1)) * (y.max(axis=1) - y.min(axis=1))
    return DtBatch(
        img=img, cat=cat, score=score, area=area, bbox=bbox, keypoints=keypoints, rles=rles
    )


def load_dt_array(
    arr: npt.NDArray[Any], source: str, known_imgs: tuple[I64, I64, I64], known_cats: I64
) -> DtBatch:
    """Detections from an (N, 7) array ``[image_id, x, y, w, h, score, category_id]``.

    This is pycocotools' ``loadNumpyAnnotations`` layout; bbox evaluation only.
    """
    a = np.asarray(arr)
    if a.ndim != 2 or a.shape[1] != 7 or a.dtype.kind not in "iuf":
        raise InvalidDataset(
            f"{source}: a detection array must be numeric with shape (N, 7), got "
            f"{a.shape} {a.dtype}",
            field="",
            source=source,
        )
    a = a.astype(np.float64)
    bad_rows = ~np.isfinite(a).all(axis=1) | (a[:, 1:5] < 0).any(axis=1)
    nonint = (a[:, 0] != np.round(a[:, 0])) | (a[:, 6] != np.round(a[:, 6]))
    if (bad_rows | nonint).any():
        i = int(np.flatnonzero(bad_rows | nonint)[0])
        raise InvalidDataset(
            f"{source}: row {i}: values must be finite, x/y/w/h non-negative and ids integral",
            field=f"rows[{i}]",
            source=source,
            index=i,
        )
    img = a[:, 0].astype(np.int64)
    cat = a[:, 6].astype(np.int64)
    for col, known, what in ((img, known_imgs[0], "image"), (cat, known_cats, "category")):
        if len(col) and len(known):
            p = np.minimum(np.searchsorted(known, col), len(known) - 1)
            bad = known[p] != col
        else:
            bad = np.ones(len(col), dtype=bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidDataset(
                f"{source}: row {i}: names {what} {int(col[i])}, absent from the ground truth",
                field=f"rows[{i}]",
                source=source,
                index=i,
            )
    bbox = np.ascontiguousarray(a[:, 1:5])
    return DtBatch(
        img=img,
        cat=cat,
        score=a[:, 5].copy(),
        area=bbox[:, 2] * bbox[:, 3],
        bbox=bbox,
        keypoints=None,
        rles=None,
    )


def _segm_mode_boxes(dts: Records, rles: list[dict[str, Any]]) -> F64:
    """Boxes (N, 4) in ``segm`` mode: the record's bbox where given, else the mask's box."""
    from pycocotools import mask as mask_utils

    out = np.asarray(mask_utils.toBbox(rles), dtype=np.float64).reshape(-1, 4)
    has = np.array([isinstance(r, dict) and "bbox" in r for r in dts.items], dtype=bool)
    for i in np.flatnonzero(has):
        b = dts.items[i]["bbox"]
        sub = Records([dts.items[i]], dts.source, dts.where)
        try:
            out[i] = sub.numbers("bbox", width=4, nonneg=True)[0]
        except InvalidDataset as exc:
            raise dts.error(
                int(i), "bbox", f"must be 4 finite non-negative numbers, got {b!r}"[:120]
            ) from exc
    return out


def _keypoints(recs: Records, n_kpt: int, *, gt: bool) -> F64:
    kp = recs.numbers("keypoints", width=3 * n_kpt)
    if len(kp):
        neg = (kp < 0).any(axis=1)
        if neg.any():
            i = int(np.flatnonzero(neg)[0])
            raise recs.error(i, "keypoints", "coordinates must not be negative")
        if gt:
            v = kp[:, 2::3]
            badv = ~np.isin(v, (0.0, 1.0, 2.0)).all(axis=1)
            if badv.any():
                i = int(np.flatnonzero(badv)[0])
                raise recs.error(i, "keypoints", "visibility flags must be 0, 1 or 2")
    return kp


def _box_polygon(b: F64) -> list[list[float]]:
    x1, y1 = float(b[0]), float(b[1])
    x2, y2 = x1 + float(b[2]), y1 + float(b[3])
    return [[x1, y1, x1, y2, x2, y2, x2, y1]]
