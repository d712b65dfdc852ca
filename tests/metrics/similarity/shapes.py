"""Seeded and Hypothesis generators of canonical geometries for the similarity tests."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray


def star_ring(
    rng: np.random.Generator, cx: float, cy: float, r: float, n: int
) -> NDArray[np.float64]:
    """A simple polygon ring (n, 2), positive: vertices at jittered angles around (cx, cy),
    each angular gap < pi so the ring never crosses itself."""
    ang = (np.arange(n) + rng.uniform(0.0, 0.9, n)) * (2.0 * math.pi / n)
    rad = r * rng.uniform(0.4, 1.0, n)
    return np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], axis=1)


def star_polygon(
    rng: np.random.Generator, cx: float, cy: float, r: float, n: int, hole: bool = False
) -> dict[str, Any]:
    """Canonical polygon geometry; with ``hole``, a small negative triangle near the centre
    (inside the shell since every shell vertex is at least 0.4 r away)."""
    shell = star_ring(rng, cx, cy, r, n)
    holes: list[list[list[float]]] = []
    if hole and n >= 8:  # angular gaps < pi/2: the shell stays > 0.29 r from the centre
        s = 0.15 * r
        tri = np.array([[cx - s, cy - s], [cx, cy + s], [cx + s, cy - s]])  # negative
        holes.append(tri.tolist())
    return {"points": shell.tolist(), "holes": holes}


@st.composite
def polygons(draw: st.DrawFn, holes: bool = True) -> dict[str, Any]:
    """A canonical star-shaped polygon, optionally with a hole."""
    seed = draw(st.integers(0, 2**32 - 1))
    cx = draw(st.floats(-1e3, 1e3))
    cy = draw(st.floats(-1e3, 1e3))
    r = draw(st.floats(1.0, 300.0))
    n = draw(st.integers(3, 40))
    hole = draw(st.booleans()) if holes else False
    return star_polygon(np.random.default_rng(seed), cx, cy, r, n, hole)


@st.composite
def polygon_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two polygons that usually overlap, sometimes on a shared integer grid (degenerate
    cases: shared vertices and collinear edges)."""
    if draw(st.booleans()):
        a = draw(polygons())
        p = np.asarray(a["points"])
        cx, cy = p.mean(axis=0)
        r = float(np.abs(p - p.mean(axis=0)).max())
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        dx, dy = rng.normal(0.0, 0.4 * r, 2)
        n = draw(st.integers(3, 40))
        b = star_polygon(rng, cx + dx, cy + dy, r * rng.uniform(0.5, 1.5), n, draw(st.booleans()))
        return a, b
    # grid rectangles: edges collinear and vertices shared often
    coords = st.integers(0, 6)
    x0, x1 = sorted(draw(st.lists(coords, min_size=2, max_size=2, unique=True)))
    y0, y1 = sorted(draw(st.lists(coords, min_size=2, max_size=2, unique=True)))
    u0, u1 = sorted(draw(st.lists(coords, min_size=2, max_size=2, unique=True)))
    v0, v1 = sorted(draw(st.lists(coords, min_size=2, max_size=2, unique=True)))
    return _rect(x0, y0, x1, y1), _rect(u0, v0, u1, v1)


def _rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    pts = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    return {"points": [[float(x), float(y)] for x, y in pts], "holes": []}


def shapely_polygon(g: dict[str, Any]) -> Any:
    from shapely.geometry import Polygon

    return Polygon(g["points"], g["holes"])


def translate_polygon(g: dict[str, Any], dx: float, dy: float) -> dict[str, Any]:
    def move(ring: list[list[float]]) -> list[list[float]]:
        return [[x + dx, y + dy] for x, y in ring]

    return {"points": move(g["points"]), "holes": [move(h) for h in g["holes"]]}
