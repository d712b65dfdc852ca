"""Rings (closed polylines) and polygons with holes, as numpy arrays.

A ring is an array of shape (N, 2) of float x, y pixel coordinates with the closing
vertex *not* repeated. Orientation convention of labelproof: a ring is *positive* when
its shoelace signed area, computed on the coordinates as stored, is > 0. That is
counter-clockwise in the mathematical sense of the numbers (shapely's ``is_ccw``), which
on screen, with y pointing down, appears clockwise. Polygon shells are positive, holes
negative.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def _as_ring(ring: ArrayLike) -> FloatArray:
    arr = np.asarray(ring, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"a ring must have shape (N, 2), got {arr.shape}")
    return arr


def signed_area(ring: ArrayLike) -> float:
    """Shoelace signed area of a ring.

    Args:
        ring: (N, 2) vertices in px, closing vertex not repeated.

    Returns:
        Signed area in px^2: > 0 for a positive ring (see module docstring), < 0 for a
        negative one, 0.0 for fewer than 3 vertices. Computed relative to the first vertex,
        so it is exact under translation up to float rounding of the differences.
    """
    arr = _as_ring(ring)
    if arr.shape[0] < 3:
        return 0.0
    rel = arr - arr[0]
    x, y = rel[:, 0], rel[:, 1]
    total = np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)
    return float(total) / 2.0


def ring_perimeter(ring: ArrayLike) -> float:
    """Length in px of a closed ring (N, 2), closing edge included; 0.0 when N < 2."""
    arr = _as_ring(ring)
    if arr.shape[0] < 2:
        return 0.0
    d = np.roll(arr, -1, axis=0) - arr
    return float(np.hypot(d[:, 0], d[:, 1]).sum())


def dedupe_ring(ring: ArrayLike) -> FloatArray:
    """Drop consecutive duplicate vertices and a repeated closing vertex.

    Args:
        ring: (N, 2) vertices; the last may repeat the first.

    Returns:
        (M, 2) with M <= N, no two consecutive vertices equal (cyclically).
    """
    arr = _as_ring(ring)
    if arr.shape[0] == 0:
        return arr
    keep = np.ones(arr.shape[0], dtype=bool)
    keep[1:] = np.any(arr[1:] != arr[:-1], axis=1)
    out = arr[keep]
    end = out.shape[0]
    while end > 1 and np.array_equal(out[end - 1], out[0]):  # closing vertex(es)
        end -= 1
    return out[:end].copy()


def orient_ring(ring: ArrayLike, *, positive: bool = True) -> FloatArray:
    """Return the ring with the requested orientation, keeping its first vertex first.

    Args:
        ring: (N, 2) vertices, closing vertex not repeated.
        positive: True for a positive signed area (shells), False for negative (holes).

    Returns:
        (N, 2): the same array values, reversed after the first vertex when needed. A ring
        of zero area is returned unchanged.
    """
    arr = _as_ring(ring)
    area = signed_area(arr)
    if area == 0.0 or (area > 0) == positive:
        return arr.copy()
    return np.concatenate([arr[:1], arr[:0:-1]], axis=0)


def polygon_area(shell: ArrayLike, holes: Sequence[ArrayLike] = ()) -> float:
    """Area in px^2 of a polygon: |shell| minus the sum of |hole| (holes assumed inside)."""
    area = abs(signed_area(shell))
    for hole in holes:
        area -= abs(signed_area(hole))
    return max(area, 0.0)
