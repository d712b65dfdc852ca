"""Similarity of open polylines from their mean symmetric distance.

Each polyline is resampled at ``samples`` points equally spaced by arc length (both ends
included), so the measure does not depend on how densely a shape was clicked. The mean
distance from one polyline's samples to the other polyline (point-to-segment, in px) is
taken both ways and averaged:

    d(A, B) = (mean_{p in S(A)} dist(p, B) + mean_{q in S(B)} dist(q, A)) / 2,
    similarity = exp(-d^2 / (2 tolerance^2)),

in (0, 1]: 1 for identical shapes, 0.61 at d = tolerance, 0.5 at d = 1.18 tolerance. The
direction of drawing is ignored; the measure is symmetric and invariant under translation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidInput
from labelproof.metrics.similarity._common import as_list, empty, key, parse_each
from labelproof.metrics.similarity._common import points as parse_points

F64 = NDArray[np.float64]

DEFAULT_TOLERANCE_PX = 5.0
DEFAULT_SAMPLES = 32
_CHUNK = 1 << 21


def polyline_points(geometries: Sequence[Any], field: str = "a") -> list[F64]:
    """Canonical ``polyline`` (or any ``{"points": ...}``) geometries -> (n_i, 2) arrays."""

    def parse(g: Any, path: str) -> F64:
        return parse_points(key(g, "points", path), f"{path}.points", min_points=2)

    return parse_each(as_list(geometries, field), field, parse)


def resample(line: F64, samples: int) -> F64:
    """``samples`` points (samples, 2) equally spaced by arc length along ``line`` (n, 2)."""
    seg = np.hypot(*np.diff(line, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if cum[-1] == 0.0:
        return np.repeat(line[:1], samples, axis=0)
    target = np.linspace(0.0, cum[-1], samples)
    return np.stack([np.interp(target, cum, line[:, 0]), np.interp(target, cum, line[:, 1])], 1)


def _segments(lines: list[F64]) -> F64:
    """(M, S, 2, 2) padded segments (padding repeats the last segment)."""
    width = max(ln.shape[0] - 1 for ln in lines)
    out = np.empty((len(lines), width, 2, 2), dtype=np.float64)
    for i, ln in enumerate(lines):
        s = np.stack([ln[:-1], ln[1:]], axis=1)
        out[i, : s.shape[0]] = s
        out[i, s.shape[0] :] = s[-1]
    return out


def points_to_lines_distance(pts: F64, segs: F64) -> F64:
    """Mean distance (N, M) in px from sample points pts (N, S, 2) to polylines segs
    (M, L, 2, 2): the mean over a's samples of the distance to the nearest segment."""
    n, m = pts.shape[0], segs.shape[0]
    out = np.empty((n, m), dtype=np.float64)
    a = segs[:, :, 0, :]  # (M, L, 2)
    d = segs[:, :, 1, :] - a
    dd = (d * d).sum(axis=2)  # (M, L)
    dd = np.where(dd > 0.0, dd, 1.0)
    per_row = max(1, _CHUNK // max(1, m * pts.shape[1] * segs.shape[1]))
    for lo in range(0, n, per_row):
        p = pts[lo : lo + per_row, None, :, None, :]  # (n, 1, S, 1, 2)
        rel = p - a[None, :, None, :, :]  # (n, M, S, L, 2)
        t = np.clip((rel * d[None, :, None]).sum(axis=4) / dd[None, :, None], 0.0, 1.0)
        diff = rel - t[..., None] * d[None, :, None]
        dist = np.sqrt((diff * diff).sum(axis=4)).min(axis=3)  # (n, M, S)
        out[lo : lo + per_row] = dist.mean(axis=2)
    return out


def mean_symmetric_distance(a: list[F64], b: list[F64], samples: int = DEFAULT_SAMPLES) -> F64:
    """Mean symmetric distance (N, M) in px between polylines a (N) and b (M)."""
    if not a or not b:
        return empty(len(a), len(b))
    sa = np.stack([resample(ln, samples) for ln in a])
    sb = np.stack([resample(ln, samples) for ln in b])
    ab = points_to_lines_distance(sa, _segments(b))
    ba = points_to_lines_distance(sb, _segments(a))
    return np.asarray(0.5 * (ab + ba.T), dtype=np.float64)


def polyline_similarity(
    a: Sequence[Any],
    b: Sequence[Any],
    *,
    tolerance: float = DEFAULT_TOLERANCE_PX,
    samples: int = DEFAULT_SAMPLES,
) -> F64:
    """Similarity of canonical ``polyline`` geometries: a (N) x b (M) -> (N, M) in (0, 1].

    Args:
        tolerance: px; the distance scale of the Gaussian (see the module docstring).
        samples: points per polyline for the arc-length resampling (>= 2).
    """
    if not (isinstance(tolerance, int | float) and tolerance > 0):
        raise InvalidInput(f"tolerance: must be > 0 px, got {tolerance!r}", field="tolerance")
    if not (isinstance(samples, int) and samples >= 2):
        raise InvalidInput(f"samples: must be an integer >= 2, got {samples!r}", field="samples")
    la, lb = polyline_points(a, "a"), polyline_points(b, "b")
    d = mean_symmetric_distance(la, lb, samples)
    return np.asarray(np.exp(-0.5 * (d / float(tolerance)) ** 2), dtype=np.float64)
