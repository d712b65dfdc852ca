"""Hypothesis properties: round-trips, areas against shapely, rasterisation error bound."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from shapely.geometry import Polygon

from labelproof.annotypes import ImageSize, get_type
from labelproof.geometry import ring_perimeter, rotated_box_corners, signed_area

BOX = get_type("box")
ROT = get_type("rotated_box")
POLY = get_type("polygon")
MASK = get_type("mask")

coord = st.floats(-1e5, 1e5, allow_nan=False, allow_infinity=False)
extent = st.floats(1e-3, 1e5, allow_nan=False, allow_infinity=False)


@settings(deadline=None)
@given(x=coord, y=coord, w=extent, h=extent)
def test_box_round_trips(x: float, y: float, w: float, h: float) -> None:
    g = BOX.validate({"x": x, "y": y, "w": w, "h": h})
    assert g == {"x": x, "y": y, "w": w, "h": h}
    assert BOX.from_json(BOX.to_json(g)) == g
    assert BOX.area(g) == w * h
    poly = BOX.to_polygon(g)
    assert math.isclose(POLY.area(poly), w * h, rel_tol=1e-6)
    assert POLY.bounds(poly) == BOX.bounds(g)


@settings(deadline=None)
@given(cx=coord, cy=coord, w=extent, h=extent, angle=st.floats(-1e4, 1e4))
def test_rotated_box_angle_and_corners(
    cx: float, cy: float, w: float, h: float, angle: float
) -> None:
    g = ROT.validate({"cx": cx, "cy": cy, "w": w, "h": h, "angle": angle})
    assert -180.0 <= g["angle"] < 180.0
    assert math.isclose(
        math.cos(math.radians(g["angle"])), math.cos(math.radians(angle)), abs_tol=1e-9
    )
    assert ROT.validate(g) == g
    assert ROT.from_json(ROT.to_json(g)) == g
    corners = rotated_box_corners(**g)
    assert math.isclose(signed_area(corners), w * h, rel_tol=1e-6)
    centre = corners.mean(axis=0)
    assert np.allclose(centre, [cx, cy], rtol=1e-9, atol=1e-6 * (1 + w + h))


@st.composite
def star_polygons(draw: st.DrawFn, centre: float = 0.0, max_radius: float = 90.0) -> Any:
    """A simple polygon: vertices at jittered angles (gaps < pi) around a centre."""
    n = draw(st.integers(3, 40))
    jitter = draw(st.lists(st.floats(-0.45, 0.45), min_size=n, max_size=n))
    radii = draw(st.lists(st.floats(1.0, max_radius), min_size=n, max_size=n))
    angles = 2 * np.pi * (np.arange(n) + np.asarray(jitter)) / n
    r = np.asarray(radii)
    pts = np.c_[centre + r * np.cos(angles), centre + r * np.sin(angles)]
    if draw(st.booleans()):
        pts = pts[::-1]
    return pts


def _inradius(ring: NDArray[np.float64], centre: float) -> float:
    """Distance from (centre, centre) to the nearest edge of a ring (N, 2)."""
    a, b = ring, np.roll(ring, -1, axis=0)
    p = np.array([centre, centre])
    ab = b - a
    t = np.clip(((p - a) * ab).sum(axis=1) / (ab * ab).sum(axis=1), 0.0, 1.0)
    nearest = a + t[:, None] * ab
    return float(np.hypot(*(nearest - p).T).min())


@st.composite
def polygons_with_holes(draw: st.DrawFn, centre: float = 0.0) -> dict[str, Any]:
    shell = draw(star_polygons(centre=centre))
    holes = []
    room = _inradius(shell, centre)
    if room > 8.0 and draw(st.booleans()):
        hole = draw(star_polygons(centre=centre, max_radius=0.9 * room))
        hole = centre + (hole - centre) * (0.9 * room / np.hypot(*(hole - centre).T).max())
        holes.append(hole.tolist())
    return {"points": shell.tolist(), "holes": holes}


def _valid(g: dict[str, Any]) -> bool:
    shapely_poly = Polygon(g["points"], g["holes"])
    return bool(shapely_poly.is_valid) and shapely_poly.area > 1e-6


@settings(deadline=None)
@given(polygons_with_holes())
def test_polygon_round_trips_and_area_matches_shapely(g: dict[str, Any]) -> None:
    assume(_valid(g))
    canon = POLY.validate(g)
    assert POLY.validate(canon) == canon
    assert POLY.from_json(POLY.to_json(canon)) == canon
    assert signed_area(canon["points"]) > 0
    assert all(signed_area(h) < 0 for h in canon["holes"])
    assert Polygon(canon["points"]).exterior.is_ccw  # shapely agrees on "positive"
    assert math.isclose(POLY.area(canon), Polygon(g["points"], g["holes"]).area, rel_tol=1e-9)


@settings(deadline=None)
@given(polygons_with_holes(), st.floats(-1e4, 1e4), st.floats(-1e4, 1e4))
def test_polygon_area_is_translation_invariant(g: dict[str, Any], dx: float, dy: float) -> None:
    assume(_valid(g))
    shift = np.array([dx, dy])
    moved = {
        "points": (np.asarray(g["points"]) + shift).tolist(),
        "holes": [(np.asarray(h) + shift).tolist() for h in g["holes"]],
    }
    assert math.isclose(POLY.area(moved), POLY.area(g), rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=60, deadline=None)
@given(polygons_with_holes(centre=100.0))
def test_mask_area_is_close_to_polygon_area(g: dict[str, Any]) -> None:
    """|pixels - area| <= sqrt(2) * perimeter + 3 * vertices (see docs/annotation-types.md).

    Pixels no edge passes through are classified exactly; an edge of length l passes
    through at most sqrt(2) * l + 3 pixels, each off by at most 1 px^2.
    """
    assume(_valid(g))
    image = ImageSize(200, 200)
    mask = POLY.to_mask(g, image)
    assert mask is not None
    rings = [np.asarray(g["points"])] + [np.asarray(h) for h in g["holes"]]
    bound = sum(math.sqrt(2) * ring_perimeter(r) + 3 * len(r) for r in rings)
    assert abs(MASK.area(mask) - POLY.area(g)) <= bound
