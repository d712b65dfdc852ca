"""DICOM de-identification against our Table E.1-1 data, on pydicom's bundled test files."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_description, dictionary_has_tag, dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from labelproof.errors import InvalidFile, InvalidInput
from labelproof.privacy.dicom import (
    deidentify_dataset,
    deidentify_dicom,
    is_dicom,
    patient_pseudonym,
    remap_uid,
)
from labelproof.privacy.profile import EFFECTIVE_ACTION, private_rule, profile_rules, rule_for

SECRET = b"project-secret-0123456789abcdef"
STRING_VRS = {
    "AE",
    "AS",
    "CS",
    "DA",
    "DS",
    "DT",
    "IS",
    "LO",
    "LT",
    "PN",
    "SH",
    "ST",
    "TM",
    "UC",
    "UR",
    "UT",
    "UI",
}


def _read(name: str) -> bytes:
    path = get_testdata_file(name, download=False)
    assert path is not None, name
    with open(path, "rb") as fh:
        return fh.read()


def _planted(tag: int, vr: str) -> Any:
    """A recognisable value for ``tag`` of ``vr`` (the PHI we plant)."""
    n = f"{tag:08X}"
    return {
        "DA": "20010203",
        "DT": "20010203040506",
        "TM": "040506",
        "UI": f"1.2.826.0.1.{tag}",
        "AS": "042Y",
        "DS": "12.5",
        "IS": "7",
        "CS": f"PHI{n}",
        "AE": f"PHI{n}",
        "SH": f"PHI{n}",
        "US": 4242,
        "UR": f"http://phi/{n}",
    }.get(vr, f"PHI{n}" if vr in STRING_VRS else f"PHI{n}".encode())


def _plant_everything(ds: Dataset) -> dict[int, Any]:
    """Set every non-repeating attribute of Table E.1-1 (outside groups 0000/0002)."""
    exact, _ = profile_rules()
    planted: dict[int, Any] = {}
    for tag in exact:
        if tag >> 16 in (0x0000, 0x0002):
            continue
        vr = dictionary_VR(tag).split(" or ")[0]
        if vr == "SQ":
            inner = Dataset()
            inner.PatientName = "Nested^Phi"
            inner.add_new(0x00081155, "UI", f"1.2.826.0.2.{tag}")  # ReferencedSOPInstanceUID
            ds.add_new(tag, "SQ", Sequence([inner]))
            planted[tag] = None
            continue
        value = _planted(tag, vr)
        ds.add_new(tag, vr, value)
        planted[tag] = value
    return planted


def _with_private(ds: Dataset) -> None:
    block = ds.private_block(0x0011, "ACME PHI", create=True)
    block.add_new(0x01, "LO", "PRIVATE-PHI-TOP")
    item = Dataset()
    item.PatientName = "Doe^Nested"
    item.OtherPatientIDs = "NESTED-OTHER-ID"
    item.add_new(0x00081155, "UI", "1.2.3.4.5.6.7")
    inner_block = item.private_block(0x0029, "ACME NESTED", create=True)
    inner_block.add_new(0x10, "LO", "PRIVATE-PHI-NESTED")
    deeper = Dataset()
    deeper.PatientBirthDate = "19500101"
    deeper.OperatorsName = "DEEP^OPERATOR"
    item.AnatomicRegionSequence = Sequence([deeper])
    ds.AnatomicRegionSequence = Sequence([item])


def test_table_matches_the_standard_dictionary() -> None:
    exact, repeating = profile_rules()
    assert len(exact) + len(repeating) + 1 == 621
    assert {r.tag for r in repeating} == {"50xxxxxx", "60xx3000", "60xx4000"}
    assert private_rule().action == "X"
    norm = re.compile(r"[^a-z0-9]")
    for tag, rule in exact.items():
        assert dictionary_has_tag(tag), rule.tag
        ours = norm.sub("", rule.name.replace("(see Note 11)", "").lower())
        assert ours == norm.sub("", dictionary_description(tag).lower()), rule.tag
        assert rule.action in EFFECTIVE_ACTION
    expected = {
        0x00100010: "Z",  # Patient's Name
        0x00100020: "Z/D",  # Patient ID
        0x00100030: "Z",  # Patient's Birth Date
        0x0020000D: "U",  # Study Instance UID
        0x00080018: "U",  # SOP Instance UID
        0x00080080: "X/Z/D",  # Institution Name
        0x00081140: "X/Z/U*",  # Referenced Image Sequence
        0x00101000: "X",  # Other Patient IDs
    }
    for tag, action in expected.items():
        rule = rule_for(tag)
        assert rule is not None and rule.action == action, hex(tag)
    assert rule_for(0x60023000) is not None and rule_for(0x50100010) is not None
    assert rule_for(0x00080016) is None  # SOP Class UID is kept
    assert rule_for(0x00082218) is None  # Anatomic Region Sequence: not listed


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm"])
def test_every_listed_attribute_is_gone_or_replaced(name: str) -> None:
    ds = pydicom.dcmread(io.BytesIO(_read(name)))
    original_sop_class = ds.SOPClassUID
    planted = _plant_everything(ds)
    _with_private(ds)
    buf = io.BytesIO()
    ds.save_as(buf)
    out, report = deidentify_dicom(buf.getvalue(), project_secret=SECRET)
    result = pydicom.dcmread(io.BytesIO(out))
    for tag, value in planted.items():
        rule = rule_for(tag)
        assert rule is not None
        action = rule.effective
        present = tag in result
        if action == "X":
            assert not present, rule.tag
            continue
        assert present, rule.tag
        got = result[tag].value
        if action == "Z":
            assert got in (None, "", b"", []) or len(got) == 0, rule.tag
        elif action == "U" and result[tag].VR == "UI":
            assert got == remap_uid(SECRET, value), rule.tag
        elif result[tag].VR == "SQ":
            for item in got:
                assert item.get("PatientName", "") == "", rule.tag
                assert item.ReferencedSOPInstanceUID == remap_uid(SECRET, f"1.2.826.0.2.{tag}")
        else:
            assert got != value, rule.tag
    # Nothing planted survives anywhere in the bytes (UIDs were remapped, text removed).
    assert b"PHI" not in out
    assert b"1.2.826.0.1." not in out and b"1.2.826.0.2." not in out
    assert b"PRIVATE-PHI" not in out and b"Nested" not in out and b"DEEP^OPERATOR" not in out
    assert all(not e.tag.is_private for e in result.iterall())
    assert any(p.startswith("(0011,") for p in report.private_removed)
    assert "AnatomicRegionSequence[0].(0029,1010)" in report.private_removed
    assert "AnatomicRegionSequence[0].OtherPatientIDs" in report.removed
    assert "AnatomicRegionSequence[0].AnatomicRegionSequence[0].PatientBirthDate" in report.emptied
    item = result.AnatomicRegionSequence[0]
    assert item.ReferencedSOPInstanceUID == remap_uid(SECRET, "1.2.3.4.5.6.7")
    assert result.SOPClassUID == original_sop_class
    assert result.PatientIdentityRemoved == "YES"
    codes = [c.CodeValue for c in result.DeidentificationMethodCodeSequence]
    assert codes == ["113100"]
    assert result.file_meta.MediaStorageSOPInstanceUID == result.SOPInstanceUID
    assert result.LongitudinalTemporalInformationModified == "REMOVED"


def test_uids_are_consistent_within_a_project_and_differ_across() -> None:
    a = pydicom.dcmread(io.BytesIO(_read("CT_small.dcm")))
    b = pydicom.dcmread(io.BytesIO(_read("CT_small.dcm")))
    b.SOPInstanceUID = "1.2.3.999"  # another image of the same study and series
    c = pydicom.dcmread(io.BytesIO(_read("CT_small.dcm")))
    study = str(a.StudyInstanceUID)
    deidentify_dataset(a, project_secret=SECRET)
    deidentify_dataset(b, project_secret=SECRET)
    deidentify_dataset(c, project_secret=b"another-project-secret-000000000")
    assert a.StudyInstanceUID == b.StudyInstanceUID == remap_uid(SECRET, study)
    assert a.SeriesInstanceUID == b.SeriesInstanceUID
    assert a.SOPInstanceUID != b.SOPInstanceUID
    assert c.StudyInstanceUID != a.StudyInstanceUID
    uid = str(a.StudyInstanceUID)
    assert uid.startswith("2.25.") and len(uid) <= 64 and int(uid[5:]) < 2**128
    assert a.PatientID == patient_pseudonym(SECRET, "1CT1") != "1CT1"


def test_date_shift_keeps_intervals_and_marks_the_option() -> None:
    ds = pydicom.dcmread(io.BytesIO(_read("CT_small.dcm")))
    ds.StudyDate, ds.AcquisitionDate = "20040119", "20040201"
    ds.AcquisitionDateTime = "20040201101530.5"
    ds.StudyTime = "101530"
    report = deidentify_dataset(ds, project_secret=SECRET, shift_dates=True)
    offset = report.date_offset_days
    assert offset is not None and -3650 <= offset <= -1

    def d(text: str) -> date:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))

    assert (d(ds.StudyDate) - date(2004, 1, 19)).days == offset
    assert (d(ds.AcquisitionDate) - d(ds.StudyDate)).days == 13
    assert ds.AcquisitionDateTime.endswith("101530.5")
    assert ds.StudyTime == "101530"
    assert "StudyDate" in report.dates_shifted
    assert [c.CodeValue for c in ds.DeidentificationMethodCodeSequence] == ["113100", "113107"]
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    again = pydicom.dcmread(io.BytesIO(_read("CT_small.dcm")))
    assert (
        deidentify_dataset(again, project_secret=SECRET, shift_dates=True).date_offset_days
        == offset
    )


def test_burned_in_annotation_is_flagged() -> None:
    ds = pydicom.dcmread(io.BytesIO(_read("MR_small.dcm")))
    ds.Modality = "US"
    report = deidentify_dataset(ds, project_secret=SECRET)
    assert any("Modality US" in f for f in report.flags)
    ds = pydicom.dcmread(io.BytesIO(_read("MR_small.dcm")))
    ds.BurnedInAnnotation = "YES"
    report = deidentify_dataset(ds, project_secret=SECRET)
    assert any("BurnedInAnnotation=YES" in f for f in report.flags)
    ds = pydicom.dcmread(io.BytesIO(_read("MR_small.dcm")))
    assert deidentify_dataset(ds, project_secret=SECRET).flags == []


def test_corrupt_input_gives_clear_errors() -> None:
    with pytest.raises(InvalidFile, match="not a DICOM file"):
        deidentify_dicom(b"\x89PNG\r\n\x1a\n" + bytes(200), project_secret=SECRET)
    good = _read("CT_small.dcm")
    broken = good[:132] + b"\x02\x00\x10\x00UI\xff\xff" + b"\x00" * 20
    with pytest.raises(InvalidFile):
        deidentify_dicom(broken, project_secret=SECRET)
    with pytest.raises(InvalidInput) as exc:
        deidentify_dicom(good, project_secret=b"short")
    assert exc.value.field == "project_secret"
    assert is_dicom(good) and not is_dicom(b"DICM")
