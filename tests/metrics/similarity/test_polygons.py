"""Polygon IoU against shapely: fixed cases, degenerate cases and Hypothesis properties."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from labelproof.errors import InvalidGeometry, InvalidInput
from labelproof.metrics.similarity import (
    pack_polygons,
    pack_rings,
    paired_polygon_iou,
    polygon_iou,
)

from .shapes import polygon_pairs, polygons, shapely_polygon, star_polygon, translate_polygon


def shapely_iou(a: dict[str, Any], b: dict[str, Any]) -> float:
    pa, pb = shapely_polygon(a), shapely_polygon(b)
    inter = pa.intersection(pb).area
    union = pa.area + pb.area - inter
    return inter / union if union > 0 else 0.0


def square(x0: float, y0: float, x1: float, y1: float, holes: Any = ()) -> dict[str, Any]:
    return {
        "points": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
        "holes": [list(h) for h in holes],
    }


HOLE = [[2.0, 2.0], [2.0, 4.0], [4.0, 4.0], [4.0, 2.0]]  # negative ring

CASES = [
    ("disjoint", square(0, 0, 1, 1), square(2, 2, 3, 3), 0.0),
    ("touching edge", square(0, 0, 1, 1), square(1, 0, 2, 1), 0.0),
    ("identical", square(0, 0, 2, 2), square(0, 0, 2, 2), 1.0),
    ("half overlap", square(0, 0, 2, 2), square(1, 0, 3, 2), 2.0 / 6.0),
    ("contained", square(0, 0, 4, 4), square(1, 1, 2, 2), 1.0 / 16.0),
    ("hole removes overlap", square(0, 0, 10, 10, [HOLE]), square(2, 2, 4, 4), 0.0),
    ("hole partly", square(0, 0, 10, 10, [HOLE]), square(3, 3, 5, 5), 3.0 / (96 + 4 - 3)),
]


@pytest.mark.parametrize(("name", "a", "b", "expected"), CASES, ids=[c[0] for c in CASES])
def test_fixed_cases(name: str, a: dict[str, Any], b: dict[str, Any], expected: float) -> None:
    got = polygon_iou([a], [b])
    assert got.shape == (1, 1)
    assert got[0, 0] == pytest.approx(expected, abs=1e-12)
    assert got[0, 0] == pytest.approx(shapely_iou(a, b), abs=1e-12)


def test_matrix_shape_and_values() -> None:
    rng = np.random.default_rng(3)
    a = [star_polygon(rng, 50 + 10 * i, 50, 30, 12, hole=i % 2 == 0) for i in range(4)]
    b = [star_polygon(rng, 60 + 15 * j, 55, 25, 9) for j in range(3)]
    got = polygon_iou(a, b)
    assert got.shape == (4, 3)
    want = np.array([[shapely_iou(x, y) for y in b] for x in a])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_empty_shapes() -> None:
    g = square(0, 0, 1, 1)
    assert polygon_iou([], [g]).shape == (0, 1)
    assert polygon_iou([g, g], []).shape == (2, 0)
    assert polygon_iou([], []).shape == (0, 0)
    assert paired_polygon_iou([], []).shape == (0,)


def test_clockwise_input_is_reoriented() -> None:
    a = square(0, 0, 2, 2)
    cw = {"points": a["points"][::-1], "holes": []}
    assert polygon_iou([cw], [square(1, 0, 3, 2)])[0, 0] == pytest.approx(1 / 3)


def test_pack_rings_matches_geometries() -> None:
    rng = np.random.default_rng(5)
    a = [star_polygon(rng, 0, 0, 10, 7) for _ in range(3)]
    b = [star_polygon(rng, 2, 1, 10, 11) for _ in range(3)]
    coords = np.concatenate([np.vstack([g["points"], g["points"][:1]]) for g in a])
    ring_offsets = np.array([0, 8, 16, 24])
    packed = pack_rings(coords, ring_offsets, np.arange(4))
    np.testing.assert_allclose(packed.area, [shapely_polygon(g).area for g in a], rtol=1e-12)
    np.testing.assert_allclose(
        paired_polygon_iou(packed, b), paired_polygon_iou(pack_polygons(a), b), atol=1e-15
    )


def test_errors_name_the_field() -> None:
    with pytest.raises(InvalidGeometry) as err:
        polygon_iou([square(0, 0, 1, 1), {"holes": []}], [])
    assert err.value.field == "a[1].points"
    with pytest.raises(InvalidGeometry) as err:
        polygon_iou([], [{"points": [[0, 0], [1, 1]]}])
    assert err.value.field == "b[0].points"
    with pytest.raises(InvalidInput) as err:
        paired_polygon_iou([square(0, 0, 1, 1)], [])
    assert err.value.field == "b"


@settings(deadline=None, max_examples=300)
@given(pair=polygon_pairs())
def test_equals_shapely(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    a, b = pair
    got = polygon_iou([a], [b])[0, 0]
    assert got == pytest.approx(shapely_iou(a, b), abs=1e-9, rel=1e-9)


@settings(deadline=None, max_examples=150)
@given(pair=polygon_pairs(), dx=st.floats(-500, 500), dy=st.floats(-500, 500))
def test_properties(pair: tuple[dict[str, Any], dict[str, Any]], dx: float, dy: float) -> None:
    a, b = pair
    ab = polygon_iou([a], [b])[0, 0]
    assert 0.0 <= ab <= 1.0
    assert polygon_iou([b], [a])[0, 0] == pytest.approx(ab, abs=1e-9)
    assert polygon_iou([a], [a])[0, 0] == 1.0
    moved = polygon_iou([translate_polygon(a, dx, dy)], [translate_polygon(b, dx, dy)])[0, 0]
    assert moved == pytest.approx(ab, abs=1e-9)


def test_batch_equals_shapely_vectorised() -> None:
    rng = np.random.default_rng(11)
    a, b = [], []
    for _ in range(2000):
        cx, cy, r = rng.uniform(0, 1000), rng.uniform(0, 1000), rng.uniform(5, 100)
        n, m = (int(v) for v in rng.integers(6, 41, 2))
        a.append(star_polygon(rng, cx, cy, r, n, hole=bool(rng.random() < 0.3)))
        dx, dy = rng.normal(0, 0.4 * r, 2)
        b.append(star_polygon(rng, cx + dx, cy + dy, r * rng.uniform(0.6, 1.4), m))
    ga = np.array([shapely_polygon(g) for g in a])
    gb = np.array([shapely_polygon(g) for g in b])
    inter = shapely.area(shapely.intersection(ga, gb))
    want = inter / (shapely.area(ga) + shapely.area(gb) - inter)
    np.testing.assert_allclose(paired_polygon_iou(a, b), want, rtol=1e-9, atol=1e-9)


@given(polygons())
@settings(deadline=None, max_examples=50)
def test_identity_with_holes(a: dict[str, Any]) -> None:
    assert paired_polygon_iou([a], [a])[0] == 1.0
