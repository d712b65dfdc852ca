"""Selecting many objects (Shift+click, Shift+drag lasso, Ctrl+A), moving and deleting
them together, and copy / paste with new ids and an offset; the result read back from the
API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import Server, shot
from tests.browser.workspace import Workspace, sign_in


def box(id_: str, x: float, y: float, w: float = 60, h: float = 40) -> dict[str, Any]:
    return {
        "id": id_,
        "type": "box",
        "label": "object",
        "geometry": {"x": x, "y": y, "w": w, "h": h},
    }


def selection(page: Any) -> list[str]:
    out: list[str] = page.evaluate("() => [...window.__labelproof.doc.selection].sort()")
    return out


def geoms(ws: Workspace) -> dict[str, dict[str, float]]:
    return {a["id"]: a["geometry"] for a in ws.items()}


def test_select_many_move_copy_paste_delete(
    page: Any, server: Server, new_task: Any, admin_api: httpx.Client
) -> None:
    task = new_task(2)  # coffee, 600 x 400
    seed = [box("b1", 50, 50), box("b2", 150, 50), box("b3", 250, 50), box("b4", 400, 250)]
    r = admin_api.put(
        f"/api/tasks/{task}/annotations",
        json={"base_revision": 0, "annotations": seed},
        headers={"Idempotency-Key": f"seed-{task}"},
    )
    assert r.status_code == 201, r.text
    sign_in(page, server)
    ws = Workspace(page).open(task)

    # Shift+click adds and removes.
    ws.click(80, 70)
    ws.click(180, 70, shift=True)
    assert selection(page) == ["b1", "b2"]
    ws.click(180, 70, shift=True)
    assert selection(page) == ["b1"]
    # Shift+drag on empty space: a lasso adding every object wholly inside it.
    ws.key("Escape")
    page.keyboard.down("Shift")
    page.mouse.move(*ws.xy(30, 30))
    page.mouse.down()
    page.mouse.move(*ws.xy(330, 120), steps=6)
    shot(page, "select-lasso")
    page.mouse.up()
    page.keyboard.up("Shift")
    assert selection(page) == ["b1", "b2", "b3"]
    shot(page, "select-many")

    # Drag one of them: all three move by the same offset; b4 stays.
    ws.drag((80, 70), (100, 100))
    g = geoms(ws)
    assert [(g[i]["x"], g[i]["y"]) for i in ("b1", "b2", "b3")] == [(70, 80), (170, 80), (270, 80)]
    assert (g["b4"]["x"], g["b4"]["y"]) == (400, 250)
    ws.key("Control+z")  # one undo step for the whole move
    g = geoms(ws)
    assert [(g[i]["x"], g[i]["y"]) for i in ("b1", "b2", "b3")] == [(50, 50), (150, 50), (250, 50)]

    # Copy, paste twice: new ids, offset 10 then 20 px, the pasted objects selected.
    ws.key("Control+c")
    ws.key("Control+v")
    pasted = selection(page)
    assert len(pasted) == 3 and not set(pasted) & {"b1", "b2", "b3", "b4"}
    g = geoms(ws)
    assert sorted((g[i]["x"], g[i]["y"]) for i in pasted) == [(60, 60), (160, 60), (260, 60)]
    ws.key("Control+v")
    second = selection(page)
    g = geoms(ws)
    assert sorted((g[i]["x"], g[i]["y"]) for i in second) == [(70, 70), (170, 70), (270, 70)]
    assert len(ws.items()) == 10
    shot(page, "paste")

    # Delete many: the second paste goes in one step.
    ws.key("Delete")
    assert len(ws.items()) == 7
    # Ctrl+A selects all; the panel offers one action for all of them.
    ws.key("Control+a")
    assert len(selection(page)) == 7
    assert "Delete 7" in page.inner_text("[data-testid=multi-actions]")
    ws.key("Escape")

    ws.save()
    saved = {
        a["id"]: a for a in admin_api.get(f"/api/tasks/{task}/annotations").json()["annotations"]
    }
    assert len(saved) == 7
    seed_ids = {s["id"] for s in seed}  # pasted ids are random hex: never match by prefix
    assert {k: v["geometry"] for k, v in saved.items() if k in seed_ids} == {
        s["id"]: s["geometry"] for s in seed
    }
    assert sorted((saved[i]["geometry"]["x"], saved[i]["geometry"]["y"]) for i in pasted) == [
        (60, 60),
        (160, 60),
        (260, 60),
    ]
    assert all(saved[i]["source"] == "human" for i in pasted)


def test_help_lists_selection_shortcuts(page: Any, server: Server) -> None:
    sign_in(page, server)
    Workspace(page).open(1)
    page.keyboard.press("?")
    text = page.inner_text("[data-testid=help]")
    for words in ("Shift+click", "lasso", "Ctrl+C", "Ctrl+V", "Accept", "hole", "Split", "Merge"):
        assert words in text, words
    shot(page, "help")
