"""Polygons with holes, split and merge in a real browser: a hole drawn into a polygon
(O, and Shift+first click), its vertices edited, split by a line, two polygons merged;
geometry read back from the API to the pixel, and the browser's polygon booleans compared
with shapely."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
from shapely.geometry import Polygon

from tests.browser.conftest import Server, shot
from tests.browser.workspace import Workspace, sign_in

PX = 0.5


def seed(admin_api: httpx.Client, task: int, annotations: list[dict[str, Any]]) -> None:
    r = admin_api.put(
        f"/api/tasks/{task}/annotations",
        json={"base_revision": 0, "annotations": annotations},
        headers={"Idempotency-Key": f"seed-{task}"},
    )
    assert r.status_code == 201, r.text


def saved(admin_api: httpx.Client, task: int) -> dict[str, dict[str, Any]]:
    r = admin_api.get(f"/api/tasks/{task}/annotations")
    r.raise_for_status()
    return {a["id"]: a for a in r.json()["annotations"]}


def poly(id_: str, points: Any, label: str = "object") -> dict[str, Any]:
    return {
        "id": id_,
        "type": "polygon",
        "label": label,
        "geometry": {"points": points, "holes": []},
    }


def close(actual: Any, expected: Any, tol: float = PX) -> bool:
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    return a.shape == e.shape and bool(np.all(np.abs(a - e) <= tol))


def same_ring(actual: list[list[float]], expected: list[list[float]], tol: float = PX) -> bool:
    """The same closed ring up to its starting point and direction (the server orients
    rings canonically)."""
    n = len(expected)
    if len(actual) != n:
        return False
    for ring in (actual, actual[::-1]):
        for k in range(n):
            if close(ring[k:] + ring[:k], expected, tol):
                return True
    return False


def shp(g: dict[str, Any]) -> Polygon:
    return Polygon(g["points"], g.get("holes") or [])


def selected(page: Any) -> Any:
    return page.evaluate("() => window.__labelproof.doc.selected")


def test_draw_and_edit_holes(
    page: Any, server: Server, new_task: Any, admin_api: httpx.Client
) -> None:
    task = new_task(2)  # coffee, 600 x 400
    seed(admin_api, task, [poly("p", [[100, 100], [400, 100], [400, 350], [100, 350]])])
    sign_in(page, server)
    ws = Workspace(page).open(task)

    ws.click(250, 200)
    assert selected(page) == "p"
    ws.key("o")  # a hole in the selected polygon
    for x, y in [(200, 150), (300, 150), (300, 250), (200, 250)]:
        ws.click(x, y)
    shot(page, "tool-hole-drawing")
    ws.key("Enter")
    g = next(a for a in ws.items() if a["id"] == "p")["geometry"]
    assert len(g["holes"]) == 1
    assert same_ring(g["holes"][0], [[200, 150], [300, 150], [300, 250], [200, 250]])
    assert selected(page) == "p"
    # Inside the hole is not the polygon: a click there selects nothing.
    ws.click(250, 200)
    assert selected(page) is None

    # A second hole: polygon tool, Shift+first click inside the selected polygon.
    ws.click(150, 200)
    assert selected(page) == "p"
    ws.tool("polygon")
    ws.click(120, 300, shift=True)
    ws.click(180, 300)
    ws.click(150, 330)
    ws.key("Enter")
    # A hole that leaves the polygon is refused with a notice.
    ws.key("o")
    for x, y in [(350, 300), (450, 300), (400, 330)]:
        ws.click(x, y)
    ws.key("Enter")
    assert "Hole refused" in page.inner_text(".toast")
    ws.key("Escape")
    ws.tool("select")

    # Vertex editing on a hole: drag one, Alt+click removes one, double-click adds one.
    ws.click(150, 200)
    ws.drag((300, 150), (320, 140))
    page.keyboard.down("Alt")
    ws.click(200, 250)
    page.keyboard.up("Alt")
    g = next(a for a in ws.items() if a["id"] == "p")["geometry"]
    assert same_ring(g["holes"][0], [[200, 150], [320, 140], [300, 250]])
    cx, cy = ws.xy(250, 145)  # on the hole's first edge, (200,150)-(320,140)
    page.mouse.dblclick(cx, cy)
    page.wait_for_timeout(30)
    g = next(a for a in ws.items() if a["id"] == "p")["geometry"]
    assert same_ring(g["holes"][0], [[200, 150], [250, 145], [320, 140], [300, 250]])
    shot(page, "tool-hole-edit")

    ws.save()
    got = saved(admin_api, task)["p"]["geometry"]
    assert same_ring(got["points"], [[100, 100], [400, 100], [400, 350], [100, 350]])
    assert len(got["holes"]) == 2
    assert same_ring(got["holes"][0], [[200, 150], [250, 145], [320, 140], [300, 250]])
    assert same_ring(got["holes"][1], [[120, 300], [180, 300], [150, 330]])
    assert shp(got).is_valid


def test_split_and_merge(page: Any, server: Server, new_task: Any, admin_api: httpx.Client) -> None:
    task = new_task(2)
    square = [[50, 50], [250, 50], [250, 250], [50, 250]]
    a = [[300, 60], [450, 60], [450, 200], [300, 200]]
    b = [[400, 150], [550, 120], [560, 330], [380, 300]]
    far = [[60, 300], [160, 300], [160, 380], [60, 380]]
    seed(
        admin_api,
        task,
        [poly("sq", square), poly("a", a), poly("b", b), poly("far", far, "animal")],
    )
    sign_in(page, server)
    ws = Workspace(page).open(task)

    # Split the square with a vertical line at x = 120: the larger piece keeps the id.
    ws.click(150, 150)
    ws.key("x")
    ws.click(120, 30)
    page.mouse.move(*ws.xy(120, 270), steps=4)
    shot(page, "tool-split")
    ws.click(120, 270)
    items = {i["id"]: i for i in ws.items()}
    assert len(items) == 5
    pieces = [i for i in items.values() if i["id"] not in {"a", "b", "far"}]
    big = shp(items["sq"]["geometry"])
    small = shp(next(p for p in pieces if p["id"] != "sq")["geometry"])
    assert big.area == pytest.approx(130 * 200) and small.area == pytest.approx(70 * 200)
    assert big.union(small).symmetric_difference(Polygon(square)).area < 1e-6
    assert sorted(selected_ids(page)) == sorted(p["id"] for p in pieces)

    # A cut that crosses the outline four times is refused.
    ws.key("Escape")
    ws.click(375, 100)
    assert selected(page) == "a"
    ws.key("x")
    ws.click(280, 130)
    ws.click(330, 130)  # ends inside: refused
    assert "Split refused" in page.inner_text(".toast")
    ws.key("Escape")
    ws.tool("select")

    # Merge a and b (Shift+click adds b to the selection, U merges).
    ws.click(375, 100)
    ws.click(480, 250, shift=True)
    assert sorted(selected_ids(page)) == ["a", "b"]
    ws.key("u")
    items = {i["id"]: i for i in ws.items()}
    assert "b" not in items
    merged = shp(items["a"]["geometry"])
    expected = Polygon(a).union(Polygon(b))
    assert merged.is_valid
    assert merged.symmetric_difference(expected).area < 1.0
    shot(page, "tool-merge")

    # Polygons that do not overlap, or of two classes, are refused with a message.
    ws.click(375, 100)
    ws.click(110, 340, shift=True)
    ws.key("u")
    assert "merge needs two polygons of the same class" in page.inner_text(".toast")

    ws.save()
    got = saved(admin_api, task)
    assert set(got) == {"sq", "a", "far", *(p["id"] for p in pieces)}
    assert shp(got["a"]["geometry"]).symmetric_difference(expected).area < 1.0
    assert shp(got["sq"]["geometry"]).area == pytest.approx(130 * 200)


def selected_ids(page: Any) -> list[str]:
    out: list[str] = page.evaluate("() => [...window.__labelproof.doc.selection]")
    return out


def star(rng: np.random.Generator, cx: float, cy: float, r: float, n: int) -> list[list[float]]:
    """A random star-shaped (hence simple) ring around (cx, cy), 0.01 px grid: angles
    in order with gaps under pi."""
    t = (np.arange(n) + rng.uniform(0, 0.5, n)) * 2 * np.pi / n
    rad = rng.uniform(0.3 * r, r, n)
    xs = np.round(cx + rad * np.cos(t), 2)
    ys = np.round(cy + rad * np.sin(t), 2)
    return [[float(x), float(y)] for x, y in zip(xs, ys, strict=True)]


def test_union_and_split_match_shapely(page: Any, server: Server) -> None:
    sign_in(page, server)
    Workspace(page).open(1)
    rng = np.random.default_rng(7)
    cases = []
    for _ in range(150):
        p = star(rng, 200, 200, 100, int(rng.integers(3, 12)))
        cx, cy = rng.uniform(100, 300, 2)
        q = star(rng, float(cx), float(cy), 90, int(rng.integers(3, 12)))
        cases.append((p, q))
    results = page.evaluate(
        """cases => cases.map(([p, q]) => window.__labelproof.polyops.unionPolygons(
            {points: p, holes: []}, {points: q, holes: []}))""",
        cases,
    )
    merged = refused = 0
    for (p, q), r in zip(cases, results, strict=True):
        P, Q = Polygon(p), Polygon(q)
        assert P.is_valid and Q.is_valid
        expected = P.union(Q)
        if expected.geom_type != "Polygon":
            assert r.get("error") == "the polygons do not overlap", r
            refused += 1
            continue
        assert "ok" in r, (p, q, r)
        got = shp(r["ok"])
        assert got.is_valid, (p, q, r)
        assert got.symmetric_difference(expected).area < 0.05 * max(1.0, got.length), (p, q)
        assert len(r["ok"]["holes"]) == len(expected.interiors)
        merged += 1
    assert merged > 100

    # Split: a random vertical cut through a convex polygon; the pieces tile the original.
    splits = []
    for _ in range(60):
        p = star(rng, 200, 200, 100, int(rng.integers(3, 10)))
        hull = Polygon(p).convex_hull
        x = float(rng.uniform(hull.bounds[0] + 5, hull.bounds[2] - 5))
        splits.append((list(map(list, hull.exterior.coords[:-1])), x))
    out = page.evaluate(
        """cases => cases.map(([p, x]) => window.__labelproof.polyops.splitPolygon(
            {points: p, holes: []}, [x, -10], [x, 500]))""",
        splits,
    )
    for (p, _x), r in zip(splits, out, strict=True):
        assert "ok" in r, (p, r)
        a, b = (shp(g) for g in r["ok"])
        assert a.is_valid and b.is_valid and a.area >= b.area
        # the cut points are rounded to 0.01 px: slivers of at most 0.01 px x the outline
        slack = 0.01 * Polygon(p).length
        assert a.union(b).symmetric_difference(Polygon(p)).area < slack
        assert a.intersection(b).area < slack
