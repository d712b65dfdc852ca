"""labelproof.geometry helpers against shapely and first principles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from shapely import affinity
from shapely.geometry import MultiPoint, Polygon

from labelproof.geometry import (
    convex_hull,
    cuboid_corners,
    dedupe_ring,
    normalize_degrees,
    normalize_radians,
    orient_ring,
    polygon_area,
    rotated_box_corners,
    rotation_matrix,
    signed_area,
)

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def test_signed_area_sign_convention() -> None:
    square = [[0, 0], [1, 0], [1, 1], [0, 1]]  # clockwise on screen (y down)
    assert signed_area(square) == 1.0
    assert signed_area(square[::-1]) == -1.0
    assert Polygon(square).exterior.is_ccw  # shapely calls this ring counter-clockwise
    assert signed_area([]) == 0.0
    assert signed_area([[0, 0], [1, 1]]) == 0.0


def test_orient_and_dedupe_keep_the_first_vertex() -> None:
    ring = np.array([[0, 0], [0, 1], [1, 1], [1, 0]], dtype=float)
    assert orient_ring(ring).tolist() == [[0, 0], [1, 0], [1, 1], [0, 1]]
    assert orient_ring(ring, positive=False).tolist() == ring.tolist()
    assert dedupe_ring([[0, 0], [0, 0], [1, 0], [1, 1], [0, 0], [0, 0]]).tolist() == [
        [0, 0],
        [1, 0],
        [1, 1],
    ]
    assert dedupe_ring(np.zeros((0, 2))).shape == (0, 2)
    assert polygon_area([[0, 0], [4, 0], [4, 4], [0, 4]], [[[1, 1], [1, 2], [2, 2], [2, 1]]]) == 15


millis = st.integers(-(10**6), 10**6).map(lambda v: v / 1000)  # no subnormal noise


@settings(deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(0, 40), st.just(2)), elements=millis))
def test_convex_hull_matches_shapely(points: np.ndarray) -> None:
    hull = convex_hull(points)
    if hull.shape[0] >= 3:
        assert signed_area(hull) > 0
        ref = MultiPoint(points.tolist()).convex_hull
        assert math.isclose(signed_area(hull), ref.area, rel_tol=1e-9, abs_tol=1e-9)
    assert convex_hull(np.zeros((0, 2))).shape == (0, 2)


@settings(deadline=None)
@given(finite, finite, st.floats(0.1, 100), st.floats(0.1, 100), st.floats(-720, 720))
def test_rotated_box_corners_match_shapely_rotate(
    cx: float, cy: float, w: float, h: float, angle: float
) -> None:
    corners = rotated_box_corners(cx, cy, w, h, angle)
    box = Polygon(
        [
            (cx - w / 2, cy - h / 2),
            (cx + w / 2, cy - h / 2),
            (cx + w / 2, cy + h / 2),
            (cx - w / 2, cy + h / 2),
        ]
    )
    # shapely rotates counter-clockwise in y-up terms == clockwise on a y-down screen
    ref = np.asarray(affinity.rotate(box, angle, origin=(cx, cy)).exterior.coords)[:4]
    assert np.allclose(corners, ref, atol=1e-9 * (1 + abs(cx) + abs(cy) + w + h))


def test_rotated_box_positive_angle_is_clockwise_on_screen() -> None:
    # a 90 degree clockwise turn on screen moves the top-left corner to the top-right
    corners = rotated_box_corners(0, 0, 2, 2, 90)
    assert np.allclose(corners[0], [1, -1])


@pytest.mark.parametrize(
    ("angle", "expected"),
    [
        (0, 0.0),
        (-0.0, 0.0),
        (180, -180.0),
        (-180, -180.0),
        (190, -170.0),
        (-181, 179.0),
        (720, 0.0),
        (359.5, -0.5),
    ],
)
def test_normalize_degrees(angle: float, expected: float) -> None:
    out = normalize_degrees(angle)
    assert out == expected
    assert math.copysign(1.0, out) == math.copysign(1.0, expected)


@settings(deadline=None)
@given(st.floats(-1e6, 1e6))
def test_normalized_angles_are_in_range(angle: float) -> None:
    assert -180.0 <= normalize_degrees(angle) < 180.0
    r = normalize_radians(angle)
    assert -math.pi <= r < math.pi
    assert math.isclose(math.sin(r), math.sin(angle), abs_tol=1e-6)


@settings(deadline=None)
@given(st.floats(-4, 4), st.floats(-4, 4), st.floats(-4, 4))
def test_rotation_matrix_is_a_rotation(roll: float, pitch: float, yaw: float) -> None:
    r = rotation_matrix(roll, pitch, yaw)
    assert np.allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert math.isclose(np.linalg.det(r), 1.0, rel_tol=1e-12)


def test_cuboid_corner_order() -> None:
    c = cuboid_corners([10, 20, 30], [4, 2, 6], [0, 0, 0])
    assert c[0].tolist() == [8, 19, 27]  # (-dx/2, -dy/2, -dz/2)
    assert signed_area(c[:4, :2]) > 0  # bottom face counter-clockwise seen from above (z up)
    assert np.allclose(c[4:, :2], c[:4, :2]) and np.allclose(c[4:, 2] - c[:4, 2], 6)
    yawed = cuboid_corners([0, 0, 0], [2, 2, 2], [0, 0, math.pi / 2])
    assert np.allclose(yawed[0], [1, -1, -1])  # Rz(90) maps (-1, -1) to (1, -1)
