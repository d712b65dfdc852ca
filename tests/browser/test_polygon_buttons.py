"""The toolbar buttons for cut hole, split and merge (O, X, U): draw with the polygon tool,
run the operation from its button, read the result back from the API to the pixel, then
undo and check that the saved revision is the drawing again."""

from __future__ import annotations

from typing import Any

import httpx
from shapely.geometry import Polygon

from tests.browser.conftest import Server, shot
from tests.browser.test_polygon_edit import same_ring, saved, shp
from tests.browser.workspace import Workspace, sign_in

Ring = list[tuple[float, float]]


def draw(ws: Workspace, ring: Ring) -> str:
    """Draw a closed polygon with the polygon tool; returns its id (left selected)."""
    ws.tool("polygon")
    before = {a["id"] for a in ws.items()}
    for x, y in ring:
        ws.click(x, y)
    ws.key("Enter")
    new = [a for a in ws.items() if a["id"] not in before]
    assert len(new) == 1 and new[0]["type"] == "polygon"
    assert same_ring(new[0]["geometry"]["points"], [list(p) for p in ring])
    ws.tool("select")
    return str(new[0]["id"])


def button(page: Any, name: str) -> Any:
    return page.locator(f"[data-action={name}]")


def polygons(admin_api: httpx.Client, task: int) -> dict[str, dict[str, Any]]:
    return {k: a for k, a in saved(admin_api, task).items() if a["type"] == "polygon"}


SQUARE: Ring = [(100, 100), (400, 100), (400, 300), (100, 300)]


def test_split_button(page: Any, server: Server, new_task: Any, admin_api: httpx.Client) -> None:
    task = new_task(2)  # coffee, 600 x 400
    sign_in(page, server)
    ws = Workspace(page).open(task)
    assert button(page, "split").is_disabled()  # nothing selected
    pid = draw(ws, SQUARE)
    ws.click(250, 200)
    assert page.evaluate("() => window.__labelproof.doc.selected") == pid
    assert button(page, "split").is_enabled()
    button(page, "split").click()
    assert page.evaluate("() => window.__labelproof.engine.tool.name") == "split"
    assert button(page, "split").get_attribute("aria-pressed") == "true"
    ws.click(200, 60)  # outside, above
    page.mouse.move(*ws.xy(200, 340), steps=4)
    shot(page, "button-split")
    ws.click(200, 340)  # outside, below: a vertical cut at x = 200
    split_rev = ws.save()
    got = polygons(admin_api, task)
    assert len(got) == 2 and pid in got  # the larger piece keeps the id
    other = next(v for k, v in got.items() if k != pid)
    assert same_ring(
        got[pid]["geometry"]["points"], [[200, 100], [400, 100], [400, 300], [200, 300]]
    )
    assert same_ring(other["geometry"]["points"], [[100, 100], [200, 100], [200, 300], [100, 300]])

    ws.key("Control+z")
    rev = ws.save()
    got = polygons(admin_api, task)
    assert list(got) == [pid] and rev > split_rev
    assert same_ring(got[pid]["geometry"]["points"], [list(p) for p in SQUARE])


def test_merge_button(page: Any, server: Server, new_task: Any, admin_api: httpx.Client) -> None:
    task = new_task(2)
    sign_in(page, server)
    ws = Workspace(page).open(task)
    a_ring: Ring = [(100, 100), (300, 100), (300, 300), (100, 300)]
    b_ring: Ring = [(200, 200), (400, 200), (400, 350), (200, 350)]
    a = draw(ws, a_ring)
    b = draw(ws, b_ring)
    ws.key("Escape")
    ws.click(150, 150)
    assert button(page, "merge").is_disabled()  # one polygon: merge needs two
    ws.click(350, 320, shift=True)
    assert sorted(page.evaluate("() => [...window.__labelproof.doc.selection]")) == sorted([a, b])
    assert button(page, "split").is_disabled() and button(page, "hole").is_disabled()
    button(page, "merge").click()
    shot(page, "button-merge")
    ws.save()
    got = polygons(admin_api, task)
    assert list(got) == [a]  # the first one's id
    assert same_ring(
        got[a]["geometry"]["points"],
        [
            [100, 100],
            [300, 100],
            [300, 200],
            [400, 200],
            [400, 350],
            [200, 350],
            [200, 300],
            [100, 300],
        ],
    )
    assert got[a]["geometry"]["holes"] == []
    expected = Polygon(a_ring).union(Polygon(b_ring))
    assert shp(got[a]["geometry"]).symmetric_difference(expected).area < 0.5

    ws.key("Control+z")
    ws.save()
    got = polygons(admin_api, task)
    assert set(got) == {a, b}
    assert same_ring(got[a]["geometry"]["points"], [list(p) for p in a_ring])
    assert same_ring(got[b]["geometry"]["points"], [list(p) for p in b_ring])


def test_hole_button(page: Any, server: Server, new_task: Any, admin_api: httpx.Client) -> None:
    task = new_task(2)
    sign_in(page, server)
    ws = Workspace(page).open(task)
    pid = draw(ws, SQUARE)
    ws.click(150, 150)
    button(page, "hole").click()
    assert button(page, "hole").get_attribute("aria-pressed") == "true"
    hole: Ring = [(200, 150), (300, 150), (300, 250), (200, 250)]
    for x, y in hole:
        ws.click(x, y)
    shot(page, "button-hole")
    ws.key("Enter")
    ws.save()
    got = polygons(admin_api, task)[pid]["geometry"]
    assert same_ring(got["points"], [list(p) for p in SQUARE])
    assert len(got["holes"]) == 1 and same_ring(got["holes"][0], [list(p) for p in hole])
    assert shp(got).area == 300 * 200 - 100 * 100

    ws.key("Control+z")
    ws.save()
    got = polygons(admin_api, task)[pid]["geometry"]
    assert got["holes"] == [] and same_ring(got["points"], [list(p) for p in SQUARE])


def test_help_lists_the_polygon_operations(page: Any, server: Server) -> None:
    sign_in(page, server)
    Workspace(page).open(1)
    page.keyboard.press("?")
    text = page.inner_text("[data-testid=help]")
    for key, words in (("O", "hole"), ("X", "Split"), ("U", "Merge")):
        row = page.locator("[data-testid=help] tr", has=page.locator(f"kbd:text-is('{key}')"))
        assert row.count() == 1 and words in row.inner_text(), (key, text)
    # the toolbar buttons name the same keys
    for name, key in (("hole", "O"), ("split", "X"), ("merge", "U")):
        assert f"({key})" in (button(page, name).get_attribute("title") or "")
