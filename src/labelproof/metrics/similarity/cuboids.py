"""3D IoU of oriented cuboids (scene units), exact.

Shapes: ``a`` holds N cuboids, ``b`` M; the result is an (N, M) float64 matrix in [0, 1].

- Yaw-only pairs (roll = pitch = 0 for both): the intersection volume is the area of the
  two bottom rectangles' intersection (exact convex clipping, see ``_convex``) times the
  overlap of the z ranges; vectorised over pairs.
- Other pairs: the intersection of two convex polyhedra is the convex hull of A's corners
  inside B, B's corners inside A and the points where A's edges cross B's faces and B's
  edges cross A's faces; its volume comes from ``scipy.spatial.ConvexHull`` (one call per
  pair whose bounding spheres meet). A flat or empty intersection has volume 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.geometry import cuboid_corners, rotation_matrix
from labelproof.metrics.similarity._common import as_list, empty, key, parse_each
from labelproof.metrics.similarity._convex import convex_intersection_area

F64 = NDArray[np.float64]

_EDGES = np.array(
    [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]]
)
_REL_TOL = 1e-9


def cuboids_to_array(geometries: Sequence[Any], field: str = "a") -> F64:
    """Canonical ``cuboid`` geometries -> (N, 9) [cx, cy, cz, dx, dy, dz, roll, pitch, yaw]."""

    def parse(g: Any, path: str) -> list[float]:
        row: list[float] = []
        for name in ("center", "size", "rotation"):
            v = [float(x) for x in key(g, name, path)]
            if len(v) != 3:
                raise ValueError(f"{name} must have 3 numbers")
            row.extend(v)
        return row

    rows = parse_each(as_list(geometries, field), field, parse)
    return np.array(rows, dtype=np.float64).reshape(-1, 9)


def _corners(c: F64) -> F64:
    v = c.tolist()
    return cuboid_corners(v[0:3], v[3:6], v[6:9])


def _halfspaces(c: F64) -> tuple[F64, F64]:
    """Outward normals (6, 3) and offsets (6,): inside iff normals @ x <= offsets."""
    rot = rotation_matrix(*c[6:9].tolist())
    axes = rot.T  # rows: the box's local x, y, z axes in the scene
    centre, half = c[:3], c[3:6] / 2.0
    normals = np.concatenate([axes, -axes])
    offsets = np.concatenate([axes @ centre + half, -(axes @ centre) + half])
    return normals, offsets


def _general_volume(ca: F64, cb: F64) -> float:
    from scipy.spatial import ConvexHull, QhullError

    pa = _corners(ca)
    pb = _corners(cb)
    na, oa = _halfspaces(ca)
    nb, ob = _halfspaces(cb)
    scale = float(max(ca[3:6].max(), cb[3:6].max()))
    tol = _REL_TOL * scale
    cands = [pa[(pa @ nb.T <= ob + tol).all(axis=1)], pb[(pb @ na.T <= oa + tol).all(axis=1)]]
    for p, n, o in ((pa, nb, ob), (pb, na, oa)):
        p0, p1 = p[_EDGES[:, 0]], p[_EDGES[:, 1]]  # (12, 3)
        s0 = p0 @ n.T - o  # (12, 6)
        s1 = p1 @ n.T - o
        hit = (s0 * s1) < 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(hit, s0 / (s0 - s1), 0.0)
        pts = p0[:, None, :] + t[..., None] * (p1 - p0)[:, None, :]  # (12, 6, 3)
        pts = pts[hit]
        cands.append(pts[(pts @ n.T <= o + tol).all(axis=1)])
    pts = np.concatenate(cands)
    if pts.shape[0] < 4:
        return 0.0
    try:
        return float(ConvexHull(pts).volume)
    except QhullError:  # flat (touching) intersection
        return 0.0


def cuboid_iou(a: Sequence[Any], b: Sequence[Any]) -> F64:
    """3D IoU of canonical ``cuboid`` geometries: a (N) x b (M) -> (N, M) in [0, 1]."""
    ca, cb = cuboids_to_array(a, "a"), cuboids_to_array(b, "b")
    n, m = ca.shape[0], cb.shape[0]
    out = empty(n, m)
    if n == 0 or m == 0:
        return out
    vol_a = ca[:, 3:6].prod(axis=1)
    vol_b = cb[:, 3:6].prod(axis=1)
    rad_a = np.linalg.norm(ca[:, 3:6], axis=1) / 2.0
    rad_b = np.linalg.norm(cb[:, 3:6], axis=1) / 2.0
    dist = np.linalg.norm(ca[:, None, :3] - cb[None, :, :3], axis=2)
    ii, jj = np.nonzero(dist < rad_a[:, None] + rad_b[None, :])
    flat_a = (ca[:, 6:8] == 0.0).all(axis=1)
    flat_b = (cb[:, 6:8] == 0.0).all(axis=1)
    yaw_only = flat_a[ii] & flat_b[jj]
    inter = np.zeros(ii.shape[0], dtype=np.float64)
    if yaw_only.any():
        pi, pj = ii[yaw_only], jj[yaw_only]
        base_a = np.stack([_corners(c)[:4, :2] for c in ca[pi]])
        base_b = np.stack([_corners(c)[:4, :2] for c in cb[pj]])
        area = convex_intersection_area(base_a, base_b)
        za0, za1 = ca[pi, 2] - ca[pi, 5] / 2, ca[pi, 2] + ca[pi, 5] / 2
        zb0, zb1 = cb[pj, 2] - cb[pj, 5] / 2, cb[pj, 2] + cb[pj, 5] / 2
        height = np.clip(np.minimum(za1, zb1) - np.maximum(za0, zb0), 0.0, None)
        inter[yaw_only] = area * height
    for k in np.flatnonzero(~yaw_only).tolist():
        inter[k] = _general_volume(ca[ii[k]], cb[jj[k]])
    union = vol_a[ii] + vol_b[jj] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out[ii, jj] = np.clip(np.where(union > 0, inter / union, 0.0), 0.0, 1.0)
    return out
