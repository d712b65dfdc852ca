"""The workspace in a real browser: drawing with each tool, undo, save, reload, and the
geometry read back from the API to the pixel."""

from __future__ import annotations

import math
from typing import Any

import httpx
import numpy as np
import pytest

from tests.browser.conftest import Server, shot
from tests.browser.workspace import Workspace, sign_in

PX = 0.5  # "to the pixel": a click lands within half an image pixel of its target


def current(admin_api: httpx.Client, task_id: int) -> dict[str, Any]:
    r = admin_api.get(f"/api/tasks/{task_id}/annotations")
    r.raise_for_status()
    out: dict[str, Any] = r.json()
    return out


def by_type(items: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [a for a in items if a["type"] == type_]


def close(actual: Any, expected: Any, tol: float = PX) -> bool:
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    return a.shape == e.shape and bool(np.all(np.abs(a - e) <= tol))


def test_sign_in_projects_tasks_and_thumbnails(page: Any, server: Server) -> None:
    sign_in(page, server)
    assert "Demo: every annotation type" in page.inner_text("[data-testid=project]")
    shot(page, "projects")
    page.click("[data-testid=project]")
    page.wait_for_selector("[data-testid=task]")
    assert page.locator("[data-testid=task]").count() >= 4
    page.wait_for_function(
        "() => [...document.querySelectorAll('.thumb img')].every(i => i.complete)"
    )
    # The list shows 256 px thumbnails (largest side), never the full images.
    thumbs = page.eval_on_selector_all(
        ".thumb img",
        "els => els.map(e => [e.getAttribute('src'), e.naturalWidth, e.naturalHeight])",
    )
    assert all("/thumbnail?max=256" in src for src, _w, _h in thumbs)
    assert [max(w, h) for _src, w, h in thumbs[:4]] == [256, 256, 256, 256]
    shot(page, "tasks")
    page.click("[data-testid=task] >> nth=0")
    Workspace(page).wait_ready()
    # The demo task: a scene tag and five drawn objects, listed in the panel.
    assert page.locator("[data-testid=object-row]").count() == 5
    assert page.is_checked("[data-testid=tag-scene]")
    assert page.input_value("#tag-scene-setting") == "studio"
    shot(page, "workspace-demo")


def test_box_polygon_polyline_keypoints_undo_save_reload(
    page: Any, server: Server, new_task: Any, admin_api: httpx.Client
) -> None:
    task = new_task(1)
    sign_in(page, server)
    ws = Workspace(page).open(task)

    ws.cls("person")
    ws.tool("box")
    ws.drag((100, 120), (220, 260))
    shot(page, "tool-box")

    ws.cls("object")
    ws.tool("polygon")
    for x, y in [(300, 50), (400, 60), (420, 150), (310, 140)]:
        ws.click(x, y)
    shot(page, "tool-polygon-drawing")
    ws.key("Enter")

    ws.tool("polyline")  # "object" has no polylines: the class follows the tool to "edge"
    for x, y in [(20, 400), (120, 380), (240, 420)]:
        ws.click(x, y)
    ws.key("Enter")

    ws.tool("keypoints")  # the first class with a skeleton: person
    ws.click(250, 100)  # head
    ws.click(252, 150)  # neck
    ws.click(220, 170, shift=True)  # left shoulder, occluded
    ws.click(290, 170)  # right shoulder
    ws.key("n")  # left hand: not labelled
    ws.click(300, 260)  # right hand: the last one finishes the object
    shot(page, "tool-keypoints")
    assert [a["type"] for a in ws.items()] == ["box", "polygon", "polyline", "keypoints"]

    # Undo and redo an extra box.
    ws.tool("box")
    ws.drag((10, 10), (40, 40))
    assert len(ws.items()) == 5
    ws.key("Control+z")
    assert len(ws.items()) == 4
    ws.key("Control+Shift+z")
    assert len(ws.items()) == 5
    ws.key("Control+z")
    assert len(ws.items()) == 4

    revision = ws.save()  # autosave may have saved revisions already: 1 or more
    assert revision >= 1
    page.reload()
    ws.wait_ready()
    assert page.locator("[data-testid=object-row]").count() == 4
    assert ws.save_state() == ("saved", revision)

    saved = current(admin_api, task)
    assert saved["number"] == revision
    items = saved["annotations"]
    (box,) = by_type(items, "box")
    assert box["label"] == "person"
    g = box["geometry"]
    assert close([g["x"], g["y"], g["w"], g["h"]], [100, 120, 120, 140])
    (poly,) = by_type(items, "polygon")
    assert poly["label"] == "object"
    assert close(poly["geometry"]["points"], [[300, 50], [400, 60], [420, 150], [310, 140]])
    assert poly["geometry"]["holes"] == []
    (line,) = by_type(items, "polyline")
    assert line["label"] == "edge"
    assert close(line["geometry"]["points"], [[20, 400], [120, 380], [240, 420]])
    (kp,) = by_type(items, "keypoints")
    pts = kp["geometry"]["points"]
    assert [p[2] for p in pts] == [2, 2, 1, 2, 0, 2]
    assert close(
        [p[:2] for p in pts],
        [[250, 100], [252, 150], [220, 170], [290, 170], [0, 0], [300, 260]],
    )


def test_rotated_box_cuboid_and_mask_brush(
    page: Any, server: Server, new_task: Any, admin_api: httpx.Client
) -> None:
    task = new_task(1)
    sign_in(page, server)
    ws = Workspace(page).open(task)

    ws.tool("rotated_box")
    ws.drag((50, 300), (150, 350))
    # Turn it a quarter clockwise with its rotation handle (above the top edge).
    ws.tool("select")
    scale = page.evaluate("() => window.__labelproof.engine.view.scale")
    handle = (100, 325 - (25 + 24 / scale))
    ws.drag(handle, (160, 325))
    shot(page, "tool-rotated-box")

    ws.tool("cuboid")
    ws.drag((300, 300), (380, 360))
    ws.click(410, 340)  # back face offset (+30, -20)
    shot(page, "tool-cuboid")

    ws.tool("mask")
    ws.click(200, 100)  # one dab of the 8 px brush
    shot(page, "tool-mask")

    revision = ws.save()
    saved = current(admin_api, task)
    assert saved["number"] == revision
    items = saved["annotations"]
    (rb,) = by_type(items, "rotated_box")
    g = rb["geometry"]
    assert rb["label"] == "object"
    assert close([g["cx"], g["cy"], g["w"], g["h"]], [100, 325, 100, 50])
    assert abs(g["angle"] - 90) <= 1.0
    (cub,) = by_type(items, "cuboid")
    assert cub["label"] == "container"
    assert close(
        cub["geometry"]["projection"],
        [
            [300, 360],
            [380, 360],
            [410, 340],
            [330, 340],
            [300, 300],
            [380, 300],
            [410, 280],
            [330, 280],
        ],
        tol=2 * PX,  # the back face is placed by the offset of two clicks
    )
    (mask,) = by_type(items, "mask")
    assert mask["label"] == "person"
    assert mask["geometry"]["rle"]["size"] == [512, 512]
    from pycocotools import mask as mask_util

    m = mask_util.decode({"size": [512, 512], "counts": mask["geometry"]["rle"]["counts"]})
    ys, xs = np.nonzero(m)
    assert abs(len(xs) - math.pi * 64) < 20  # a disc of radius 8
    assert abs(xs.mean() + 0.5 - 200) <= PX and abs(ys.mean() + 0.5 - 100) <= PX


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (33, 40), (64, 64)])
def test_rle_codec_matches_pycocotools(page: Any, server: Server, shape: tuple[int, int]) -> None:
    from pycocotools import mask as mask_util

    sign_in(page, server)
    Workspace(page).open(1)
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    h, w = shape
    cases = [
        np.zeros(shape, np.uint8),
        np.ones(shape, np.uint8),
        (rng.random(shape) < 0.5).astype(np.uint8),
        (rng.random(shape) < 0.05).astype(np.uint8),
    ]
    for m in cases:
        expected = mask_util.encode(np.asfortranarray(m))["counts"].decode("ascii")
        ours = page.evaluate(
            "([flat, h, w]) => window.__labelproof.rle.encodeMask(Uint8Array.from(flat), h, w)",
            [m.ravel().tolist(), h, w],
        )
        assert ours == {"size": [h, w], "counts": expected}
        back = page.evaluate(
            "([s, h, w]) => Array.from("
            "window.__labelproof.rle.decodeMask({size: [h, w], counts: s}))",
            [expected, h, w],
        )
        assert np.array_equal(np.asarray(back, np.uint8).reshape(shape), m)


def test_select_edit_hide_lock_restack_delete(
    page: Any, server: Server, new_task: Any, admin_api: httpx.Client
) -> None:
    task = new_task(2)  # coffee, 600 x 400
    body = {
        "base_revision": 0,
        "annotations": [
            {
                "id": "box1",
                "type": "box",
                "label": "object",
                "geometry": {"x": 50, "y": 50, "w": 200, "h": 150},
            },
            {
                "id": "poly1",
                "type": "polygon",
                "label": "object",
                "geometry": {
                    "points": [[300, 100], [450, 100], [450, 300], [300, 300]],
                    "holes": [],
                },
                "z_order": 1,
            },
        ],
    }
    r = admin_api.put(
        f"/api/tasks/{task}/annotations", json=body, headers={"Idempotency-Key": f"seed-{task}"}
    )
    assert r.status_code == 201, r.text
    sign_in(page, server)
    ws = Workspace(page).open(task)

    ws.click(375, 200)  # inside the polygon
    assert page.evaluate("() => window.__labelproof.doc.selected") == "poly1"
    ws.drag((300, 100), (280, 80))  # drag its first vertex
    shot(page, "edit-vertex")
    poly = next(a for a in ws.items() if a["id"] == "poly1")
    assert close(poly["geometry"]["points"][0], [280, 80])

    ws.drag((375, 200), (385, 210))  # move the whole polygon by (10, 10)
    poly = next(a for a in ws.items() if a["id"] == "poly1")
    assert close(poly["geometry"]["points"], [[290, 90], [460, 110], [460, 310], [310, 310]])

    ws.key("h")  # hide: it can no longer be picked on the canvas
    ws.key("Escape")
    ws.click(375, 200)
    assert page.evaluate("() => window.__labelproof.doc.selected") is None
    ws.key("Shift+h")  # show all

    ws.click(100, 100)  # the box
    assert page.evaluate("() => window.__labelproof.doc.selected") == "box1"
    ws.key("Shift+l")  # lock: the canvas ignores it (a drag pans instead of moving it)
    ws.drag((150, 120), (170, 140))
    box = next(a for a in ws.items() if a["id"] == "box1")
    assert box["geometry"] == {"x": 50, "y": 50, "w": 200, "h": 150}
    page.click("[data-testid=object-row] >> text=box")  # still selectable from the list
    ws.key("Shift+l")

    ws.key("PageUp")  # bring the box above the polygon
    z = {a["id"]: a["z_order"] for a in ws.items()}
    assert z["box1"] > z["poly1"]

    ws.key("Delete")
    assert [a["id"] for a in ws.items()] == ["poly1"]
    ws.key("Control+z")
    assert sorted(a["id"] for a in ws.items()) == ["box1", "poly1"]

    revision = ws.save()
    assert revision >= 2
    saved = {a["id"]: a for a in current(admin_api, task)["annotations"]}
    assert saved["box1"]["z_order"] > saved["poly1"]["z_order"]
    assert close(saved["poly1"]["geometry"]["points"][0], [290, 90])


def test_help_overlay(page: Any, server: Server) -> None:
    sign_in(page, server)
    Workspace(page).open(1)
    page.keyboard.press("?")
    page.wait_for_selector("[data-testid=help]")
    text = page.inner_text("[data-testid=help]")
    assert "Polygon" in text and "Undo / redo" in text
    shot(page, "help")
    page.click("[data-testid=help] >> text=Close")
    assert page.locator("[data-testid=help]").count() == 0
