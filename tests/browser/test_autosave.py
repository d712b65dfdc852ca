"""Autosave in a real browser: conflicts (409) with both versions side by side, failed
saves that keep the work and retry, and the localStorage draft restored on reload."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import Server, shot
from tests.browser.workspace import Workspace, sign_in


def current(admin_api: httpx.Client, task_id: int) -> dict[str, Any]:
    r = admin_api.get(f"/api/tasks/{task_id}/annotations")
    r.raise_for_status()
    out: dict[str, Any] = r.json()
    return out


def boxes(items: list[dict[str, Any]]) -> list[tuple[float, float, float, float]]:
    return sorted(
        (a["geometry"]["x"], a["geometry"]["y"], a["geometry"]["w"], a["geometry"]["h"])
        for a in items
        if a["type"] == "box"
    )


def draw_box(ws: Workspace, a: tuple[int, int], b: tuple[int, int]) -> None:
    ws.tool("box")
    ws.drag(a, b)


@pytest.mark.parametrize("choice", ["both", "mine", "theirs"])
def test_conflict_view_keeps_both_versions(
    page: Any, server: Server, new_task: Any, admin_api: httpx.Client, choice: str
) -> None:
    task = new_task(3)  # chelsea, 451 x 300
    sign_in(page, server)
    ws = Workspace(page).open(task)
    ws.cls("animal")
    draw_box(ws, (20, 20), (120, 100))  # A
    assert ws.save() == 1
    mine_a = boxes(current(admin_api, task)["annotations"])
    assert len(mine_a) == 1

    # Someone else saves revision 2 behind the page's back: only box B.
    r = admin_api.put(
        f"/api/tasks/{task}/annotations",
        json={
            "base_revision": 1,
            "annotations": [
                {
                    "type": "box",
                    "label": "animal",
                    "geometry": {"x": 200, "y": 150, "w": 80, "h": 60},
                }
            ],
        },
        headers={"Idempotency-Key": f"theirs-{task}-{choice}"},
    )
    assert r.status_code == 201, r.text

    draw_box(ws, (300, 30), (400, 120))  # C, on top of the stale revision 1
    page.keyboard.press("Control+s")
    page.wait_for_selector("[data-testid=conflict]")
    assert ws.save_state()[0] == "conflict"
    mine_text = page.inner_text("[data-testid=conflict-mine]")
    theirs_text = page.inner_text("[data-testid=conflict-theirs]")
    assert "2 objects" in mine_text
    assert "revision 2" in theirs_text and "1 object" in theirs_text
    if choice == "both":
        shot(page, "conflict")

    page.click(f"[data-testid=keep-{choice}]")
    page.wait_for_selector("[data-testid=conflict]", state="detached")
    expected_revision = 2 if choice == "theirs" else 3
    page.wait_for_function(
        "r => document.querySelector('[data-testid=save-status]').dataset.state === 'saved' && "
        "document.querySelector('[data-testid=save-status]').dataset.revision === String(r)",
        arg=expected_revision,
    )
    saved = current(admin_api, task)
    assert saved["number"] == expected_revision
    theirs_b = (200.0, 150.0, 80.0, 60.0)
    got = boxes(saved["annotations"])
    if choice == "theirs":
        assert got == [theirs_b]
        # Mine is not lost: it is in the undo history and stashed in localStorage.
        stash = page.evaluate(f"() => localStorage.getItem('labelproof:discarded:{task}')")
        assert stash is not None and '"animal"' in stash
        ws.key("Control+z")
        assert len(ws.items()) == 2
    elif choice == "mine":
        assert len(got) == 2 and theirs_b not in got
    else:
        assert len(got) == 3 and theirs_b in got


def test_failed_saves_keep_work_retry_and_survive_reload(
    page: Any, server: Server, new_task: Any, admin_api: httpx.Client
) -> None:
    task = new_task(4)  # rocket, 640 x 427
    attempts: list[str] = []

    def offline(route: Any) -> None:
        if route.request.method == "PUT":
            attempts.append(route.request.headers.get("idempotency-key", ""))
            route.abort("internetdisconnected")
        else:
            route.continue_()

    sign_in(page, server)
    page.route("**/api/tasks/*/annotations", offline)
    ws = Workspace(page).open(task)
    ws.cls("object")
    draw_box(ws, (100, 100), (300, 250))
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=save-status]').dataset.state === 'retrying'"
    )
    assert "your work is kept" in page.inner_text("[data-testid=save-status]")
    shot(page, "save-retrying")
    draft = page.evaluate(f"() => localStorage.getItem('labelproof:draft:{task}')")
    assert draft is not None and '"object"' in draft
    page.wait_for_timeout(1300)  # the first automatic retry, with the same idempotency key
    assert len(attempts) >= 2 and len(set(attempts)) == 1

    # Reload while still offline: the draft comes back.
    page.reload()
    ws.wait_ready()
    assert [a["type"] for a in ws.items()] == ["box"]
    assert page.locator("[data-testid=object-row]").count() == 1

    # The server answers 503 once, then saves: the retry goes through on its own.
    page.unroute("**/api/tasks/*/annotations")
    failures = {"left": 1}

    def flaky(route: Any) -> None:
        if route.request.method == "PUT" and failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=503, json={"code": "unavailable", "message": "try later"})
        else:
            route.continue_()

    page.route("**/api/tasks/*/annotations", flaky)
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=save-status]').dataset.state === 'saved'",
        timeout=10_000,
    )
    assert failures["left"] == 0
    saved = current(admin_api, task)
    assert saved["number"] == 1
    (got,) = boxes(saved["annotations"])
    assert all(abs(u - v) <= 0.5 for u, v in zip(got, (100, 100, 200, 150), strict=True))
    assert page.evaluate(f"() => localStorage.getItem('labelproof:draft:{task}')") is None


def test_stale_draft_opens_the_conflict_view(
    page: Any, server: Server, new_task: Any, admin_api: httpx.Client
) -> None:
    """A draft based on an older revision than the server's is never applied silently."""
    task = new_task(2)
    sign_in(page, server)
    page.route(
        "**/api/tasks/*/annotations",
        lambda route: route.abort() if route.request.method == "PUT" else route.continue_(),
    )
    ws = Workspace(page).open(task)
    ws.cls("object")
    draw_box(ws, (10, 10), (60, 60))
    page.evaluate("() => window.__labelproof.saver.writeDraft()")
    page.unroute("**/api/tasks/*/annotations")
    r = admin_api.put(
        f"/api/tasks/{task}/annotations",
        json={"base_revision": 0, "annotations": []},
        headers={"Idempotency-Key": f"empty-{task}"},
    )
    assert r.status_code == 201
    page.reload()
    page.wait_for_selector("[data-testid=conflict]")
    assert "1 object" in page.inner_text("[data-testid=conflict-mine]")
    page.click("[data-testid=keep-mine]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=save-status]').dataset.revision === '2'"
    )
    assert len(current(admin_api, task)["annotations"]) == 1


def test_rejected_save_names_and_selects_the_object(
    page: Any, server: Server, new_task: Any, admin_api: httpx.Client
) -> None:
    task = new_task(2)  # coffee, 600 x 400
    square = [[300, 100], [450, 100], [450, 300], [300, 300]]
    r = admin_api.put(
        f"/api/tasks/{task}/annotations",
        json={
            "base_revision": 0,
            "annotations": [
                {
                    "id": "box1",
                    "type": "box",
                    "label": "object",
                    "geometry": {"x": 10, "y": 10, "w": 50, "h": 50},
                },
                {
                    "id": "sq",
                    "type": "polygon",
                    "label": "object",
                    "geometry": {"points": square, "holes": []},
                },
            ],
        },
        headers={"Idempotency-Key": f"seed-{task}"},
    )
    assert r.status_code == 201, r.text
    sign_in(page, server)
    ws = Workspace(page).open(task)
    ws.click(375, 200)
    ws.drag((300, 100), (500, 200))  # the ring now crosses itself
    ws.key("Escape")  # deselect, so that the error has to select it again
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=save-status]').dataset.state === 'error'"
    )
    assert "annotations[1]" in page.inner_text("[data-testid=save-status]")
    assert page.evaluate("() => window.__labelproof.doc.selected") == "sq"
    ws.key("Control+z")  # undo the bad edit: the next save goes through
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=save-status]').dataset.state === 'saved'"
    )
    assert current(admin_api, task)["annotations"][1]["geometry"]["points"] == square
