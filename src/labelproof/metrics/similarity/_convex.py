"""Intersection area of convex polygon pairs, vectorised across pairs.

The intersection of two convex polygons is the convex polygon whose vertices are A's
vertices inside B, B's vertices inside A and the crossing points of their edges. Those
candidates are computed for every pair at once, ordered by angle about their centroid and
summed with the shoelace formula. Touching and collinear edges need no special case: a
vertex on the other polygon's boundary counts as inside (a relative tolerance of 1e-12
of the pair's squared size), nearly parallel edges contribute no crossing point (their
overlap ends are vertices already), a crossing point must lie inside both polygons, and duplicate
candidates add zero area.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
B = NDArray[np.bool_]

_REL_TOL = 1e-12


def _inside(points: F64, poly: F64, tol: F64) -> B:
    """points (K, n, 2) inside convex positive polygons poly (K, m, 2) -> (K, n)."""
    start = poly
    d = np.roll(poly, -1, axis=1) - poly  # (K, m, 2)
    rel = points[:, :, None, :] - start[:, None, :, :]  # (K, n, m, 2)
    side = d[:, None, :, 0] * rel[..., 1] - d[:, None, :, 1] * rel[..., 0]
    return np.asarray((side >= -tol[:, None, None]).all(axis=2), dtype=bool)


def convex_intersection_area(pa: F64, pb: F64) -> F64:
    """Intersection area (K,) in px^2 of convex polygons paired row by row.

    Args:
        pa: (K, n, 2) vertices in px of K convex polygons, each a positive ring
            (shoelace area > 0), closing vertex not repeated.
        pb: (K, m, 2) the same for the second polygon of each pair.
    """
    k = pa.shape[0]
    if k == 0:
        return np.zeros(0, dtype=np.float64)
    lo = np.minimum(pa.min(axis=1), pb.min(axis=1))
    hi = np.maximum(pa.max(axis=1), pb.max(axis=1))
    origin = 0.5 * (lo + hi)
    a = pa - origin[:, None, :]
    b = pb - origin[:, None, :]
    scale = (hi - lo).max(axis=1)
    tol = _REL_TOL * scale * scale

    in_a = _inside(a, b, tol)  # A's vertices inside B
    in_b = _inside(b, a, tol)
    # edge crossings: A's edge i (p + t r), B's edge j (q + u s)
    r = np.roll(a, -1, axis=1) - a  # (K, n, 2)
    s = np.roll(b, -1, axis=1) - b  # (K, m, 2)
    qp = b[:, None, :, :] - a[:, :, None, :]  # (K, n, m, 2)
    denom = r[:, :, None, 0] * s[:, None, :, 1] - r[:, :, None, 1] * s[:, None, :, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (qp[..., 0] * s[:, None, :, 1] - qp[..., 1] * s[:, None, :, 0]) / denom
        u = (qp[..., 0] * r[:, :, None, 1] - qp[..., 1] * r[:, :, None, 0]) / denom
    # nearly parallel edges give no crossing point: their overlap is found as vertices
    lengths = np.hypot(r[..., 0], r[..., 1])[:, :, None] * np.hypot(s[..., 0], s[..., 1])[:, None]
    hit = (np.abs(denom) > 1e-9 * lengths) & (t >= 0.0) & (t <= 1.0) & (u >= 0.0) & (u <= 1.0)
    t = np.where(hit, t, 0.0)
    cross_pts = (a[:, :, None, :] + t[..., None] * r[:, :, None, :]).reshape(k, -1, 2)
    # a crossing point must lie in both polygons (guards rounding of t)
    hit = hit.reshape(k, -1) & _inside(cross_pts, a, tol) & _inside(cross_pts, b, tol)

    cand = np.concatenate([a, b, cross_pts], axis=1)  # (K, C, 2)
    valid = np.concatenate([in_a, in_b, hit], axis=1)  # (K, C)
    count = valid.sum(axis=1)
    w = valid.astype(np.float64)
    centre = (cand * w[..., None]).sum(axis=1) / np.maximum(count, 1)[:, None]
    rel = cand - centre[:, None, :]
    angle = np.where(valid, np.arctan2(rel[..., 1], rel[..., 0]), np.inf)
    order = np.argsort(angle, axis=1, kind="stable")
    pts = np.take_along_axis(rel, order[..., None], axis=1)
    ok = np.take_along_axis(valid, order, axis=1)
    # invalid candidates (sorted last) repeat the first valid one: they add no area
    pts = np.where(ok[..., None], pts, pts[:, :1, :])
    nxt = np.roll(pts, -1, axis=1)
    area = 0.5 * (pts[..., 0] * nxt[..., 1] - pts[..., 1] * nxt[..., 0]).sum(axis=1)
    return np.where(count >= 3, np.maximum(area, 0.0), 0.0)
