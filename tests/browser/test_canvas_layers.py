"""The workspace's canvas layers on a HiDPI screen (device scale factor 3): canvas pixels
are device pixels, the shapes canvas (a CSS-transformed cache) is capped in size, and what
it shows lands on the object's image pixels before and after a pan; an empty overlay is
not composited; a vertex drag traces no object into the shapes layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Server, shot
from tests.browser.test_polygon_edit import poly, seed
from tests.browser.workspace import Workspace, sign_in


@pytest.fixture
def hidpi_page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 850}, device_scale_factor=3, base_url=server.url
    )
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def layer_alpha(page: Any, ws: Workspace, layer: str, x: float, y: float) -> int:
    """Alpha of the layer's canvas pixel under the image point (x, y), read through the
    canvas's on-screen rectangle (so its CSS transform and the device scale count)."""
    cx, cy = ws.xy(x, y)
    out: int = page.evaluate(
        """([layer, cx, cy]) => {
            const c = document.querySelector(`canvas[data-layer=${layer}]`);
            const r = c.getBoundingClientRect();
            const kx = c.width / r.width, ky = c.height / r.height;
            const px = Math.floor((cx - r.left) * kx), py = Math.floor((cy - r.top) * ky);
            return c.getContext('2d').getImageData(px, py, 1, 1).data[3];
        }""",
        [layer, cx, cy],
    )
    return out


def overlay_opacity(page: Any) -> str:
    out: str = page.evaluate(
        "() => getComputedStyle(window.__labelproof.engine.canvases.overlay).opacity"
    )
    return out


def test_layers_at_device_scale_3(
    hidpi_page: Any, server: Server, new_task: Any, admin_api: httpx.Client
) -> None:
    page = hidpi_page
    task = new_task(2)  # coffee, 600 x 400
    square = [[100, 100], [300, 100], [300, 300], [100, 300]]
    seed(admin_api, task, [poly("sq", square), poly("far", [[450, 50], [550, 50], [500, 150]])])
    sign_in(page, server)
    ws = Workspace(page).open(task)
    page.wait_for_function(  # the first frames (the shapes layer traced at its size)
        "() => { const c = window.__labelproof.engine.canvases; "
        "return c.shapes.width > c.image.width; }"
    )
    sizes = page.evaluate(
        """() => { const e = window.__labelproof.engine, v = e.view;
        return { dpr: window.devicePixelRatio, w: v.width, h: v.height,
          image: [e.canvases.image.width, e.canvases.image.height],
          shapes: [e.canvases.shapes.width, e.canvases.shapes.height] }; }"""
    )
    assert sizes["dpr"] == 3
    assert sizes["image"] == [round(sizes["w"] * 3), round(sizes["h"] * 3)]
    # twice the viewport would be ~37 million device pixels: capped near 24 million
    sw, sh = sizes["shapes"]
    assert sw * sh <= 24.5e6 and sw > sizes["image"][0] and sh > sizes["image"][1]

    assert layer_alpha(page, ws, "shapes", 200, 200) > 0  # the fill of sq
    assert layer_alpha(page, ws, "shapes", 200, 350) == 0  # below it: nothing
    # nothing selected: the overlay is not composited
    assert (
        page.evaluate("() => getComputedStyle(window.__labelproof.engine.canvases.overlay).opacity")
        == "0"
    )

    # Pan with the arrow keys: the shapes layer moves with the image (a transform), and
    # still shows sq's fill under sq's image pixels.
    traced = page.evaluate("() => window.__labelproof.engine.frameStats.length")
    ws.key("ArrowLeft")
    ws.key("ArrowUp")
    page.wait_for_timeout(100)
    stats = page.evaluate(f"() => window.__labelproof.engine.frameStats.slice({traced})")
    assert stats and all(s["shapes"] == 0 for s in stats), stats  # moved, not traced
    assert layer_alpha(page, ws, "shapes", 200, 200) > 0
    assert layer_alpha(page, ws, "shapes", 200, 350) == 0
    assert layer_alpha(page, ws, "shapes", 500, 100) > 0  # the triangle "far"

    # Select sq (it moves to the overlay) and drag a vertex: no frame traces the others.
    ws.click(200, 200)
    assert (
        page.evaluate("() => getComputedStyle(window.__labelproof.engine.canvases.overlay).opacity")
        == "1"
    )
    start = page.evaluate("() => window.__labelproof.engine.frameCount")
    ws.drag((300, 300), (330, 320))
    page.wait_for_timeout(100)
    stats = page.evaluate(
        f"() => {{ const e = window.__labelproof.engine; "
        f"return e.frameStats.slice(e.frameStats.length - (e.frameCount - {start})); }}"
    )
    assert stats and max(s["shapes"] for s in stats) == 0 and max(s["overlay"] for s in stats) == 1
    sq = next(a for a in ws.items() if a["id"] == "sq")
    assert sq["geometry"]["points"][2] == [330, 320]
    shot(page, "hidpi-layers")
