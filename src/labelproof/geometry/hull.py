"""Convex hull of 2D points (Andrew's monotone chain)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _cross(o: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def convex_hull(points: ArrayLike) -> NDArray[np.float64]:
    """Convex hull of points (N, 2) in px.

    Returns:
        (M, 2) hull vertices as a positive ring (shoelace area > 0), collinear points
        dropped, closing vertex not repeated. M < 3 when the points are degenerate
        (empty input gives shape (0, 2)).
    """
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if arr.shape[0] == 0:
        return np.zeros((0, 2), dtype=np.float64)
    pts = np.unique(arr, axis=0)  # sorted by x then y
    if pts.shape[0] < 3:
        return pts
    lower: list[NDArray[np.float64]] = []
    for p in pts:
        while len(lower) >= 2 and _cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[NDArray[np.float64]] = []
    for p in pts[::-1]:
        while len(upper) >= 2 and _cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1], dtype=np.float64)
