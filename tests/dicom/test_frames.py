"""Multi-frame DICOM through HTTP on both databases: frames and viewer facts, the ``frame``
key of annotations (validated against the asset, round-tripped unchanged), thumbnails."""

from __future__ import annotations

import io
import uuid
from typing import Any

import numpy as np
from PIL import Image

from tests.dicom.helpers import multi_frame, sample, to_bytes, upload
from tests.world import World


def _task(world: World, asset_id: int) -> int:
    r = world.client("program_manager").post(
        f"/api/projects/{world.project_id}/tasks", json={"asset_ids": [asset_id]}
    )
    assert r.status_code == 201, r.text
    return int(r.json()[0]["id"])


def _save(world: World, task_id: int, base: int, items: list[dict[str, Any]]) -> Any:
    return world.client("annotator").put(
        f"/api/tasks/{task_id}/annotations",
        json={"base_revision": base, "annotations": items},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def _box(frame: int | None, ann_id: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": ann_id,
        "type": "box",
        "label": "car",
        "geometry": {"x": 2, "y": 3, "w": 10, "h": 12},
    }
    if frame is not None:
        item["frame"] = frame
    return item


def test_multi_frame_asset_frames_meta_annotations_and_thumbnail(world: World) -> None:
    data, pixels = multi_frame(3)
    r = upload(world, world.project_id, "mr_enhanced.dcm", data, who="program_manager")
    assert r.status_code == 201, r.text
    asset = r.json()
    assert (asset["width"], asset["height"], asset["frames"]) == (64, 64, 3)
    meta = asset["media_meta"]
    assert meta["frames"] == 3 and meta["modality"] == "MR" and meta["kind"] == "dicom"
    assert meta["samples_per_pixel"] == 1 and meta["photometric"] == "MONOCHROME2"
    listed = world.client("annotator").get(f"/api/projects/{world.project_id}/assets").json()
    assert [a["frames"] for a in listed["items"]] == [1, 3]
    assert listed["items"][0]["media_meta"] is None  # the world's PNG

    task = _task(world, asset["id"])
    bad = _save(world, task, 0, [_box(3, "b")])
    assert bad.status_code == 422, bad.text
    assert bad.json()["field"] == "annotations[0].frame"
    assert "[0, 2]" in bad.json()["message"] and "3 frames" in bad.json()["message"]
    for wrong in (-1, True, "1", 1.5):
        r = _save(world, task, 0, [_box(wrong, "b")])  # type: ignore[arg-type]
        assert r.status_code == 422 and r.json()["field"] == "annotations[0].frame"
    items = [_box(2, "on-two"), _box(0, "on-zero"), _box(None, "no-key")]
    r = _save(world, task, 0, items)
    assert r.status_code in (200, 201), r.text
    got = world.client("annotator").get(f"/api/tasks/{task}/annotations").json()
    by_id = {a["id"]: a for a in got["annotations"]}
    assert by_id["on-two"]["frame"] == 2 and by_id["on-zero"]["frame"] == 0
    assert "frame" not in by_id["no-key"]  # absent stays absent (frame 0)
    # a single-frame image accepts frame 0 only
    assert _save(world, world.task_id, 0, [_box(1, "x")]).status_code == 422
    r = _save(world, world.task_id, 0, [_box(0, "x")])
    assert r.status_code in (200, 201), r.text

    thumb = world.client("annotator").get(
        f"/api/projects/{world.project_id}/assets/{asset['id']}/thumbnail", params={"max": 32}
    )
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumb.content)) as im:
        assert im.format == "JPEG" and im.size == (32, 32)
        shown = np.asarray(im.convert("L"), dtype=float)
    # the middle frame (index 1) with the default window: brighter where its pixels are
    middle = pixels[1].astype(float)
    small = middle.reshape(32, 2, 32, 2).mean(axis=(1, 3))
    assert np.corrcoef(shown.ravel(), small.ravel())[0, 1] > 0.9


def test_dicom_has_no_tiles(world: World) -> None:
    r = upload(world, world.project_id, "ct.dcm", to_bytes(sample()), who="program_manager")
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    base = f"/api/projects/{world.project_id}/assets/{aid}"
    for url in (f"{base}/tiles", f"{base}/tiles/0/0_0.jpg"):
        got = world.client("annotator").get(url)
        assert got.status_code == 422 and "is DICOM: it has no tile pyramid" in got.text


def test_single_frame_ct_thumbnail_uses_the_window(world: World) -> None:
    ds = sample("CT_small.dcm")
    ds.WindowCenter, ds.WindowWidth = 40, 400
    r = upload(world, world.project_id, "ct.dcm", to_bytes(ds), who="program_manager")
    assert r.status_code == 201, r.text
    asset = r.json()
    assert asset["media_meta"]["window"] == {"center": 40.0, "width": 400.0}
    thumb = world.client("annotator").get(
        f"/api/projects/{world.project_id}/assets/{asset['id']}/thumbnail", params={"max": 64}
    )
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.content)) as im:
        assert im.size == (64, 64)
        shown = np.asarray(im.convert("L"), dtype=float)
    hu = ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    expected = np.clip((hu - (40 - 200)) / 400 * 255, 0, 255)
    small = expected.reshape(64, 2, 64, 2).mean(axis=(1, 3))
    assert np.abs(shown - small).mean() < 12  # JPEG and resampling, not another window
