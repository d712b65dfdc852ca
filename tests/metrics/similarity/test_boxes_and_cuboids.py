"""Box, rotated-box and cuboid IoU: value tables and reference computations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from labelproof.geometry import rotated_box_corners
from labelproof.metrics.similarity import (
    box_iou,
    box_iou_array,
    cuboid_iou,
    rotated_box_iou,
)
from labelproof.metrics.similarity.cuboids import _general_volume, cuboids_to_array


def b(x: float, y: float, w: float, h: float) -> dict[str, float]:
    return {"x": x, "y": y, "w": w, "h": h}


@pytest.mark.parametrize(
    ("a", "c", "expected"),
    [
        (b(0, 0, 10, 10), b(0, 0, 10, 10), 1.0),
        (b(0, 0, 10, 10), b(5, 0, 10, 10), 50 / 150),
        (b(0, 0, 10, 10), b(10, 0, 10, 10), 0.0),
        (b(0, 0, 10, 10), b(2, 2, 2, 2), 4 / 100),
        (b(0, 0, 10, 10), b(20, 20, 1, 1), 0.0),
    ],
)
def test_box_iou_table(a: dict[str, float], c: dict[str, float], expected: float) -> None:
    assert box_iou([a], [c])[0, 0] == pytest.approx(expected, abs=1e-15)


def test_box_iou_matrix_against_shapely() -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 50, (7, 4)) + np.array([0, 0, 1, 1])
    c = rng.uniform(0, 50, (5, 4)) + np.array([0, 0, 1, 1])
    got = box_iou_array(a, c)
    assert got.shape == (7, 5)
    for i in range(7):
        for j in range(5):
            p = box(a[i, 0], a[i, 1], a[i, 0] + a[i, 2], a[i, 1] + a[i, 3])
            q = box(c[j, 0], c[j, 1], c[j, 0] + c[j, 2], c[j, 1] + c[j, 3])
            want = p.intersection(q).area / p.union(q).area
            assert got[i, j] == pytest.approx(want, abs=1e-12)


def test_empty_shapes() -> None:
    assert box_iou([], [b(0, 0, 1, 1)]).shape == (0, 1)
    assert rotated_box_iou([], []).shape == (0, 0)
    assert cuboid_iou([CUBE], []).shape == (1, 0)


def rb(cx: float, cy: float, w: float, h: float, angle: float) -> dict[str, float]:
    return {"cx": cx, "cy": cy, "w": w, "h": h, "angle": angle}


def test_rotated_box_against_shapely() -> None:
    rng = np.random.default_rng(1)
    a = [
        rb(*rng.uniform(0, 30, 2), *rng.uniform(2, 20, 2), rng.uniform(-180, 180)) for _ in range(9)
    ]
    c = [
        rb(*rng.uniform(0, 30, 2), *rng.uniform(2, 20, 2), rng.uniform(-180, 180)) for _ in range(8)
    ]
    got = rotated_box_iou(a, c)
    for i, p in enumerate(a):
        for j, q in enumerate(c):
            pp = Polygon(rotated_box_corners(**p))
            qq = Polygon(rotated_box_corners(**q))
            want = pp.intersection(qq).area / pp.union(qq).area
            assert got[i, j] == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize(
    ("a", "c", "expected"),
    [
        (rb(5, 5, 10, 4, 30), rb(5, 5, 10, 4, 30), 1.0),
        (rb(5, 5, 10, 4, 0), rb(5, 5, 10, 4, 180), 1.0),  # same rectangle, turned around
        (rb(5, 5, 10, 4, 0), rb(5, 5, 4, 10, 90), 1.0),
        (rb(0, 0, 2, 2, 0), rb(1, 0, 2, 2, 0), 2 / 6),  # collinear edges
        (rb(0, 0, 2, 2, 0), rb(2, 0, 2, 2, 0), 0.0),  # touching
        (
            rb(0, 0, 2, 2, 0),
            rb(0, 0, 2, 2, 45),
            1 / math.sqrt(2),  # a regular octagon of area 8 (sqrt 2 - 1),
        ),
    ],
)
def test_rotated_box_table(a: dict[str, float], c: dict[str, float], expected: float) -> None:
    assert rotated_box_iou([a], [c])[0, 0] == pytest.approx(expected, abs=1e-12)


def test_axis_aligned_rotated_boxes_equal_box_iou() -> None:
    rng = np.random.default_rng(2)
    xywh = rng.uniform(1, 20, (10, 4))
    rot = [rb(x + w / 2, y + h / 2, w, h, 0.0) for x, y, w, h in xywh]
    np.testing.assert_allclose(rotated_box_iou(rot, rot), box_iou_array(xywh, xywh), atol=1e-12)


CUBE = {"center": [0.0, 0.0, 0.0], "size": [2.0, 2.0, 2.0], "rotation": [0.0, 0.0, 0.0]}


def cub(center: Any, size: Any, rotation: Any = (0.0, 0.0, 0.0)) -> dict[str, Any]:
    return {"center": list(center), "size": list(size), "rotation": list(rotation)}


@pytest.mark.parametrize(
    ("a", "c", "expected"),
    [
        (CUBE, CUBE, 1.0),
        (CUBE, cub((1, 0, 0), (2, 2, 2)), 4 / 12),
        (CUBE, cub((1, 1, 1), (2, 2, 2)), 1 / 15),
        (CUBE, cub((0, 0, 0), (1, 1, 1)), 1 / 8),
        (CUBE, cub((3, 0, 0), (2, 2, 2)), 0.0),
        (CUBE, cub((0, 0, 0), (2, 2, 2), (0, 0, math.pi / 2)), 1.0),
        (CUBE, cub((0, 0, 0), (2, 2, 2), (math.pi / 2, 0, 0)), 1.0),  # general path
        (CUBE, cub((0, 0, 1), (2, 2, 2), (0, 1e-300, 0)), 0.5 * 8 / (16 - 4)),
    ],
)
def test_cuboid_table(a: dict[str, Any], c: dict[str, Any], expected: float) -> None:
    assert cuboid_iou([a], [c])[0, 0] == pytest.approx(expected, abs=1e-9)


def test_cuboid_general_path_equals_yaw_only_path() -> None:
    rng = np.random.default_rng(4)
    for _ in range(30):
        ca = np.r_[rng.uniform(-1, 1, 3), rng.uniform(0.5, 3, 3), 0, 0, rng.uniform(-3, 3)]
        cb = np.r_[rng.uniform(-1, 1, 3), rng.uniform(0.5, 3, 3), 0, 0, rng.uniform(-3, 3)]
        geo = [
            {"center": c[:3].tolist(), "size": c[3:6].tolist(), "rotation": c[6:].tolist()}
            for c in (ca, cb)
        ]
        iou = cuboid_iou([geo[0]], [geo[1]])[0, 0]  # yaw-only fast path
        inter = _general_volume(ca, cb)
        vol = ca[3:6].prod() + cb[3:6].prod()
        assert iou == pytest.approx(inter / (vol - inter), abs=1e-9)


def test_cuboid_tilted_contained() -> None:
    inner = cub((0.1, 0, 0.05), (0.5, 0.4, 0.3), (0.3, -0.4, 1.2))
    assert cuboid_iou([CUBE], [inner])[0, 0] == pytest.approx(0.5 * 0.4 * 0.3 / 8, abs=1e-12)
    assert cuboids_to_array([inner]).shape == (1, 9)
