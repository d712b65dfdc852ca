"""Deep Zoom tiles and thumbnails of assets."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.world import World, png_bytes


def _asset(world: World, w: int, h: int) -> int:
    r = world.client("program_manager").post(
        f"/api/projects/{world.project_id}/assets",
        files={"file": ("big.png", png_bytes(w, h, seed=3), "image/png")},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_pyramid_descriptor_and_tiles(world: World) -> None:
    aid = _asset(world, 1000, 700)
    c = world.client("annotator")
    base = f"/api/projects/{world.project_id}/assets/{aid}/tiles"
    info = c.get(base)
    assert info.status_code == 200
    assert info.json() == {
        "width": 1000,
        "height": 700,
        "tile_size": 256,
        "overlap": 0,
        "format": "jpg",
        "max_level": 10,
    }
    top = c.get(f"{base}/10/0_0.jpg")
    assert top.status_code == 200 and top.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(top.content)).size == (256, 256)
    corner = Image.open(io.BytesIO(c.get(f"{base}/10/3_2.jpg").content))
    assert corner.size == (1000 - 3 * 256, 700 - 2 * 256)
    assert Image.open(io.BytesIO(c.get(f"{base}/9/1_1.jpg").content)).size == (500 - 256, 350 - 256)
    assert Image.open(io.BytesIO(c.get(f"{base}/0/0_0.jpg").content)).size == (1, 1)
    assert c.get(f"{base}/10/4_0.jpg").status_code == 404
    assert c.get(f"{base}/11/0_0.jpg").status_code == 404
    assert world.client("outsider").get(f"{base}/10/0_0.jpg").status_code == 404


def test_tile_pixels_match_the_image(world: World) -> None:
    xs = np.linspace(0, 255, 600)
    ys = np.linspace(0, 255, 300)[:, None]
    pixels = np.stack(
        [
            np.broadcast_to(xs, (300, 600)),
            np.broadcast_to(ys, (300, 600)),
            np.full((300, 600), 128.0),
        ],
        axis=-1,
    ).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    data = buf.getvalue()
    r = world.client("program_manager").post(
        f"/api/projects/{world.project_id}/assets",
        files={"file": ("x.png", data, "image/png")},
    )
    aid = r.json()["id"]
    tile = world.client("annotator").get(
        f"/api/projects/{world.project_id}/assets/{aid}/tiles/10/1_0.jpg"
    )
    got = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGB"), dtype=float)
    assert np.abs(got - pixels[0:256, 256:512]).mean() < 3  # the right place, JPEG error only
    assert np.abs(got - pixels[0:256, 0:256]).mean() > 30


def test_thumbnail_fits_the_box(world: World) -> None:
    aid = _asset(world, 800, 400)
    r = world.client("auditor").get(
        f"/api/projects/{world.project_id}/assets/{aid}/thumbnail", params={"max": 128}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.content)).size == (128, 64)
    bad = world.client("auditor").get(
        f"/api/projects/{world.project_id}/assets/{aid}/thumbnail", params={"max": 5000}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "query.max"
