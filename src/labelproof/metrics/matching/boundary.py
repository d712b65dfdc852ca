"""Boundary distance of two shapes: the mean symmetric distance between their outlines.

    d(A, B) = (mean_{p on ∂A} dist(p, ∂B) + mean_{q on ∂B} dist(q, ∂A)) / 2   (px)

- polygons: every ring (shell and holes) is resampled at points equally spaced by arc
  length (``samples`` points in all, spread by ring length) and measured to the nearest
  segment of the other polygon's rings;
- masks: the boundary pixels (foreground pixels with a background 4-neighbour or on the
  image edge) and scipy's Euclidean distance transform, in pixel units.

An empty mask has no boundary: the distance is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.metrics.similarity.polygons import polygon_rings
from labelproof.metrics.similarity.polylines import points_to_lines_distance, resample

F64 = NDArray[np.float64]
DEFAULT_SAMPLES = 128


def _ring_samples(rings: list[F64], samples: int) -> F64:
    closed = [np.vstack([r, r[:1]]) for r in rings]
    lengths = np.array([np.hypot(*np.diff(c, axis=0).T).sum() for c in closed])
    share = np.maximum(2, np.round(samples * lengths / lengths.sum()).astype(int))
    return np.vstack([resample(c, int(n) + 1)[:-1] for c, n in zip(closed, share, strict=True)])


def _ring_segments(rings: list[F64]) -> F64:
    segs = [np.stack([r, np.roll(r, -1, axis=0)], axis=1) for r in rings]
    return np.concatenate(segs)[None]  # (1, L, 2, 2)


def polygon_boundary_distance(
    a: Mapping[str, Any], b: Mapping[str, Any], samples: int = DEFAULT_SAMPLES
) -> float:
    """Mean symmetric boundary distance in px of two canonical polygons."""
    ra, rb = polygon_rings(a, "a"), polygon_rings(b, "b")
    ab = points_to_lines_distance(_ring_samples(ra, samples)[None], _ring_segments(rb))
    ba = points_to_lines_distance(_ring_samples(rb, samples)[None], _ring_segments(ra))
    return float(0.5 * (ab[0, 0] + ba[0, 0]))


def _edge_pixels(bits: NDArray[np.bool_]) -> NDArray[np.bool_]:
    padded = np.pad(bits, 1, constant_values=False)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:] & bits
    return np.asarray(bits & ~interior, dtype=bool)


def mask_boundary_distance(a: Mapping[str, Any], b: Mapping[str, Any]) -> float | None:
    """Mean symmetric boundary distance in px of two canonical masks (None if one is empty)."""
    from pycocotools import mask as mask_utils
    from scipy.ndimage import distance_transform_edt

    from labelproof.metrics.similarity.masks import mask_rles

    ra, rb = mask_rles([a], "a")[0], mask_rles([b], "b")[0]
    ea = _edge_pixels(mask_utils.decode(ra).astype(bool))
    eb = _edge_pixels(mask_utils.decode(rb).astype(bool))
    if not ea.any() or not eb.any():
        return None
    to_b = distance_transform_edt(~eb)
    to_a = distance_transform_edt(~ea)
    return float(0.5 * (to_b[ea].mean() + to_a[eb].mean()))


def boundary_distance(type_name: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> float | None:
    """Boundary distance for ``polygon`` and ``mask``; None for other types."""
    if type_name == "polygon":
        return polygon_boundary_distance(a, b)
    if type_name == "mask":
        return mask_boundary_distance(a, b)
    return None
