"""Whole-slide images through the API (SQLite and PostgreSQL): an Aperio-style SVS and a
generic pyramidal tiled TIFF, made at test time, are uploaded, recognised by OpenSlide and
served through the Deep Zoom tile API in full-resolution (level-0) pixel coordinates; hostile
slide files (a damaged tile included: the pyramid is cut before the store) are refused with
a message naming the file and nothing stored."""

from __future__ import annotations

import io
import itertools
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from labelproof.store.models import Asset
from tests.slides.make import (
    APP_MAG,
    MPP,
    colour,
    corrupt_tile,
    pattern,
    write_generic_tiff,
    write_plain_tiff,
    write_svs,
    write_svs_jpeg,
    write_tiff_claiming,
)
from tests.world import World

SVS_SIZE = (5000, 4300)
TIFF_SIZE = (4700, 4200)


@pytest.fixture(scope="session")
def slide_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("slides")
    write_svs(folder / "case.svs", *SVS_SIZE)
    write_svs_jpeg(folder / "jpeg.svs", *SVS_SIZE)
    write_generic_tiff(folder / "scan.tif", *TIFF_SIZE)
    return folder


def _upload(world: World, name: str, data: bytes) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = world.client("program_manager").post(
        f"/api/projects/{world.project_id}/assets",
        files={"file": (name, data, "application/octet-stream")},
    )
    return r.status_code, r.json()


def _meta(world: World, asset_id: int) -> tuple[dict, str]:  # type: ignore[type-arg]
    with world.rt.read() as db:
        asset = db.get(Asset, asset_id)
        assert asset is not None
        return dict(asset.media_meta or {}), asset.media_type


def _tile(world: World, aid: int, level: int, col: int, row: int) -> np.ndarray:
    r = world.client("annotator").get(
        f"/api/projects/{world.project_id}/assets/{aid}/tiles/{level}/{col}_{row}.jpg"
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", r.text
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), dtype=float)


def _check_served(world: World, aid: int, width: int, height: int) -> None:
    c = world.client("annotator")
    base = f"/api/projects/{world.project_id}/assets/{aid}/tiles"
    top = math.ceil(math.log2(max(width, height)))
    assert c.get(base).json() == {
        "width": width,
        "height": height,
        "tile_size": 256,
        "overlap": 0,
        "format": "jpg",
        "max_level": top,
    }
    # Full resolution: the tile holding level-0 pixel (x, y) shows its block's colour there.
    for x, y in [(32, 32), (2592, 1824), (width - 40, height - 40), (4000, 96)]:
        x, y = x // 64 * 64 + 32, y // 64 * 64 + 32  # a block's centre
        tile = _tile(world, aid, top, x // 256, y // 256)
        got = tile[y % 256, x % 256]
        assert np.abs(got - np.array(colour(x, y))).max() <= 8, (x, y, got, colour(x, y))
        # one level down, the same place is at half the coordinates
        half = _tile(world, aid, top - 1, x // 512, y // 512)
        got = half[(y // 2) % 256, (x // 2) % 256]
        assert np.abs(got - np.array(colour(x, y))).max() <= 10, (x, y, got)
    # A whole tile matches the pattern at its place (and not a neighbour's place).
    tile = _tile(world, aid, top, 7, 5)
    place = pattern(width, height)[5 * 256 : 6 * 256, 7 * 256 : 8 * 256]
    assert np.abs(tile - place).mean() < 3
    assert np.abs(tile - pattern(width, height)[5 * 256 : 6 * 256, 8 * 256 : 9 * 256]).mean() > 20
    # edge tiles are cut to the image
    cols, rows = math.ceil(width / 256), math.ceil(height / 256)
    edge = _tile(world, aid, top, cols - 1, rows - 1)
    assert edge.shape == (height - (rows - 1) * 256, width - (cols - 1) * 256, 3)
    assert c.get(f"{base}/{top}/{cols}_0.jpg").status_code == 404
    assert _tile(world, aid, 0, 0, 0).shape == (1, 1, 3)
    thumb = c.get(f"/api/projects/{world.project_id}/assets/{aid}/thumbnail", params={"max": 256})
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(thumb.content))
    assert image.format == "JPEG" and max(image.size) == 256
    # the thumbnail shows the slide: it matches the pattern shrunk to its size
    # (compared in 8 px cells: blocks are 3 px here, and resampling filters differ)
    cells = (image.size[0] // 8, image.size[1] // 8)
    got = image.convert("RGB").resize(cells, Image.Resampling.BOX)
    want = Image.fromarray(pattern(width, height, 4)).resize(cells, Image.Resampling.BOX)
    assert np.abs(np.asarray(got, dtype=float) - np.asarray(want, dtype=float)).mean() < 6
    flipped = np.asarray(want, dtype=float)[::-1, ::-1]
    assert np.abs(np.asarray(got, dtype=float) - flipped).mean() > 15


def test_svs_upload_is_a_slide_served_in_level0_pixels(world: World, slide_dir: Path) -> None:
    data = (slide_dir / "case.svs").read_bytes()
    status, body = _upload(world, "case.svs", data)
    assert status == 201, body
    width, height = SVS_SIZE
    assert (body["width"], body["height"]) == (width, height)
    assert body["media_type"] == "image/tiff" and body["filename"] == "case.svs"
    meta, media_type = _meta(world, body["id"])
    assert media_type == "image/tiff"
    assert meta == {
        "kind": "slide",
        "vendor": "aperio",
        "levels": [[width, height], [width // 4, height // 4]],
        "mpp": [MPP, MPP],
        "objective_power": float(APP_MAG),
    }
    _check_served(world, body["id"], width, height)
    # the stored blob is the upload, byte for byte (the slide is not re-encoded)
    content = world.client("annotator").get(
        f"/api/projects/{world.project_id}/assets/{body['id']}/content"
    )
    assert content.status_code == 200 and content.content == data


def test_jpeg_svs_upload_is_a_slide(world: World, slide_dir: Path) -> None:
    status, body = _upload(world, "jpeg.svs", (slide_dir / "jpeg.svs").read_bytes())
    assert status == 201, body
    width, height = SVS_SIZE
    meta, _ = _meta(world, body["id"])
    assert meta["vendor"] == "aperio" and meta["mpp"] == [MPP, MPP]
    assert meta["objective_power"] == float(APP_MAG)
    levels = meta["levels"]
    assert levels[0] == [width, height] and len(levels) >= 4
    for (w0, h0), (w1, h1) in itertools.pairwise(levels):
        assert w1 == w0 // 2 and h1 == h0 // 2
    _check_served(world, body["id"], width, height)


def test_slide_under_a_strip_metadata_policy_is_stored_as_uploaded(
    world: World, slide_dir: Path
) -> None:
    url = f"/api/projects/{world.project_id}/deid-policy"
    r = world.client("program_manager").put(url, json={"photos": "strip_metadata"})
    assert r.status_code == 200, r.text
    data = (slide_dir / "case.svs").read_bytes()
    status, body = _upload(world, "case.svs", data)
    assert status == 201, body
    assert body["media_meta"]["kind"] == "slide"  # the API shows the slide facts too
    assert body["deid"]["removed"] == [] and body["deid"]["regions"] == []
    assert body["deid"]["warnings"] == ["format WSI is stored as uploaded (not re-encoded)"]
    content = world.client("annotator").get(
        f"/api/projects/{world.project_id}/assets/{body['id']}/content"
    )
    assert content.content == data


def test_generic_tiled_tiff_upload_is_a_slide(world: World, slide_dir: Path) -> None:
    status, body = _upload(world, "scan.tif", (slide_dir / "scan.tif").read_bytes())
    assert status == 201, body
    width, height = TIFF_SIZE
    assert (body["width"], body["height"]) == (width, height)
    meta, _ = _meta(world, body["id"])
    assert meta["kind"] == "slide" and meta["vendor"] == "generic-tiff"
    assert meta["levels"] == [
        [width, height],
        [width // 2, height // 2],
        [-(-width // 4), height // 4],
        [-(-width // 8), -(-height // 8)],
    ]
    assert meta["mpp"] == [pytest.approx(MPP), pytest.approx(MPP)]
    assert meta["objective_power"] is None
    _check_served(world, body["id"], width, height)


def test_plain_tiff_is_still_an_ordinary_image(world: World, tmp_path: Path) -> None:
    status, body = _upload(world, "plain.tif", write_plain_tiff(tmp_path / "p.tif").read_bytes())
    assert status == 201, body
    assert (body["width"], body["height"]) == (300, 200)
    meta, _ = _meta(world, body["id"])
    assert meta == {}


def _state(world: World) -> tuple[int, int, int, int]:
    with world.rt.sessions() as db:
        rows = db.scalar(select(func.count()).select_from(Asset)) or 0
    sealed = len(world.rt.blobs.sealed_digests(world.project_id))
    tmp = len(list((world.rt.settings.blob_dir / "tmp").iterdir()))
    tiles_dir = world.rt.settings.data_dir / "tiles"
    tiles = len(list(tiles_dir.rglob("*"))) if tiles_dir.exists() else 0
    return rows, sealed, tmp, tiles


def _truncated(slide_dir: Path) -> bytes:
    data = (slide_dir / "case.svs").read_bytes()
    return data[: len(data) * 6 // 10]


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "status", "fragment"),
    [
        (
            "huge.svs",
            lambda d, t: write_tiff_claiming(t / "h.tif", 300_000, 300_000).read_bytes(),
            413,
            "huge.svs: 300000x300000 = 90000000000 pixels is over the whole-slide pixel limit",
        ),
        (
            "wide.tif",
            lambda d, t: write_tiff_claiming(t / "w.tif", 2_000_000, 16).read_bytes(),
            400,
            "wide.tif: absurd dimensions 2000000x16",
        ),
        ("cut.svs", lambda d, t: _truncated(d), 400, "cut.svs: a damaged or truncated TIFF"),
        (
            "notes.svs",
            lambda d, t: write_plain_tiff(t / "n.tif").read_bytes(),
            400,
            "notes.svs: not a whole-slide image OpenSlide can read",
        ),
        (
            "bad.svs",
            lambda d, t: corrupt_tile(d / "case.svs", t / "bad.svs").read_bytes(),
            400,
            "bad.svs: cutting the slide's tiles failed (OpenSlideError",
        ),
        ("photo.svs", lambda d, t: _png(), 400, "photo.svs: the extension says .svs"),
        ("junk.svs", lambda d, t: b"\x00" * 4096, 400, "junk.svs: not a supported image"),
    ],
)
def test_hostile_slides_are_refused_and_nothing_stored(
    world: World,
    slide_dir: Path,
    tmp_path: Path,
    name: str,
    make: Callable[[Path, Path], bytes],
    status: int,
    fragment: str,
) -> None:
    before = _state(world)
    code, body = _upload(world, name, make(slide_dir, tmp_path))
    assert code == status, body
    assert fragment in body["message"], body["message"]
    assert body["field"] == "file"
    assert _state(world) == before


def test_slide_pixel_limit_is_a_setting(world: World, slide_dir: Path) -> None:
    app: Any = world.app_client.app
    rt = app.state.runtime
    app.state.runtime = type(rt)(
        settings=rt.settings.with_changes(max_slide_pixels=1000 * 1000),
        engine=rt.engine,
        sessions=rt.sessions,
        blobs=rt.blobs,
    )
    try:
        code, body = _upload(world, "case.svs", (slide_dir / "case.svs").read_bytes())
    finally:
        app.state.runtime = rt
    assert code == 413 and "over the whole-slide pixel limit of 1000000" in body["message"]


def test_pyramid_is_rebuilt_from_the_sealed_slide(world: World, slide_dir: Path) -> None:
    status, body = _upload(world, "case.svs", (slide_dir / "case.svs").read_bytes())
    assert status == 201
    folder = world.rt.settings.data_dir / "tiles" / str(world.project_id) / body["sha256"]
    assert folder.is_dir()
    shutil.rmtree(folder)
    _check_served(world, body["id"], *SVS_SIZE)
    # no plaintext copy of the slide nor pre-cut tiles are left beside the pyramid
    leftovers = list((world.rt.settings.data_dir / "tiles").glob(".*"))
    assert leftovers == []
