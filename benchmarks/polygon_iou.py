"""Polygon IoU of 100,000 pairs: labelproof against shapely 2 (vectorised), side by side.

Data (seeded): simple star-shaped polygons of 6-40 vertices (vertices at jittered angles
around a centre, every angular gap < pi), radius 10-200 px in a 2000 px image; each pair's
second polygon is shifted by about 0.4 radius and rescaled by 0.6-1.4, so almost every
pair overlaps. Both sides start from the same flat coordinate arrays:

- prepare: shapely ``from_ragged_array`` vs labelproof ``pack_rings``;
- IoU: shapely ``intersection`` + ``area`` on geometry arrays (union = sum of areas minus
  intersection) vs labelproof ``paired_polygon_iou`` on packed polygons.

Reports the median of ``--repeat`` runs per step, checks that every IoU agrees to 1e-9
(absolute and relative) and prints the ratios.

    .venv/bin/python benchmarks/polygon_iou.py [--pairs 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from labelproof.metrics.similarity import pack_rings, paired_polygon_iou
from labelproof.metrics.similarity._polygon_kernel import intersection_area_pairs

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def stars(rng: np.random.Generator, centre: F64, radius: F64, n: I64) -> tuple[F64, I64, I64]:
    """Closed rings (one per polygon) as flat coords (V, 2), ring offsets, polygon offsets."""
    p = n.shape[0]
    closed = n + 1
    ring_offsets = np.zeros(p + 1, dtype=np.int64)
    np.cumsum(closed, out=ring_offsets[1:])
    owner = np.repeat(np.arange(p), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    ang = (k + rng.uniform(0.0, 0.9, k.shape[0])) * (2.0 * np.pi / n[owner])
    rad = radius[owner] * rng.uniform(0.4, 1.0, k.shape[0])
    ring = centre[owner] + np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
    coords = np.empty((ring_offsets[-1], 2))
    dest = owner + np.arange(owner.shape[0])  # skip one slot per earlier polygon
    coords[dest] = ring
    coords[ring_offsets[1:] - 1] = ring[np.cumsum(n) - n]  # close each ring
    return coords, ring_offsets, np.arange(p + 1, dtype=np.int64)


def median_s(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    value = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240607)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    p = args.pairs
    centre = rng.uniform(50.0, 1950.0, (p, 2))
    radius = rng.uniform(10.0, 200.0, p)
    a = stars(rng, centre, radius, rng.integers(6, 41, p))
    shift = rng.normal(0.0, 0.4, (p, 2)) * radius[:, None]
    b = stars(rng, centre + shift, radius * rng.uniform(0.6, 1.4, p), rng.integers(6, 41, p))

    kind = shapely.GeometryType.POLYGON

    def shapely_prepare() -> tuple[Any, Any]:
        return (
            shapely.from_ragged_array(kind, a[0], (a[1], a[2])),
            shapely.from_ragged_array(kind, b[0], (b[1], b[2])),
        )

    def ours_prepare() -> tuple[Any, Any]:
        return pack_rings(*a), pack_rings(*b)

    t_sp, (ga, gb) = median_s(shapely_prepare, args.repeat)
    t_op, (pa, pb) = median_s(ours_prepare, args.repeat)
    assert shapely.is_valid(ga).all() and shapely.is_valid(gb).all()

    def shapely_iou() -> F64:
        inter = shapely.area(shapely.intersection(ga, gb))
        result: F64 = inter / (shapely.area(ga) + shapely.area(gb) - inter)
        return result

    t_s, ref = median_s(shapely_iou, args.repeat)
    t_o, got = median_s(lambda: paired_polygon_iou(pa, pb), args.repeat)
    idx = np.arange(p)
    _, degenerate = intersection_area_pairs(pa, idx, pb, idx)

    diff = np.abs(got - ref)
    ok = bool((diff <= 1e-9 * np.maximum(1.0, np.abs(ref))).all())
    overlapping = int((ref > 0).sum())
    print(f"{p} polygon pairs, 6-40 vertices, {overlapping} overlapping, median of {args.repeat}")
    print(f"degenerate pairs recomputed with shapely: {int(degenerate.sum())}")
    print(f"{'step':<10} {'shapely s':>10} {'labelproof s':>13} {'ratio':>7}")
    print(f"{'prepare':<10} {t_sp:>10.3f} {t_op:>13.3f} {t_sp / t_op:>6.2f}x")
    print(f"{'IoU':<10} {t_s:>10.3f} {t_o:>13.3f} {t_s / t_o:>6.2f}x")
    print(f"max |IoU diff| = {diff.max():.3e}; equal to 1e-9: {ok}")
    if not ok:
        raise SystemExit("labelproof and shapely disagree")


if __name__ == "__main__":
    main()
