"""Object keypoint similarity (OKS), COCO's formula.

For a ground truth g and a prediction d with K keypoints,

    OKS(g, d) = Σ_{i: v_g,i > 0} exp(-d_i^2 / (2 s^2 k_i^2)) / #{i: v_g,i > 0},

where d_i is the distance in px between the two i-th keypoints, s^2 the object's area in
px^2 (COCO writes e_i = d_i^2 / (2 (2 sigma_i)^2 (area + eps)), k_i = 2 sigma_i) and only
*labelled* ground-truth keypoints (v > 0) count. The prediction's visibility is ignored,
as in COCO (an unlabelled predicted point sits at (0, 0) and scores about 0).

Conventions of labelproof:
- the area is the given ``areas[i]`` or, by default, the area of the bounding box of the
  ground truth's labelled keypoints;
- a ground truth with no labelled keypoint has OKS 0 with every prediction (nothing can be
  measured; such objects can never be matched);
- OKS is not symmetric: ``a`` is the ground truth.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidGeometry, InvalidInput
from labelproof.metrics.similarity._common import as_list, empty, key, parse_each
from labelproof.metrics.similarity._common import points as parse_points

F64 = NDArray[np.float64]

COCO_PERSON_SIGMAS: tuple[float, ...] = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
    0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
)  # fmt: skip
"""COCO's per-keypoint sigmas of the 17 person keypoints (nose first)."""

DEFAULT_SIGMA = 0.05
"""Sigma used for every keypoint when none are given."""


def keypoints_to_array(geometries: Sequence[Any], field: str = "a") -> F64:
    """Canonical ``keypoints`` geometries -> (N, K, 3) array of [x, y, v]."""

    def parse(g: Any, path: str) -> F64:
        return parse_points(key(g, "points", path), f"{path}.points", dims=3)

    rows = parse_each(as_list(geometries, field), field, parse)
    if not rows:
        return np.zeros((0, 0, 3), dtype=np.float64)
    k = rows[0].shape[0]
    for i, r in enumerate(rows):
        if r.shape[0] != k:
            path = f"{field}[{i}].points"
            raise InvalidGeometry(
                f"{path}: has {r.shape[0]} keypoints, the first geometry has {k}", field=path
            )
    return np.stack(rows)


def keypoint_oks_array(
    gt: F64, pred: F64, *, sigmas: F64 | Sequence[float] | None = None, areas: F64 | None = None
) -> F64:
    """OKS of ground truths gt (N, K, 3) against predictions pred (M, K, 3) -> (N, M).

    Args:
        sigmas: (K,) per-keypoint sigmas (default :data:`DEFAULT_SIGMA` each).
        areas: (N,) object areas in px^2 (default: bounding box of labelled GT points).
    """
    n, m = gt.shape[0], pred.shape[0]
    if n == 0 or m == 0:
        return empty(n, m)
    k = gt.shape[1]
    if pred.shape[1] != k:
        raise InvalidInput(
            f"b: predictions have {pred.shape[1]} keypoints, ground truths {k}", field="b"
        )
    sig = np.full(k, DEFAULT_SIGMA) if sigmas is None else np.asarray(sigmas, np.float64)
    if sig.shape != (k,) or not (sig > 0).all():
        raise InvalidInput(
            f"sigmas: must be {k} positive numbers, got {sig.tolist()}", field="sigmas"
        )
    labelled = gt[:, :, 2] > 0  # (N, K)
    if areas is None:
        xs = np.where(labelled, gt[:, :, 0], np.nan)
        ys = np.where(labelled, gt[:, :, 1], np.nan)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            w = np.nanmax(xs, axis=1) - np.nanmin(xs, axis=1)
            h = np.nanmax(ys, axis=1) - np.nanmin(ys, axis=1)
        area = np.nan_to_num(w * h, nan=0.0)
    else:
        area = np.asarray(areas, dtype=np.float64).reshape(-1)
        if area.shape != (n,) or not (area >= 0).all():
            raise InvalidInput(f"areas: must be {n} numbers >= 0", field="areas")
    var = (2.0 * sig) ** 2  # (K,)
    dx = gt[:, None, :, 0] - pred[None, :, :, 0]
    dy = gt[:, None, :, 1] - pred[None, :, :, 1]
    e = (dx * dx + dy * dy) / var / (area[:, None, None] + np.spacing(1)) / 2.0
    score = np.where(labelled[:, None, :], np.exp(-e), 0.0).sum(axis=2)
    count = labelled.sum(axis=1)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(count > 0, score / np.maximum(count, 1), 0.0)
    return np.asarray(out, dtype=np.float64)


def keypoint_oks(
    a: Sequence[Any],
    b: Sequence[Any],
    *,
    sigmas: Sequence[float] | None = None,
    areas: Sequence[float] | None = None,
) -> F64:
    """OKS of canonical ``keypoints`` geometries, ``a`` the ground truth: (N) x (M) -> (N, M).

    See the module docstring for the formula and conventions; values in [0, 1].
    """
    gt = keypoints_to_array(a, "a")
    pred = keypoints_to_array(b, "b")
    area = None if areas is None else np.asarray(areas, dtype=np.float64)
    return keypoint_oks_array(gt, pred, sigmas=sigmas, areas=area)
