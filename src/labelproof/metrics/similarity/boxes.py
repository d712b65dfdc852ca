"""IoU of axis-aligned boxes and of rotated boxes.

Shapes: ``a`` holds N geometries, ``b`` M; results are (N, M) float64 matrices in [0, 1]
with ``out[i, j] = IoU(a[i], b[j])``; (N, 0) or (0, M) on empty input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.geometry import rotated_box_corners
from labelproof.metrics.similarity._common import as_list, empty, key, parse_each
from labelproof.metrics.similarity._convex import convex_intersection_area

F64 = NDArray[np.float64]


def _xywh(g: Any, path: str) -> list[float]:
    return [float(key(g, name, path)) for name in ("x", "y", "w", "h")]


def boxes_to_array(geometries: Sequence[Any], field: str = "a") -> F64:
    """Canonical ``box`` geometries -> (N, 4) array of [x, y, w, h] in px."""
    rows = parse_each(as_list(geometries, field), field, _xywh)
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def box_iou_array(a: F64, b: F64) -> F64:
    """IoU of boxes (N, 4) x (M, 4), both [x, y, w, h] in px -> (N, M) in [0, 1].

    A pair whose union is 0 (two zero-size boxes) has IoU 0.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if a.shape[0] == 0 or b.shape[0] == 0:
        return empty(a.shape[0], b.shape[0])
    ax0, ay0 = a[:, 0:1], a[:, 1:2]
    ax1, ay1 = ax0 + a[:, 2:3], ay0 + a[:, 3:4]
    bx0, by0 = b[None, :, 0], b[None, :, 1]
    bx1, by1 = bx0 + b[None, :, 2], by0 + b[None, :, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0.0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0.0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0.0, inter / union, 0.0)
    return np.clip(iou, 0.0, 1.0)


def box_iou(a: Sequence[Any], b: Sequence[Any]) -> F64:
    """IoU of canonical ``box`` geometries: a (N) x b (M) -> (N, M) float64 in [0, 1]."""
    return box_iou_array(boxes_to_array(a, "a"), boxes_to_array(b, "b"))


def _rbox(g: Any, path: str) -> list[float]:
    return [float(key(g, name, path)) for name in ("cx", "cy", "w", "h", "angle")]


def rotated_boxes_to_corners(geometries: Sequence[Any], field: str = "a") -> F64:
    """Canonical ``rotated_box`` geometries -> (N, 4, 2) corners in px (positive rings)."""
    rows = parse_each(as_list(geometries, field), field, _rbox)
    if not rows:
        return np.zeros((0, 4, 2), dtype=np.float64)
    return np.stack([rotated_box_corners(*r) for r in rows])


def convex_iou_pairs(pa: F64, pb: F64) -> F64:
    """IoU (K,) of convex polygons paired row by row: pa (K, n, 2), pb (K, m, 2) in px,
    positive rings."""
    inter = convex_intersection_area(pa, pb)
    area_a = _shoelace(pa)
    area_b = _shoelace(pb)
    union = area_a + area_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0.0, inter / union, 0.0)
    return np.clip(iou, 0.0, 1.0)


def _shoelace(p: F64) -> F64:
    rel = p - p[:, :1, :]
    nxt = np.roll(rel, -1, axis=1)
    return np.asarray(
        0.5 * (rel[..., 0] * nxt[..., 1] - rel[..., 1] * nxt[..., 0]).sum(axis=1),
        dtype=np.float64,
    )


def rotated_box_iou(a: Sequence[Any], b: Sequence[Any]) -> F64:
    """IoU of canonical ``rotated_box`` geometries: a (N) x b (M) -> (N, M) in [0, 1].

    Exact: the intersection of two rotated boxes is the convex polygon clipped from their
    corners (see ``_convex``), computed for all pairs whose bounding circles meet; other
    pairs are 0.
    """
    ca = rotated_boxes_to_corners(a, "a")
    cb = rotated_boxes_to_corners(b, "b")
    n, m = ca.shape[0], cb.shape[0]
    out = empty(n, m)
    if n == 0 or m == 0:
        return out
    centre_a, centre_b = ca.mean(axis=1), cb.mean(axis=1)
    rad_a = np.linalg.norm(ca - centre_a[:, None], axis=2).max(axis=1)
    rad_b = np.linalg.norm(cb - centre_b[:, None], axis=2).max(axis=1)
    dist = np.linalg.norm(centre_a[:, None, :] - centre_b[None, :, :], axis=2)
    ii, jj = np.nonzero(dist < rad_a[:, None] + rad_b[None, :])
    out[ii, jj] = convex_iou_pairs(ca[ii], cb[jj])
    return out
