"""A whole-slide image (an Aperio-style SVS made at test time) opens in the workspace through
the Deep Zoom tile layer with no web change: zoom, pan, the tiles show the slide's pattern
at the right full-resolution place, and a box drawn on it is read back from the API in
level-0 pixel coordinates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import Server, shot
from tests.browser.qa_setup import ok
from tests.browser.workspace import Workspace, sign_in
from tests.slides.make import colour, write_plain_tiff, write_svs

W, H = 6000, 5000
TOP = 13  # ceil(log2(6000))


def _canvas_rgb(page: Any, points: list[tuple[int, int]]) -> list[list[int]]:
    """RGB of the image canvas under each image point (full-resolution px)."""
    out: list[list[int]] = page.evaluate(
        """([pts]) => { const e = window.__labelproof.engine;
        const c = e.canvases.image, r = c.getBoundingClientRect(), ctx = c.getContext('2d');
        const k = c.width / r.width;
        return pts.map(([x, y]) => { const [cx, cy] = e.imageToClient(x, y);
          const d = ctx.getImageData(Math.floor((cx - r.left) * k), Math.floor((cy - r.top) * k),
            1, 1).data; return [d[0], d[1], d[2]]; }); }""",
        [points],
    )
    return out


def _tiles_complete(page: Any) -> None:
    page.wait_for_function(
        "() => { const e = window.__labelproof.engine; return e.image.complete(e.view); }"
    )


def test_slide_opens_through_tiles_and_a_box_saves_in_level0_pixels(
    page: Any, server: Server, admin_api: httpx.Client, new_task: Any, tmp_path: Path
) -> None:
    slide = write_svs(tmp_path / "biopsy.svs", W, H).read_bytes()
    asset = ok(
        admin_api.post(
            "/api/projects/1/assets",
            files={"file": ("biopsy.svs", slide, "application/octet-stream")},
        )
    )
    assert (asset["width"], asset["height"]) == (W, H)
    assert asset["media_meta"]["kind"] == "slide" and asset["media_meta"]["vendor"] == "aperio"
    task_id = new_task(int(asset["id"]))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    sign_in(page, server)
    ws = Workspace(page).open(task_id)
    layer = page.evaluate(
        "() => { const i = window.__labelproof.engine.image;"
        " return {w: i.width, h: i.height, maxLevel: i.maxLevel, tile: i.spec && i.spec.tile}; }"
    )
    assert layer == {"w": W, "h": H, "maxLevel": TOP, "tile": 256}
    assert not any(f"/assets/{asset['id']}/content" in u for u in requests)
    _tiles_complete(page)
    shot(page, "slide-fit")

    # Zoom in with the wheel around a block until an image pixel is >= 1.5 screen pixels.
    target = (2592 + 32, 1792 + 32)  # a 64 px block's centre
    page.mouse.move(*ws.xy(*target))
    for _ in range(40):
        if page.evaluate("() => window.__labelproof.engine.view.scale") >= 1.5:
            break
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(40)
    _tiles_complete(page)
    assert any(f"/tiles/{TOP}/" in u for u in requests), "zoomed in, level 0 is loaded"

    # Pan with the middle button: the image moves with the pointer.
    before = ws.xy(*target)
    page.mouse.move(700, 400)
    page.mouse.down(button="middle")
    page.mouse.move(500, 300, steps=5)
    page.mouse.up(button="middle")
    after = ws.xy(*target)
    assert abs((after[0] - before[0]) + 200) < 2 and abs((after[1] - before[1]) + 100) < 2
    _tiles_complete(page)

    # The canvas shows each block's colour at its full-resolution place.
    points = [(x + 32, y + 32) for x in (2496, 2560, 2624, 2688) for y in (1728, 1792, 1856)]
    got = _canvas_rgb(page, points)
    for (x, y), rgb in zip(points, got, strict=True):
        assert max(abs(a - b) for a, b in zip(rgb, colour(x, y), strict=True)) <= 12, (
            (x, y),
            rgb,
            colour(x, y),
        )

    ws.cls("person")
    ws.tool("box")
    ws.drag((2560, 1760), (2720, 1900))
    shot(page, "slide-zoomed-box")
    assert ws.save() == 1
    items = ok(admin_api.get(f"/api/tasks/{task_id}/annotations"))["annotations"]
    assert len(items) == 1 and items[0]["type"] == "box"
    g = items[0]["geometry"]
    for key, want in (("x", 2560), ("y", 1760), ("w", 160), ("h", 140)):
        assert abs(g[key] - want) <= 0.5, (key, g)


def test_small_slides_and_plain_tiffs_open_from_tiles(
    page: Any, server: Server, admin_api: httpx.Client, new_task: Any, tmp_path: Path
) -> None:
    """A slide at most 4096 px on a side, and a plain TIFF (no browser decodes TIFF), are
    shown from the tile pyramid, never fetched whole as /content."""
    files = {
        "small.svs": write_svs(tmp_path / "small.svs", 1500, 1100).read_bytes(),
        "plain.tif": write_plain_tiff(tmp_path / "plain.tif", 640, 480).read_bytes(),
    }
    sign_in(page, server)
    for name, data in files.items():
        asset = ok(
            admin_api.post(
                "/api/projects/1/assets",
                files={"file": (name, data, "application/octet-stream")},
            )
        )
        assert asset["media_type"] == "image/tiff", asset
        task_id = new_task(int(asset["id"]))
        requests: list[str] = []
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        Workspace(page).open(task_id)
        # the same document: wait for this asset's engine (the last one may still be there)
        page.wait_for_function(
            """([w, h]) => { const l = window.__labelproof, e = l && l.engine;
            return !!e && e.image.width === w && e.image.height === h
              && 'maxLevel' in e.image && e.image.complete(e.view); }""",
            arg=[asset["width"], asset["height"]],
        )
        shot(page, f"tiff-{name}")
        assert page.evaluate("() => 'maxLevel' in window.__labelproof.engine.image"), name
        assert not any(f"/assets/{asset['id']}/content" in u for u in requests), name
        w, h = asset["width"], asset["height"]
        # block centres, away from the edges where JPEG tiles blur neighbouring colours
        points = [(f * w // 4 // 64 * 64 + 32, f * h // 4 // 64 * 64 + 32) for f in (1, 2, 3)]
        for (x, y), rgb in zip(points, _canvas_rgb(page, points), strict=True):
            want = colour(x, y)
            assert max(abs(a - b) for a, b in zip(rgb, want, strict=True)) <= 12, (name, rgb, want)
