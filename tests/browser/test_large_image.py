"""An image larger than 4096 px on a side opens through the Deep Zoom tile layer (never
the full image), and a box drawn on it is read back from the API to the pixel in
full-resolution coordinates."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import Server, shot
from tests.browser.qa_setup import grid_png, make_project, ok
from tests.browser.workspace import Workspace, sign_in

W, H = 6000, 5000


def test_large_image_tiles_and_box_to_the_pixel(
    page: Any, server: Server, admin_api: httpx.Client
) -> None:
    qp = make_project(admin_api, image=grid_png(W, H))
    task = ok(admin_api.post(f"/api/projects/{qp.id}/tasks", json={"asset_ids": [qp.asset_id]}))
    task_id = int(task[0]["id"])
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    sign_in(page, server)
    ws = Workspace(page).open(task_id, project_id=qp.id)
    layer = page.evaluate(
        "() => { const i = window.__labelproof.engine.image;"
        " return {w: i.width, h: i.height, maxLevel: i.maxLevel, tile: i.spec && i.spec.tile}; }"
    )
    assert layer == {"w": W, "h": H, "maxLevel": 13, "tile": 256}
    content = f"/assets/{qp.asset_id}/content"
    assert not any(content in u for u in requests), "the full image must not be downloaded"
    page.wait_for_function(
        "() => { const e = window.__labelproof.engine; return e.image.complete(e.view); }"
    )
    at_fit = {u.split("/tiles/")[1] for u in requests if "/tiles/" in u and u.endswith(".jpg")}
    assert at_fit and all(int(t.split("/")[0]) < 13 for t in at_fit)  # coarse levels only

    # Zoom in with the wheel around the target until one image pixel is >= 1 screen pixel.
    cx, cy = ws.xy(4300, 3350)
    page.mouse.move(cx, cy)
    for _ in range(40):
        if page.evaluate("() => window.__labelproof.engine.view.scale") >= 1.5:
            break
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(40)
    assert page.evaluate("() => window.__labelproof.engine.view.scale") >= 1.5
    page.wait_for_function(
        "() => { const e = window.__labelproof.engine; return e.image.complete(e.view); }"
    )
    full_res = [u for u in requests if "/tiles/13/" in u]
    assert full_res, "zoomed in, the full-resolution level is loaded"
    shot(page, "large-image-zoomed")
    # Tiles land in full-resolution pixel coordinates: the grid line 4300-4303 is light,
    # 4350 between lines is dark (read from the image canvas under those image points).
    lum = page.evaluate(
        """([pts]) => { const e = window.__labelproof.engine;
        const c = e.canvases.image, r = c.getBoundingClientRect(), ctx = c.getContext('2d');
        const k = c.width / r.width;
        return pts.map(([x, y]) => { const [cx, cy] = e.imageToClient(x, y);
          const d = ctx.getImageData(Math.floor((cx - r.left) * k), Math.floor((cy - r.top) * k),
            1, 1).data; return (d[0] + d[1] + d[2]) / 3; }); }""",
        [[[4302, 3350], [4350, 3350], [4250, 3302], [4250, 3330]]],
    )
    assert lum[0] > 150 and lum[2] > 150, lum
    assert lum[1] < 90 and lum[3] < 90, lum

    ws.cls("person")
    ws.tool("box")
    ws.drag((4210, 3270), (4390, 3430))
    assert ws.save() == 1
    r = admin_api.get(f"/api/tasks/{task_id}/annotations")
    items = ok(r)["annotations"]
    assert len(items) == 1 and items[0]["type"] == "box"
    g = items[0]["geometry"]
    for key, want in (("x", 4210), ("y", 3270), ("w", 180), ("h", 160)):
        assert abs(g[key] - want) <= 0.5, (key, g)
