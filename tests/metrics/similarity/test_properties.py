"""Hypothesis properties of every kernel: range [0, 1], symmetry, identity, translation."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelproof.metrics.similarity import (
    box_iou,
    cuboid_iou,
    keypoint_oks,
    mask_iou,
    polyline_similarity,
    rotated_box_iou,
)

coord = st.floats(-1e3, 1e3)
size = st.floats(0.5, 200.0)
shift = st.floats(-1e3, 1e3)

boxes = st.builds(lambda x, y, w, h: {"x": x, "y": y, "w": w, "h": h}, coord, coord, size, size)
rboxes = st.builds(
    lambda cx, cy, w, h, a: {"cx": cx, "cy": cy, "w": w, "h": h, "angle": a},
    coord,
    coord,
    size,
    size,
    st.floats(-180.0, 179.999),
)
polylines = st.builds(
    lambda pts: {"points": pts},
    st.lists(st.tuples(coord, coord).map(list), min_size=2, max_size=12),
)
angles = st.floats(-math.pi, math.pi - 1e-9)
cuboids = st.builds(
    lambda c, s, r: {"center": list(c), "size": list(s), "rotation": list(r)},
    st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.floats(-5, 5)),
    st.tuples(st.floats(0.2, 6), st.floats(0.2, 6), st.floats(0.2, 6)),
    st.one_of(
        st.tuples(st.just(0.0), st.just(0.0), angles),  # yaw only (fast path)
        st.tuples(angles, angles, angles),  # general path
    ),
)


def _move_box(g: dict[str, Any], dx: float, dy: float) -> dict[str, Any]:
    return {**g, "x": g["x"] + dx, "y": g["y"] + dy}


def _move_rbox(g: dict[str, Any], dx: float, dy: float) -> dict[str, Any]:
    return {**g, "cx": g["cx"] + dx, "cy": g["cy"] + dy}


def _move_line(g: dict[str, Any], dx: float, dy: float) -> dict[str, Any]:
    return {"points": [[x + dx, y + dy] for x, y in g["points"]]}


def _move_cuboid(g: dict[str, Any], dx: float, dy: float) -> dict[str, Any]:
    c = g["center"]
    return {**g, "center": [c[0] + dx, c[1] + dy, c[2] + dx / 3]}


CASES: list[tuple[str, Callable[..., Any], Any, Callable[..., dict[str, Any]]]] = [
    ("box", box_iou, boxes, _move_box),
    ("rotated_box", rotated_box_iou, rboxes, _move_rbox),
    ("polyline", polyline_similarity, polylines, _move_line),
    ("cuboid", cuboid_iou, cuboids, _move_cuboid),
]


@pytest.mark.parametrize(("name", "fn", "strategy", "move"), CASES, ids=[c[0] for c in CASES])
def test_kernel_properties(name: str, fn: Any, strategy: Any, move: Any) -> None:
    @settings(deadline=None, max_examples=120)
    @given(a=strategy, b=strategy, dx=shift, dy=shift)
    def check(a: dict[str, Any], b: dict[str, Any], dx: float, dy: float) -> None:
        ab = fn([a], [b])[0, 0]
        assert 0.0 <= ab <= 1.0
        assert fn([b], [a])[0, 0] == pytest.approx(ab, abs=1e-9)
        assert fn([a], [a])[0, 0] == pytest.approx(1.0, abs=1e-9)
        assert fn([move(a, dx, dy)], [move(b, dx, dy)])[0, 0] == pytest.approx(ab, abs=1e-7)

    check()


@settings(deadline=None, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    dy=st.integers(0, 5),
    dx=st.integers(0, 5),
)
def test_mask_properties(seed: int, shape: tuple[int, int], dy: int, dx: int) -> None:
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(seed)
    h, w = shape

    def enc(bits: np.ndarray) -> dict[str, Any]:
        r = mask_utils.encode(np.asfortranarray(bits.astype(np.uint8)))
        return {"rle": {"size": list(r["size"]), "counts": r["counts"].decode("ascii")}}

    a = rng.random((h, w)) < 0.5
    b = rng.random((h, w)) < 0.5
    a[0, 0] = True  # never empty
    ab = mask_iou([enc(a)], [enc(b)])[0, 0]
    assert 0.0 <= ab <= 1.0
    assert mask_iou([enc(b)], [enc(a)])[0, 0] == ab
    assert mask_iou([enc(a)], [enc(a)])[0, 0] == 1.0
    # translation: place both masks in a larger image, shifted by (dy, dx)
    big_a = np.zeros((h + 5, w + 5), bool)
    big_b = np.zeros((h + 5, w + 5), bool)
    big_a[dy : dy + h, dx : dx + w] = a
    big_b[dy : dy + h, dx : dx + w] = b
    assert mask_iou([enc(big_a)], [enc(big_b)])[0, 0] == pytest.approx(ab, abs=1e-12)


@settings(deadline=None, max_examples=80)
@given(
    pts=st.lists(st.tuples(coord, coord, st.sampled_from([0, 1, 2])), min_size=1, max_size=8),
    noise=st.lists(st.tuples(st.floats(-20, 20), st.floats(-20, 20)), min_size=8, max_size=8),
    dx=shift,
    dy=shift,
)
def test_oks_properties(
    pts: list[tuple[float, float, int]], noise: list[tuple[float, float]], dx: float, dy: float
) -> None:
    gt = {"points": [[x, y, v] if v else [0.0, 0.0, 0] for x, y, v in pts]}
    pred = {
        "points": [[x + nx, y + ny, 2] for (x, y, _), (nx, ny) in zip(pts, noise, strict=False)]
    }
    area = [1000.0]
    oks = keypoint_oks([gt], [pred], areas=area)[0, 0]
    assert 0.0 <= oks <= 1.0
    labelled = any(v for _, _, v in pts)
    assert keypoint_oks([gt], [gt], areas=area)[0, 0] == (1.0 if labelled else 0.0)

    def move(g: dict[str, Any]) -> dict[str, Any]:
        return {"points": [[x + dx, y + dy, v] if v else [0.0, 0.0, 0] for x, y, v in g["points"]]}

    assert keypoint_oks([move(gt)], [move(pred)], areas=area)[0, 0] == pytest.approx(oks, abs=1e-6)
