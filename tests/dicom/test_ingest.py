"""DICOM uploads through HTTP on both databases: de-identification at ingest in a phi
project (PS3.15 basic profile, planted PHI gone from the stored file, the data directory
and the database), UIDs remapped per project, corrupt files refused with nothing stored,
and a non-sensitive project with the policy off keeping the uploaded bytes."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from datetime import date
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid
from sqlalchemy import func, select

from labelproof.errors import FileTooLarge
from labelproof.services.dicom import inspect_dicom
from labelproof.store.models import Asset, AuditEvent
from tests.custody_server.helpers import scan
from tests.custody_server.test_sealed_fields import _pg_hits
from tests.dicom.helpers import (
    MARKERS,
    NAME,
    SCAN,
    content,
    corrupt_files,
    phi_project,
    planted,
    sample,
    to_bytes,
    upload,
)
from tests.world import World


def _read(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(data))


def test_phi_upload_is_deidentified_and_uids_are_remapped_per_project(world: World) -> None:
    pid = phi_project(world)
    series = generate_uid()
    sop_a, sop_b = generate_uid(), generate_uid()
    first = planted(series=series, sop=sop_a)
    r = upload(world, pid, "LPDCMFILE-ct.dcm", first)
    assert r.status_code == 201, r.text
    asset = r.json()
    assert asset["media_type"] == "application/dicom"
    assert (asset["width"], asset["height"], asset["frames"]) == (128, 128, 1)
    meta = asset["media_meta"]
    assert meta["kind"] == "dicom" and meta["modality"] == "CT"
    assert meta["photometric"] == "MONOCHROME2" and meta["bits_stored"] == 16
    assert meta["pixel_representation"] == 1 and meta["samples_per_pixel"] == 1
    assert meta["rescale"] == {"slope": 1.0, "intercept": -1024.0}
    assert meta["pixel_spacing"] == pytest.approx([0.661468, 0.661468])
    assert meta["frames"] == 1 and meta["instance_number"] == 1
    assert meta["window"]["width"] > 0
    report = asset["deid"]
    assert report["kind"] == "dicom" and report["policy"] == {"dicom": "basic_profile"}
    assert "PatientName" in report["replaced"] + report["emptied"]
    assert "ReferencedPatientSequence" in report["removed"]
    assert any(p.startswith("(0011,") for p in report["private_removed"])
    assert report["counts"]["uids_remapped"] >= 3 and report["burned_in"] is False
    for marker in SCAN:  # the report names paths, never a value
        assert marker not in str(report)

    stored = content(world, pid, asset["id"])
    assert hashlib.sha256(stored).hexdigest() == asset["sha256"]
    for marker in SCAN:
        assert marker.encode() not in stored
    ds = _read(stored)
    assert ds.PatientIdentityRemoved == "YES"
    assert "basic profile" in str(ds.DeidentificationMethod)
    assert not any(elem.tag.is_private for elem in ds.iterall())
    assert "ReferencedPatientSequence" not in ds
    assert str(ds.SOPInstanceUID).startswith("2.25.") and ds.SOPInstanceUID != sop_a
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.SeriesInstanceUID != series and ds.SeriesInstanceUID == meta["series_uid"]
    assert str(ds.PatientID).startswith("LP-")
    original = _read(first)
    assert (ds.pixel_array == original.pixel_array).all()  # pixels untouched

    # a second instance of the same series: the same remapped series, its own instance UID
    r = upload(world, pid, "ct2.dcm", planted(series=series, sop=sop_b))
    assert r.status_code == 201, r.text
    second = _read(content(world, pid, r.json()["id"]))
    assert second.SeriesInstanceUID == ds.SeriesInstanceUID
    assert second.StudyInstanceUID == ds.StudyInstanceUID
    assert second.SOPInstanceUID not in (ds.SOPInstanceUID, sop_b)
    assert second.PatientID == ds.PatientID  # one patient stays one pseudonym
    # another project keys its own UIDs
    other = phi_project(world, "phi-2")
    r = upload(world, other, "ct.dcm", planted(series=series, sop=sop_a))
    assert r.status_code == 201, r.text
    elsewhere = _read(content(world, other, r.json()["id"]))
    assert elsewhere.SeriesInstanceUID not in (series, ds.SeriesInstanceUID)
    assert elsewhere.SOPInstanceUID != ds.SOPInstanceUID
    assert r.json()["media_meta"]["series_uid"] == elsewhere.SeriesInstanceUID

    # no planted value anywhere at rest: data directory (blobs, staging, SQLite) and database
    markers = [*SCAN, "LPDCMFILE"]
    hits = scan(world.rt.settings.data_dir, [m.encode() for m in markers])
    assert hits == {m: [] for m in markers}
    if not world.rt.settings.is_sqlite:
        assert _pg_hits(world.rt, markers) == {m: [] for m in markers}


def test_burned_in_annotation_is_flagged(world: World) -> None:
    pid = phi_project(world)
    r = upload(world, pid, "us.dcm", planted(burned_in=True))
    assert r.status_code == 201, r.text
    report = r.json()["deid"]
    assert report["burned_in"] is True
    assert any(f.startswith("BurnedInAnnotation=YES") for f in report["flags"])
    listed = world.client("orgadmin").get(f"/api/projects/{pid}/assets").json()["items"]
    assert listed[0]["deid"]["flags"] == report["flags"]
    with world.rt.read() as db:  # the upload's audit event says the pixels need a review
        event = db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "asset.uploaded", AuditEvent.target_id == str(r.json()["id"])
            )
        ).one()
    assert event.details["burned_in_review"] is True and event.project_id == pid


def test_archive_members_are_deidentified(world: World) -> None:
    pid = phi_project(world)
    series = generate_uid()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("s/one.dcm", planted(series=series, sop=generate_uid()))
        zf.writestr("s/two.dcm", planted(series=series, sop=generate_uid()))
    r = world.client("orgadmin").post(
        f"/api/projects/{pid}/assets/archive",
        files={"file": ("series.zip", buf.getvalue(), "application/zip")},
    )
    assert r.status_code == 201, r.text
    (stack,) = r.json()  # two CT instances of one series: one stack (tests/dicom/test_series.py)
    assert stack["frames"] == 2 and stack["deid"]["series_members"] == 2
    assert stack["media_meta"]["series_uid"] != series
    stored = content(world, pid, stack["id"])
    assert all(m.encode() not in stored for m in SCAN)


def _blob_files(world: World) -> list[str]:
    root = world.rt.blobs.root
    return sorted(
        str(Path(d, f).relative_to(root)) for d, _s, files in os.walk(root) for f in files
    )


def _count(world: World) -> int:
    with world.rt.read() as db:
        return int(db.scalar(select(func.count()).select_from(Asset)) or 0)


@pytest.mark.parametrize("classification", ["phi", "internal"])
def test_corrupt_dicom_is_refused_and_nothing_is_stored(world: World, classification: str) -> None:
    pid = phi_project(world) if classification == "phi" else world.project_id
    before_files, before = _blob_files(world), _count(world)
    reasons = {
        "truncated.dcm": ("corrupt or truncated", "cannot be decoded"),
        "garbage.dcm": ("corrupt or truncated", "not a DICOM file", "without an image"),
        "nopixels.dcm": ("without pixel data",),
        "header-only.dcm": ("corrupt or truncated", "without an image"),
    }
    for name, data in corrupt_files().items():
        r = upload(world, pid, name, data)
        assert r.status_code in (400, 422), (name, r.status_code, r.text)
        message = r.json()["message"]
        assert message.startswith(f"{name}: "), message
        assert any(reason in message for reason in reasons[name]), message
    assert _count(world) == before
    assert _blob_files(world) == before_files


def test_unsupported_and_too_large_are_refused(world: World) -> None:
    from pydicom.data import get_testdata_file

    palette = Path(get_testdata_file("examples_palette.dcm") or "").read_bytes()
    r = upload(world, world.project_id, "palette.dcm", palette)
    assert r.status_code == 400 and "PALETTE COLOR is not supported" in r.json()["message"]
    r = upload(world, world.project_id, "ct.png", to_bytes(sample()))
    assert r.status_code == 400 and "the extension says .png" in r.json()["message"]
    # the pixel budget counts every frame: Rows x Columns x frames <= max_pixels
    path = Path(get_testdata_file("CT_small.dcm") or "")
    with pytest.raises(FileTooLarge) as big:
        inspect_dicom(path, filename="ct.dcm", max_pixels=100 * 100)
    assert big.value.message.startswith("ct.dcm: 128x128 x 1 frames = 16384 pixels is over")
    assert inspect_dicom(path, filename="ct.dcm", max_pixels=128 * 128).frames == 1


def test_policy_off_on_an_internal_project_keeps_the_uploaded_bytes(world: World) -> None:
    data = planted()
    got = world.client("orgadmin").get(f"/api/projects/{world.project_id}").json()
    assert got["deid_policy"]["dicom"] == "off"
    r = upload(world, world.project_id, "ct.dcm", data, who="program_manager")
    assert r.status_code == 201, r.text
    asset = r.json()
    assert asset["deid"] is None
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()
    assert content(world, world.project_id, asset["id"], who="program_manager") == data
    assert asset["media_meta"]["series_uid"] == str(_read(data).SeriesInstanceUID)


def test_policy_can_turn_dicom_deid_on_and_off(world: World) -> None:
    c = world.client("program_manager")
    url = f"/api/projects/{world.project_id}/deid-policy"
    r = c.put(url, json={"photos": "off", "dicom": "basic_profile"})
    assert r.status_code == 200 and r.json()["dicom"] == "basic_profile"
    r = upload(world, world.project_id, "ct.dcm", planted(), who="program_manager")
    assert r.status_code == 201 and r.json()["deid"]["kind"] == "dicom"
    bad = c.put(url, json={"dicom": "retain_everything"})
    assert bad.status_code == 422 and bad.json()["field"] == "deid_policy.dicom"
    # a phi project may turn it off (audited by set_policy); the default stays on
    pid = phi_project(world)
    c = world.client("orgadmin")
    r = c.put(f"/api/projects/{pid}/deid-policy", json={"photos": "strip_metadata"})
    assert r.status_code == 200 and r.json()["dicom"] == "basic_profile"
    r = c.put(f"/api/projects/{pid}/deid-policy", json={"photos": "off", "dicom": "off"})
    assert r.status_code == 200 and r.json()["dicom"] == "off"
    r = upload(world, pid, "ct.dcm", planted())
    assert r.status_code == 201 and r.json()["deid"] is None
    assert NAME.encode() in content(world, pid, r.json()["id"])
    assert MARKERS  # (the markers module constant is used by the other tests)


def test_shift_dates_option_keeps_intervals_per_patient(world: World) -> None:
    pid = phi_project(world)
    c = world.client("orgadmin")
    r = c.put(f"/api/projects/{pid}/deid-policy", json={"dicom": "basic_profile_shift_dates"})
    assert r.status_code == 200 and r.json()["dicom"] == "basic_profile_shift_dates"
    first, second = sample(), sample()
    first.StudyDate, second.StudyDate = "20200110", "20200131"  # 21 days apart, one patient
    stored = []
    for i, ds in enumerate((first, second)):
        r = upload(world, pid, f"ct{i}.dcm", to_bytes(ds))
        assert r.status_code == 201, r.text
        report = r.json()["deid"]
        assert report["policy"] == {"dicom": "basic_profile_shift_dates"}
        assert "StudyDate" in report["dates_shifted"] and report["date_offset_days"] < 0
        stored.append(_read(content(world, pid, r.json()["id"])))
    a, b = (date.fromisoformat(str(s.StudyDate)) for s in stored)
    assert (b - a).days == 21 and str(stored[0].StudyDate) != "20200110"
    assert all(s.LongitudinalTemporalInformationModified == "MODIFIED" for s in stored)
    codes = [i.CodeValue for i in stored[0].DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113107"]
