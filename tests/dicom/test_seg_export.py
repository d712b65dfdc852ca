"""DICOM SEG export of a project (API and CLI): one SEG per source series / multi-frame
instance, referencing the de-identified source instances, frames mapped by the ``frame``
key of the annotations, masks pixel-exact when read back with highdicom."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
from pydicom.uid import generate_uid

from labelproof.formats._cvat_rle import decode_coco, encode_coco
from labelproof.services.transfer import FRAMES_FLATTENED
from tests.custody_server.helpers import cli
from tests.dicom.helpers import content, ct_instance, multi_frame, phi_project, upload
from tests.world import World


def _task(world: World, pid: int, asset_id: int) -> int:
    r = world.client("orgadmin").post(f"/api/projects/{pid}/tasks", json={"asset_ids": [asset_id]})
    assert r.status_code == 201, r.text
    return int(r.json()[0]["id"])


def _save(world: World, task: int, items: list[dict[str, Any]]) -> None:
    r = world.client("orgadmin").put(
        f"/api/tasks/{task}/annotations",
        json={"base_revision": 0, "annotations": items},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text


def _mask(bits: np.ndarray[Any, Any], frame: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "mask", "label": "car", "geometry": {"rle": encode_coco(bits)}}
    if frame is not None:
        item["frame"] = frame
    return item


def _seg_files(data: bytes, folder: Path) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(folder)
    out = {}
    for p in sorted(folder.rglob("segmentation*.dcm")):
        out[p.name] = hd.seg.segread(p)
    return out


def test_dicom_seg_export_references_the_deidentified_sources(world: World, tmp_path: Path) -> None:
    pid = phi_project(world)
    series = generate_uid()
    cts = []
    for i in range(2):
        r = upload(world, pid, f"ct{i}.dcm", ct_instance(i, series))
        assert r.status_code == 201, r.text
        cts.append(r.json())
    mr_data, _pixels = multi_frame(3)
    r = upload(world, pid, "mr.dcm", mr_data)
    assert r.status_code == 201, r.text
    mr = r.json()
    assert mr["frames"] == 3

    yy, xx = np.mgrid[:128, :128]
    ct_masks = [(yy - 40) ** 2 + (xx - 60) ** 2 < 200, np.zeros((128, 128), bool)]
    ct_masks[1][10:50, 70:120] = True
    for asset, bits in zip(cts, ct_masks, strict=True):
        _save(world, _task(world, pid, asset["id"]), [_mask(bits)])
    # the MR: a mask on frame 2, a polygon (rasterised) on frame 0, nothing on frame 1
    on_two = np.zeros((64, 64), bool)
    on_two[5:30, 8:40] = True
    polygon = {
        "type": "polygon",
        "label": "car",
        "geometry": {"points": [[10, 10], [50, 10], [50, 40], [10, 40]]},
        "frame": 0,
    }
    _save(world, _task(world, pid, mr["id"]), [_mask(on_two, frame=2), polygon])

    r = world.client("orgadmin").get(f"/api/projects/{pid}/export", params={"format": "dicomseg"})
    assert r.status_code == 200, r.text
    segs = _seg_files(r.content, tmp_path / "api")
    assert sorted(segs) == ["segmentation-1.dcm", "segmentation-2.dcm"]
    ct_uids = [
        str(pydicom.dcmread(io.BytesIO(content(world, pid, a["id"]))).SOPInstanceUID) for a in cts
    ]
    mr_uid = str(pydicom.dcmread(io.BytesIO(content(world, pid, mr["id"]))).SOPInstanceUID)
    assert all(u.startswith("2.25.") for u in [*ct_uids, mr_uid])  # the de-identified UIDs
    by_refs = {}
    for seg in segs.values():
        assert [s.SegmentLabel for s in seg.SegmentSequence] == [
            "car",
            "person",
            "lane",
            "weather",
            "crate",
        ]
        refs = sorted(
            str(i.ReferencedSOPInstanceUID)
            for s in seg.ReferencedSeriesSequence
            for i in s.ReferencedInstanceSequence
        )
        by_refs[tuple(refs)] = seg
    ct_seg = by_refs[tuple(sorted(ct_uids))]
    mr_seg = by_refs[(mr_uid,)]
    got = ct_seg.get_pixels_by_source_instance(ct_uids, segment_numbers=[1]).astype(bool)
    assert np.array_equal(got[..., 0], np.stack(ct_masks))
    frames = mr_seg.get_pixels_by_source_frame(mr_uid, [1, 2, 3], segment_numbers=[1])
    got_mr = frames[..., 0].astype(bool)
    square = np.zeros((64, 64), bool)
    square[10:40, 10:50] = True  # the polygon's interior, rasterised
    assert got_mr[1].sum() == 0
    assert np.array_equal(got_mr[2], on_two)
    assert np.abs(got_mr[0].astype(int) - square).sum() <= 2 * (30 + 40)  # edges only
    # the de-identified sources travel with the SEGs under their names
    assert (tmp_path / "api" / "mr.dcm").read_bytes() == content(world, pid, mr["id"])

    # a format without frames says what it flattened (the MR's two annotations)
    r = world.client("orgadmin").get(f"/api/projects/{pid}/export", params={"format": "coco"})
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        loss = json.loads(zf.read("labelproof-loss-report.json"))
    flattened = loss["approximated"][FRAMES_FLATTENED]
    assert flattened["count"] == 2
    assert sorted(e.rsplit(", ", 1)[1] for e in flattened["examples"]) == ["frame 0", "frame 2"]

    # the CLI writes the same SEGs
    out = tmp_path / "cli"
    result = cli(
        world.rt,
        "project",
        "export",
        str(pid),
        "--to",
        "dicomseg",
        "--out",
        str(out),
        "--as",
        "root@org.test",
        "--data-dir",
        str(world.rt.settings.data_dir),
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("segmentation*.dcm")) == sorted(segs)


def test_dicom_seg_export_imports_back_into_a_project(world: World) -> None:
    """The SEG export of a project imported into another: one asset per source file (a
    multi-frame file once, its frames as the ``frame`` of the annotations), masks equal."""
    pid = phi_project(world)
    mr_data, _pixels = multi_frame(3)
    r = upload(world, pid, "mr.dcm", mr_data)
    assert r.status_code == 201, r.text
    on_two = np.zeros((64, 64), bool)
    on_two[5:30, 8:40] = True
    on_zero = np.zeros((64, 64), bool)
    on_zero[40:60, 2:20] = True
    _save(world, _task(world, pid, r.json()["id"]), [_mask(on_two, 2), _mask(on_zero, 0)])
    exported = world.client("orgadmin").get(
        f"/api/projects/{pid}/export", params={"format": "dicomseg"}
    )
    assert exported.status_code == 200, exported.text

    other = phi_project(world, "phi-import")
    r = world.client("orgadmin").post(
        f"/api/projects/{other}/imports",
        files={"file": ("seg.zip", exported.content, "application/zip")},
        data={"format": "dicomseg"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["images"] == 1 and r.json()["annotations"] == 2
    [asset] = world.client("orgadmin").get(f"/api/projects/{other}/assets").json()["items"]
    assert (asset["filename"], asset["frames"]) == ("mr.dcm", 3)
    [task] = world.client("orgadmin").get(f"/api/projects/{other}/tasks").json()["items"]
    got = world.client("orgadmin").get(f"/api/tasks/{task['id']}/annotations").json()
    masks = {a["frame"]: decode_coco(a["geometry"]["rle"]) for a in got["annotations"]}
    assert sorted(masks) == [0, 2]
    assert np.array_equal(masks[2], on_two) and np.array_equal(masks[0], on_zero)
