"""DICOM files for the server tests: bundled pydicom samples with planted PHI, a corrupt
set, and a multi-frame (legacy converted enhanced MR) source with known frames."""

from __future__ import annotations

import copy
import io
from typing import Any

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, generate_uid

from tests.world import SCHEMA, World

NAME = "LPDCMNAME^Seven"
PATIENT_ID = "LPDCMPID-4471"
PRIVATE = "LPDCMPRIVATE-9k"
NESTED = "LPDCMNESTED^Name"
REQUEST = "LPDCMREQUEST^Doc"
OPERATOR = "LPDCMOPERATOR^Op"
MARKERS = [NAME, PATIENT_ID, PRIVATE, NESTED, REQUEST, OPERATOR]
#: The DICOM string values: the scan looks for the distinctive first part of each.
SCAN = [m.split("^")[0] for m in MARKERS]


def sample(name: str = "CT_small.dcm") -> Dataset:
    return pydicom.dcmread(str(get_testdata_file(name)))


def to_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def planted(
    name: str = "CT_small.dcm",
    *,
    series: str | None = None,
    sop: str | None = None,
    burned_in: bool = False,
) -> bytes:
    """A bundled sample with PHI planted at the top level, in a private tag and in nested
    sequence items (one the profile removes whole, one it walks into)."""
    ds = sample(name)
    ds.PatientName = NAME
    ds.PatientID = PATIENT_ID
    block = ds.private_block(0x0011, "LPTEST", create=True)
    block.add_new(0x01, "LO", PRIVATE)
    ref = Dataset()
    ref.PatientName = NESTED
    ref.ReferencedSOPInstanceUID = generate_uid()
    ds.ReferencedPatientSequence = Sequence([ref])
    req = Dataset()
    req.RequestedProcedureID = "RP1"
    req.ScheduledProcedureStepID = "SPS1"
    inner = Dataset()
    inner.PersonName = REQUEST  # a name one level further down
    inner.CodeValue = "X"
    req.PersonIdentificationCodeSequence = Sequence([inner])
    ds.RequestAttributesSequence = Sequence([req])
    region = Dataset()  # a sequence the profile keeps: its items are de-identified inside
    region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning = "T-D3000", "SRT", "Chest"
    region.OperatorsName = OPERATOR
    ds.AnatomicRegionSequence = Sequence([region])
    if series is not None:
        ds.SeriesInstanceUID = UID(series)
    if sop is not None:
        ds.SOPInstanceUID = UID(sop)
        ds.file_meta.MediaStorageSOPInstanceUID = UID(sop)
    if burned_in:
        ds.BurnedInAnnotation = "YES"
    data = to_bytes(ds)
    for marker in SCAN:
        assert marker.encode() in data
    return data


def ct_instance(i: int, series: str) -> bytes:
    """Instance ``i`` of a CT series: CT_small with its own UID, position and pixels."""
    ds = sample("CT_small.dcm")
    ds.SeriesInstanceUID = series
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    x, y, z = (float(v) for v in ds.ImagePositionPatient)
    ds.ImagePositionPatient = [x, y, z + 5.0 * i]
    ds.InstanceNumber = i + 1
    ds.PatientName = NAME
    return to_bytes(ds)


def multi_frame(frames: int = 3) -> tuple[bytes, Any]:
    """A legacy converted enhanced MR of ``frames`` MR_small slices (pixels differ per frame),
    with PHI planted; returns the file and its pixel array (frames, 64, 64)."""
    import highdicom as hd

    base = sample("MR_small.dcm")
    base.PatientName = NAME
    series = generate_uid()
    slices = []
    for i in range(frames):
        d = copy.deepcopy(base)
        d.SOPInstanceUID = generate_uid()
        d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
        d.SeriesInstanceUID = series
        x, y, z = (float(v) for v in base.ImagePositionPatient)
        d.ImagePositionPatient = [x, y, z + 5.0 * i]
        d.InstanceNumber = i + 1
        arr = base.pixel_array.astype(np.int16) // (i + 1)
        d.PixelData = arr.tobytes()
        slices.append(d)
    enhanced = hd.legacy.LegacyConvertedEnhancedMRImage(
        slices, generate_uid(), 5, generate_uid(), 1
    )
    data = to_bytes(enhanced)
    return data, pydicom.dcmread(io.BytesIO(data)).pixel_array


def corrupt_files() -> dict[str, bytes]:
    """Damaged DICOM uploads, each of which must be refused naming the file."""
    whole = to_bytes(sample("CT_small.dcm"))
    no_pixels = sample("CT_small.dcm")
    del no_pixels.PixelData
    rng = np.random.default_rng(5)
    return {
        "truncated.dcm": whole[: len(whole) // 2],
        "garbage.dcm": b"\x00" * 128 + b"DICM" + rng.integers(0, 255, 4000, np.uint8).tobytes(),
        "nopixels.dcm": to_bytes(no_pixels),
        "header-only.dcm": whole[:300],
    }


def phi_project(world: World, name: str = "phi") -> int:
    """A phi project (the org admin cleared for phi) with the world's schema."""
    c = world.client("orgadmin")
    me = world.users["orgadmin"]
    assert (
        c.put(
            f"/api/users/{me}/clearance", json={"clearances": ["phi"], "baa_signed": True}
        ).status_code
        == 200
    )
    r = c.post("/api/projects", json={"name": name, "classification": "phi"})
    assert r.status_code == 201, r.text
    pid = int(r.json()["id"])
    r = c.post(f"/api/projects/{pid}/schemas", json={"definition": SCHEMA})
    assert r.status_code in (200, 201), r.text
    return pid


def upload(world: World, pid: int, name: str, data: bytes, who: str = "orgadmin") -> Any:
    return world.client(who).post(
        f"/api/projects/{pid}/assets", files={"file": (name, data, "application/dicom")}
    )


def content(world: World, pid: int, asset_id: int, who: str = "orgadmin") -> bytes:
    r = world.client(who).get(f"/api/projects/{pid}/assets/{asset_id}/content")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/dicom"
    return r.content
