"""A DICOM series of single-frame instances uploaded as a zip becomes one multi-frame stack
(through HTTP on both databases): frames ordered along the slice normal, pixels kept per
frame, PHI planted in the members absent, UIDs keyed per project and stable on re-upload,
merged de-identification report, mixed archives, and the ``frame`` key bounded by the stack."""

from __future__ import annotations

import io
import random
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.uid import generate_uid

from labelproof.services.dicom_series import merge_deid_reports
from tests.dicom.helpers import SCAN, content, phi_project, planted, to_bytes, upload
from tests.world import World, png_bytes

N = 5


def _series(series: str, n: int = N) -> list[tuple[bytes, NDArray[Any]]]:
    """Instance k of a CT series (PHI planted): z + 5k, pixels + 100k, and InstanceNumber
    running the other way, so only the position gives the right order."""
    out = []
    for k in range(n):
        ds = pydicom.dcmread(io.BytesIO(planted(series=series, sop=generate_uid())))
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y, z + 5.0 * k]
        ds.InstanceNumber = n - k
        pixels = (ds.pixel_array.astype(np.int16) + 100 * k).astype(ds.pixel_array.dtype)
        ds.PixelData = pixels.tobytes()
        out.append((to_bytes(ds), pixels))
    return out


def _zip(members: dict[str, bytes]) -> bytes:
    names = list(members)
    random.Random(7).shuffle(names)  # the archive's order is not the stack's
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            zf.writestr(name, members[name])
    return buf.getvalue()


def _archive(world: World, pid: int, data: bytes, who: str = "orgadmin", **params: Any) -> Any:
    return world.client(who).post(
        f"/api/projects/{pid}/assets/archive",
        files={"file": ("series.zip", data, "application/zip")},
        params=params,
    )


def _read(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(data))


def test_series_becomes_one_stack_in_z_order_deidentified(world: World) -> None:
    pid = phi_project(world)
    series = generate_uid()
    instances = _series(series)
    # one member alone, for its report and its remapped series UID
    single = upload(world, pid, "alone.dcm", instances[0][0]).json()
    members = {f"ct/slice-{k}.dcm": data for k, (data, _p) in enumerate(instances)}
    r = _archive(world, pid, _zip(members))
    assert r.status_code == 201, r.text
    assert len(r.json()) == 1
    asset = r.json()[0]
    assert asset["frames"] == N and (asset["width"], asset["height"]) == (128, 128)
    assert asset["media_type"] == "application/dicom"
    meta = asset["media_meta"]
    assert meta["frames"] == N and meta["modality"] == "CT" and meta["kind"] == "dicom"
    assert meta["rescale"] == {"slope": 1.0, "intercept": -1024.0}
    assert meta["series_uid"] not in (series, single["media_meta"]["series_uid"])
    report = asset["deid"]
    assert report["series_members"] == N and report["burned_in"] is False
    assert report["policy"] == {"dicom": "basic_profile"}
    assert report["counts"] == {k: N * v for k, v in single["deid"]["counts"].items()}
    assert "PatientName" in report["replaced"] + report["emptied"]
    assert "ReferencedPatientSequence" in report["removed"]

    stored = content(world, pid, asset["id"])
    for marker in SCAN:
        assert marker.encode() not in stored
    ds = _read(stored)
    assert int(ds.NumberOfFrames) == N
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2.2"  # Legacy Converted Enhanced CT
    assert str(ds.SOPInstanceUID).startswith("2.25.")
    assert str(ds.SeriesInstanceUID) == meta["series_uid"]
    assert ds.PatientID == single_patient(world, pid, single["id"])
    assert not any(elem.tag.is_private for elem in ds.iterall())
    assert not any(elem.tag == 0xFFFCFFFC for elem in ds.iterall())  # padding ends dcmjs
    zs = [
        float(f.PlanePositionSequence[0].ImagePositionPatient[2])
        for f in ds.PerFrameFunctionalGroupsSequence
    ]
    assert zs == sorted(zs) and len(set(zs)) == N
    pixels = ds.pixel_array
    for k, (_data, source) in enumerate(instances):
        assert np.array_equal(pixels[k], source), f"frame {k}"

    # the same archive again: the same UIDs; another project: other UIDs
    again = _archive(world, pid, _zip(members)).json()[0]
    again_ds = _read(content(world, pid, again["id"]))
    assert again_ds.SOPInstanceUID == ds.SOPInstanceUID
    assert again_ds.SeriesInstanceUID == ds.SeriesInstanceUID
    other_pid = phi_project(world, "phi-two")
    other = _archive(world, other_pid, _zip(members)).json()
    assert len(other) == 1 and other[0]["frames"] == N
    other_ds = _read(content(world, other_pid, other[0]["id"]))
    assert other_ds.SOPInstanceUID != ds.SOPInstanceUID
    assert other_ds.SeriesInstanceUID != ds.SeriesInstanceUID
    assert np.array_equal(other_ds.pixel_array, pixels)


def single_patient(world: World, pid: int, asset_id: int) -> str:
    """The pseudonymised Patient ID of a stored single instance."""
    return str(_read(content(world, pid, asset_id)).PatientID)


def test_mixed_archive_gives_the_stack_and_the_others_separately(world: World) -> None:
    pid = phi_project(world)
    members = {f"s/{k}.dcm": data for k, (data, _p) in enumerate(_series(generate_uid()))}
    members["other/lone.dcm"] = planted(series=generate_uid(), sop=generate_uid())
    members["photo.png"] = png_bytes()
    r = _archive(world, pid, _zip(members))
    assert r.status_code == 201, r.text
    got = sorted((a["media_type"], a["frames"], a["filename"]) for a in r.json())
    assert [(t, f) for t, f, _n in got] == [
        ("application/dicom", 1),
        ("application/dicom", N),
        ("image/png", 1),
    ]
    assert got[0][2] == "lone.dcm" and got[1][2].endswith(f"-stack{N}.dcm")
    lone = next(a for a in r.json() if a["frames"] == 1 and a["media_type"].endswith("dicom"))
    assert lone["deid"]["counts"]["uids_remapped"] >= 3 and "series_members" not in lone["deid"]


def test_implicit_and_explicit_members_stack_and_a_bad_series_refuses_the_archive(
    world: World,
) -> None:
    pid = phi_project(world)
    instances = _series(generate_uid(), n=3)
    implicit = pydicom.dcmread(io.BytesIO(instances[1][0]))
    implicit.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    buf = io.BytesIO()
    implicit.save_as(buf, enforce_file_format=True)
    assert _read(buf.getvalue()).file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
    members = {"a.dcm": instances[0][0], "b.dcm": buf.getvalue(), "c.dcm": instances[2][0]}
    r = _archive(world, pid, _zip(members))
    assert r.status_code == 201, r.text
    (stack,) = r.json()
    pixels = _read(content(world, pid, stack["id"])).pixel_array
    for k, (_data, source) in enumerate(instances):
        assert np.array_equal(pixels[k], source), f"frame {k}"

    # the same instance twice: the converter refuses, so does the archive, nothing stored
    before = world.client("orgadmin").get(f"/api/projects/{pid}/assets").json()["total"]
    members = {"a.dcm": instances[0][0], "copy/a.dcm": instances[0][0], "p.png": png_bytes()}
    r = _archive(world, pid, _zip(members))
    assert r.status_code == 400, r.text
    message = r.json()["message"]
    assert message.startswith("series.zip: the DICOM series 2.25.") and "2 instances" in message
    assert "Duplicate SOP Instance UIDs" in message
    after = world.client("orgadmin").get(f"/api/projects/{pid}/assets").json()["total"]
    assert after == before


def test_a_single_instance_of_a_series_stays_as_it_was(world: World) -> None:
    pid = phi_project(world)
    data, _p = _series(generate_uid(), n=1)[0]
    r = _archive(world, pid, _zip({"one.dcm": data, "photo.png": png_bytes()}))
    assert r.status_code == 201, r.text
    assert sorted(a["frames"] for a in r.json()) == [1, 1]


def _save(world: World, task_id: int, frame: int) -> Any:
    item = {
        "id": f"on-{frame}",
        "type": "box",
        "label": "car",
        "geometry": {"x": 2, "y": 3, "w": 10, "h": 12},
        "frame": frame,
    }
    return world.client("annotator").put(
        f"/api/tasks/{task_id}/annotations",
        json={"base_revision": 0, "annotations": [item]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def test_frame_annotations_are_bounded_by_the_stack_policy_off(world: World) -> None:
    """An internal project (DICOM de-identification off) stacks too; frames 0..N-1."""
    members = {f"{k}.dcm": data for k, (data, _p) in enumerate(_series(generate_uid()))}
    r = _archive(world, world.project_id, _zip(members), who="program_manager", tasks="false")
    assert r.status_code == 201, r.text
    (asset,) = r.json()
    assert asset["frames"] == N and asset["deid"] is None
    ds = _read(content(world, world.project_id, asset["id"], who="program_manager"))
    assert not any(elem.tag == 0xFFFCFFFC for elem in ds.iterall())
    assert any(elem.tag.is_private for elem in ds.iterall())  # policy off: kept as uploaded
    t = world.client("program_manager").post(
        f"/api/projects/{world.project_id}/tasks", json={"asset_ids": [asset["id"]]}
    )
    assert t.status_code == 201, t.text
    task = int(t.json()[0]["id"])
    bad = _save(world, task, N)
    assert bad.status_code == 422, bad.text
    assert bad.json()["field"] == "annotations[0].frame"
    ok = _save(world, task, N - 1)
    assert ok.status_code in (200, 201), ok.text
    got = world.client("annotator").get(f"/api/tasks/{task}/annotations").json()
    assert [a["frame"] for a in got["annotations"]] == [N - 1]


def test_merge_deid_reports_sums_counts_and_ors_flags() -> None:
    a: dict[str, Any] = {"removed": ["A"], "flags": [], "counts": {"removed": 1}}
    a["burned_in"] = False
    b: dict[str, Any] = {"removed": ["A", "B"], "flags": ["Modality US"], "counts": {"removed": 2}}
    b["burned_in"] = True
    merged = merge_deid_reports([a, b])
    assert merged == {
        "removed": ["A", "B"],
        "flags": ["Modality US"],
        "counts": {"removed": 3},
        "burned_in": True,
        "series_members": 2,
    }
    assert merge_deid_reports([None, None]) is None


def test_dicom_seg_export_of_a_stack_maps_the_frame(world: World, tmp_path: Path) -> None:
    """A mask on frame 3 of a stack comes back from the DICOM SEG export on source frame 3."""
    import highdicom as hd

    from labelproof.formats._cvat_rle import encode_coco

    pid = phi_project(world)
    members = {f"{k}.dcm": data for k, (data, _p) in enumerate(_series(generate_uid()))}
    (stack,) = _archive(world, pid, _zip(members), tasks="false").json()
    t = world.client("orgadmin").post(
        f"/api/projects/{pid}/tasks", json={"asset_ids": [stack["id"]]}
    )
    task = int(t.json()[0]["id"])
    bits = np.zeros((128, 128), bool)
    bits[20:60, 30:90] = True
    item = {"type": "mask", "label": "car", "geometry": {"rle": encode_coco(bits)}, "frame": 3}
    r = world.client("orgadmin").put(
        f"/api/tasks/{task}/annotations",
        json={"base_revision": 0, "annotations": [item]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    r = world.client("orgadmin").get(f"/api/projects/{pid}/export", params={"format": "dicomseg"})
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        zf.extractall(tmp_path)
    (path,) = sorted(tmp_path.rglob("segmentation*.dcm"))
    seg = hd.seg.segread(path)
    uid = str(_read(content(world, pid, stack["id"])).SOPInstanceUID)
    frames = seg.get_pixels_by_source_frame(
        uid, list(range(1, N + 1)), segment_numbers=[1], assert_missing_frames_are_empty=True
    )
    got = frames[..., 0].astype(bool)
    assert np.array_equal(got[3], bits)
    assert all(got[k].sum() == 0 for k in range(N) if k != 3)
