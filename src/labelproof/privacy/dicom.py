"""DICOM de-identification: PS3.15 Annex E basic application level confidentiality profile.

What :func:`deidentify_dataset` does, in one walk over the data set and every nested item:

- each attribute Table E.1-1 lists gets its action (see :mod:`labelproof.privacy.profile`:
  remove, empty, dummy, or UID remap);
- every private attribute (odd group, private creators included) is removed;
- sequences the table does not remove are entered and their items de-identified the same way;
- UIDs are remapped with a keyed hash, ``2.25.<first 128 bits of HMAC-SHA256(project
  secret, uid) as a decimal>``: the same UID gives the same new UID across files of one
  project (studies and series stay grouped), and a different project secret gives unrelated
  UIDs; the file meta Media Storage SOP Instance UID follows;
- with ``shift_dates``, dates the *Retain Longitudinal Temporal Information with Modified
  Dates* option marks (DA, and the date part of DT) move back by a per-patient offset of 1 to
  3650 days derived from the project secret and the original Patient ID, so intervals within
  a patient survive; times are kept;
- Patient Identity Removed = YES, De-identification Method, and the method code sequence
  (DCM 113100, plus 113107 when dates were shifted) are written; Longitudinal Temporal
  Information Modified becomes MODIFIED or REMOVED;
- Burned In Annotation = YES, Recognizable Visual Features = YES, or a modality that usually
  carries burned-in text (US, SC, XC, ES, OT, GM, SM, DOC) are *flagged* for a human to check
  the pixels; pixels are not altered;
- Patient ID (Z/D) becomes a keyed pseudonym ``LP-<16 hex>``, stable within a project, so
  one patient's studies stay together without revealing the ID.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from labelproof.errors import InvalidFile, InvalidInput
from labelproof.privacy.profile import ProfileRule, rule_for

__all__ = [
    "BURNED_IN_MODALITIES",
    "DicomDeidReport",
    "deidentify_dataset",
    "deidentify_dicom",
    "is_dicom",
    "patient_pseudonym",
    "remap_uid",
]

BURNED_IN_MODALITIES = frozenset({"US", "SC", "XC", "ES", "OT", "GM", "SM", "DOC"})
BASIC_PROFILE = ("113100", "DCM", "Basic Application Confidentiality Profile")
MODIFIED_DATES = ("113107", "DCM", "Retain Longitudinal Temporal Information Modified Dates Option")
PATIENT_ID = 0x00100020
METHOD_TEXT = "labelproof PS3.15 E.1-1 basic profile"
_STRING_VRS = frozenset(
    {
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
        "UI",
        "UR",
        "UT",
    }
)
_DUMMY: dict[str, Any] = {
    "AE": "ANONYMOUS",
    "AS": "000Y",
    "CS": "ANONYMIZED",
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "IS": "0",
    "LO": "ANONYMIZED",
    "LT": "ANONYMIZED",
    "PN": "ANONYMIZED",
    "SH": "ANONYMIZED",
    "ST": "ANONYMIZED",
    "TM": "000000",
    "UC": "ANONYMIZED",
    "UT": "ANONYMIZED",
    "UR": "",
    "FL": 0.0,
    "FD": 0.0,
    "SL": 0,
    "SS": 0,
    "SV": 0,
    "UL": 0,
    "US": 0,
    "UV": 0,
    "OB": b"\x00\x00",
    "OD": b"\x00" * 8,
    "OF": b"\x00" * 4,
    "OL": b"\x00" * 4,
    "OV": b"\x00" * 8,
    "OW": b"\x00\x00",
    "UN": b"\x00\x00",
}


@dataclass
class DicomDeidReport:
    """What de-identification did, each entry a path such as
    ``ReferencedStudySequence[0].ReferencedSOPInstanceUID`` or ``(0009,1010)``."""

    removed: list[str] = field(default_factory=list)
    emptied: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    uids_remapped: list[str] = field(default_factory=list)
    dates_shifted: list[str] = field(default_factory=list)
    private_removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    date_offset_days: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "dicom",
            "profile": "PS3.15 E.1-1 basic",
            "methods": self.methods,
            "removed": self.removed,
            "emptied": self.emptied,
            "replaced": self.replaced,
            "uids_remapped": self.uids_remapped,
            "dates_shifted": self.dates_shifted,
            "private_removed": self.private_removed,
            "kept": self.kept,
            "flags": self.flags,
            "warnings": self.warnings,
            "date_offset_days": self.date_offset_days,
        }


def is_dicom(head: bytes) -> bool:
    """Whether ``head`` (the first 132+ bytes of a file) has the DICOM Part 10 preamble."""
    return len(head) >= 132 and head[128:132] == b"DICM"


def remap_uid(project_secret: bytes, uid: str) -> str:
    """``2.25.<int>`` from the first 128 bits of HMAC-SHA256(project_secret, uid)."""
    digest = hmac.new(project_secret, uid.strip("\x00 ").encode(), hashlib.sha256).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def patient_pseudonym(project_secret: bytes, patient_id: str) -> str:
    """A stable per-project pseudonym for a Patient ID (the profile's dummy D value)."""
    digest = hmac.new(
        project_secret, b"labelproof patient\x00" + patient_id.encode(), hashlib.sha256
    ).hexdigest()
    return f"LP-{digest[:16].upper()}"


def _date_offset(project_secret: bytes, patient_id: str) -> int:
    digest = hmac.new(
        project_secret, b"labelproof date shift\x00" + patient_id.encode(), hashlib.sha256
    ).digest()
    return 1 + int.from_bytes(digest[:8], "big") % 3650


def _shift_da(value: str, days: int) -> str:
    text = value.strip()
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"not a DA value: {value!r}")
    parsed = date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    return (parsed - timedelta(days=days)).strftime("%Y%m%d")


def _shift_dt(value: str, days: int) -> str:
    text = value.strip()
    if len(text) < 8:
        raise ValueError(f"DT value without a full date: {value!r}")
    return _shift_da(text[:8], days) + text[8:]


def _map_values(value: Any, fn: Callable[[str], str]) -> Any:
    if value is None or value == "":
        return value
    if isinstance(value, str | bytes):
        return fn(value.decode("ascii") if isinstance(value, bytes) else value)
    return [fn(str(v)) for v in value]


class _Walker:
    def __init__(self, secret: bytes, offset: int | None, report: DicomDeidReport) -> None:
        self.secret = secret
        self.offset = offset
        self.report = report

    @staticmethod
    def _name(elem: Any) -> str:
        keyword = getattr(elem, "keyword", "") or ""
        if keyword and not elem.tag.is_private:
            return str(keyword)
        return f"({elem.tag.group:04X},{elem.tag.element:04X})"

    def walk(self, ds: Any, prefix: str) -> None:
        for tag in list(ds.keys()):
            elem = ds[tag]
            path = prefix + self._name(elem)
            if elem.tag.is_private:
                del ds[tag]
                self.report.private_removed.append(path)
                continue
            rule = rule_for(int(elem.tag))
            if rule is None:
                if elem.VR == "SQ":
                    self._items(elem, path)
                self.report.kept.append(path)
                continue
            self._apply(ds, tag, elem, rule, path)

    def _items(self, elem: Any, path: str) -> None:
        for i, item in enumerate(elem.value or []):
            self.walk(item, f"{path}[{i}].")

    def _apply(self, ds: Any, tag: Any, elem: Any, rule: ProfileRule, path: str) -> None:
        report = self.report
        vr = elem.VR
        if self.offset is not None and rule.modify_dates and vr in ("DA", "DT", "TM"):
            if vr == "TM":
                report.kept.append(path)
                return
            shift = _shift_da if vr == "DA" else _shift_dt
            try:
                elem.value = _map_values(elem.value, lambda v: shift(v, self.offset or 0))
            except (ValueError, IndexError):
                elem.value = _DUMMY[vr]
                report.replaced.append(path)
                report.warnings.append(f"{path}: unparseable date replaced by a dummy")
            else:
                report.dates_shifted.append(path)
            return
        action = rule.effective
        if action == "X":
            del ds[tag]
            report.removed.append(path)
        elif action == "Z":
            if vr == "SQ":
                elem.value = []
            else:
                elem.value = "" if vr in _STRING_VRS else None
            report.emptied.append(path)
        elif action == "U" and vr != "SQ":
            elem.value = _map_values(elem.value, lambda v: remap_uid(self.secret, v))
            report.uids_remapped.append(path)
        elif vr == "SQ":  # D or U on a sequence: keep the items, de-identify inside them
            self._items(elem, path)
            report.replaced.append(path)
        elif vr == "UI":
            elem.value = _map_values(elem.value, lambda v: remap_uid(self.secret, v))
            report.uids_remapped.append(path)
        elif int(elem.tag) == PATIENT_ID and elem.value:
            elem.value = patient_pseudonym(self.secret, str(elem.value))
            report.replaced.append(path)
        else:
            elem.value = _DUMMY.get(vr, b"\x00\x00")
            report.replaced.append(path)


def _flag_burned_in(ds: Any, report: DicomDeidReport) -> None:
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        report.flags.append("BurnedInAnnotation=YES: pixels carry text; review before release")
    if str(ds.get("RecognizableVisualFeatures", "")).upper() == "YES":
        report.flags.append("RecognizableVisualFeatures=YES: a face may be recognisable")
    modality = str(ds.get("Modality", "")).upper()
    if modality in BURNED_IN_MODALITIES and "BurnedInAnnotation" not in ds:
        report.flags.append(
            f"Modality {modality} often has burned-in text and BurnedInAnnotation is absent:"
            " review the pixels"
        )


def _code_item(code: tuple[str, str, str]) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code
    return item


def deidentify_dataset(
    ds: Any, *, project_secret: bytes, shift_dates: bool = False
) -> DicomDeidReport:
    """De-identify a ``pydicom.Dataset`` in place; returns what was done.

    ``project_secret`` (at least 16 bytes) keys the UID remapping and the date offsets.
    """
    from pydicom.sequence import Sequence

    if len(project_secret) < 16:
        raise InvalidInput("the project secret must be at least 16 bytes", field="project_secret")
    report = DicomDeidReport()
    _flag_burned_in(ds, report)
    offset = None
    if shift_dates:
        offset = _date_offset(project_secret, str(ds.get("PatientID", "")))
        report.date_offset_days = -offset
    _Walker(project_secret, offset, report).walk(ds, "")

    meta = getattr(ds, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        if "SOPInstanceUID" in ds:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        else:
            meta.MediaStorageSOPInstanceUID = remap_uid(
                project_secret, str(meta.MediaStorageSOPInstanceUID)
            )
        report.uids_remapped.append("file_meta.MediaStorageSOPInstanceUID")

    codes = [BASIC_PROFILE] + ([MODIFIED_DATES] if shift_dates else [])
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = METHOD_TEXT + (" + modified dates" if shift_dates else "")
    ds.DeidentificationMethodCodeSequence = Sequence([_code_item(c) for c in codes])
    ds.LongitudinalTemporalInformationModified = "MODIFIED" if shift_dates else "REMOVED"
    report.methods = [f"{c[1]} {c[0]} {c[2]}" for c in codes]
    return report


def deidentify_dicom(
    data: bytes, *, project_secret: bytes, shift_dates: bool = False
) -> tuple[bytes, DicomDeidReport]:
    """De-identify a DICOM Part 10 file given as bytes; returns the new file and the report.

    Raises :class:`InvalidFile` when ``data`` is not readable DICOM (no preamble, truncated,
    corrupt). Reader warnings are kept in ``report.warnings``.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(io.BytesIO(data), force=False)
            for _ in ds.iterall():  # parse every element now, so corruption surfaces here
                pass
        except InvalidDicomError as exc:
            raise InvalidFile(f"not a DICOM file: {exc}", field="file") from None
        except (EOFError, ValueError, KeyError, OSError, TypeError, NotImplementedError) as exc:
            raise InvalidFile(
                f"corrupt or truncated DICOM file: {type(exc).__name__}: {exc}", field="file"
            ) from None
        report = deidentify_dataset(ds, project_secret=project_secret, shift_dates=shift_dates)
        out = io.BytesIO()
        try:
            ds.save_as(out, enforce_file_format=True)
        except (AttributeError, ValueError, TypeError, OSError) as exc:
            raise InvalidFile(f"cannot write the de-identified file: {exc}", field="file") from None
    report.warnings.extend(str(w.message) for w in caught)
    return out.getvalue(), report
