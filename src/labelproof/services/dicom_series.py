"""A DICOM series in one archive upload becomes one scrollable stack.

The single-frame instances of one CT, MR or PET series (same de-identified series, size,
photometric interpretation, bits and orientation, uncompressed, at least two) are combined
into one Legacy Converted Enhanced image by highdicom (:func:`combine_series`), frames
along the slice normal, UIDs keyed by the project's DICOM secret; the stack then goes
through the same checks as any DICOM upload (services/dicom.py).
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from labelproof.errors import FileTooLarge, InvalidFile
from labelproof.services.context import Runtime
from labelproof.services.dicom import (
    DICOM_MEDIA_TYPE,
    _first,
    _frames_of,
    _secret_for,
    inspect_dicom,
)

if TYPE_CHECKING:
    from labelproof.services.assets import CheckedUpload

__all__ = ["STACK_MODALITIES", "combine_series", "merge_deid_reports"]

#: Modalities whose single-frame instances are combined, with the legacy SOP class each
#: must have (CT/MR/PET Image Storage) and the highdicom legacy converter's name.
STACK_MODALITIES: dict[str, tuple[str, str]] = {
    "CT": ("1.2.840.10008.5.1.4.1.1.2", "LegacyConvertedEnhancedCTImage"),
    "MR": ("1.2.840.10008.5.1.4.1.1.4", "LegacyConvertedEnhancedMRImage"),
    "PT": ("1.2.840.10008.5.1.4.1.1.128", "LegacyConvertedEnhancedPETImage"),
}
#: Only uncompressed members are combined (the stack is written uncompressed).
_NATIVE_SYNTAXES = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"})
_STACK_SERIES = "labelproof stack series\x00"
_STACK_INSTANCE = "labelproof stack instance\x00"
#: Data Set Trailing Padding (FFFC,FFFC): the converter would copy it into a functional
#: group item, where dcmjs (the browser viewer's parser) stops reading the file.
_TRAILING_PADDING = 0xFFFCFFFC


def _stack_key(path: Path) -> tuple[Any, ...] | None:
    """What members of one stack share, or None when this file is no stack member."""
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # checked already; anything odd simply stays a separate asset
            return None
    modality = str(ds.get("Modality", "")).strip()
    series = str(ds.get("SeriesInstanceUID", "")).strip()
    syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", ""))
    if (
        modality not in STACK_MODALITIES
        or str(ds.get("SOPClassUID", "")) != STACK_MODALITIES[modality][0]
        or not series
        or _frames_of(ds) != 1
        or syntax not in _NATIVE_SYNTAXES
    ):
        return None
    orientation = ds.get("ImageOrientationPatient")
    iop = None
    if orientation is not None and len(orientation) == 6:
        values = [_first([v]) for v in orientation]
        if all(v is not None for v in values):
            iop = tuple(round(float(v), 4) for v in values if v is not None)
    return (
        series,
        modality,
        int(ds.Rows),
        int(ds.Columns),
        str(ds.PhotometricInterpretation).strip(),
        int(ds.BitsAllocated),
        int(ds.get("BitsStored", ds.BitsAllocated)),
        int(ds.get("PixelRepresentation", 0)),
        int(ds.get("SamplesPerPixel", 1)),
        iop,
    )


def _stack_order(datasets: list[Any]) -> list[int]:
    """Indices of ``datasets`` along the stack: ImagePositionPatient projected on the slice
    normal (row x column direction of ImageOrientationPatient) when every member has both,
    else InstanceNumber; ties keep the archive's order."""

    def instance(ds: Any) -> float:
        number = _first(ds.get("InstanceNumber"))
        return math.inf if number is None else number

    positions: list[float] = []
    for ds in datasets:
        iop, ipp = ds.get("ImageOrientationPatient"), ds.get("ImagePositionPatient")
        if iop is None or ipp is None or len(iop) != 6 or len(ipp) != 3:
            break
        o = [_first([v]) for v in iop]
        p = [_first([v]) for v in ipp]
        if any(v is None for v in o + p):
            break
        normal = np.cross(np.array(o[:3], dtype=float), np.array(o[3:], dtype=float))
        positions.append(float(np.dot(normal, np.array(p, dtype=float))))
    if len(positions) == len(datasets):
        return sorted(range(len(datasets)), key=lambda i: (positions[i], instance(datasets[i]), i))
    return sorted(range(len(datasets)), key=lambda i: (instance(datasets[i]), i))


def merge_deid_reports(reports: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The members' de-identification reports as one: path lists united (first seen order),
    counts summed, flags and ``burned_in`` OR-ed, ``series_members`` = the member count."""
    present = [r for r in reports if r is not None]
    if not present:
        return None
    merged: dict[str, Any] = {}
    for report in present:
        for key, value in report.items():
            if isinstance(value, list):
                kept = merged.setdefault(key, [])
                kept.extend(v for v in value if v not in kept)
            elif key == "counts" and isinstance(value, dict):
                counts = merged.setdefault(key, {})
                for name, n in value.items():
                    counts[name] = counts.get(name, 0) + int(n)
            elif isinstance(value, bool):
                merged[key] = bool(merged.get(key, False)) or value
            elif merged.get(key) is None:
                merged[key] = value
    merged["series_members"] = len(reports)
    return merged


def combine_series(
    rt: Runtime, uploads: list[CheckedUpload], policy: Any, *, archive: str
) -> list[CheckedUpload]:
    """Checked uploads with each DICOM series of single-frame instances made one stack.

    Members of one series (same SeriesInstanceUID after de-identification, same size,
    photometric interpretation, bits and orientation; modality CT, MR or PT with its legacy
    SOP class; uncompressed), at least two of them, become one Legacy Converted Enhanced
    CT/MR/PET image (highdicom), frames ordered along the stack (:func:`_stack_order`). Its
    series and instance UIDs are keyed hashes of the project secret and the source series
    (the instance's also of the members' SOP instance UIDs), so a re-upload gives the same
    UIDs in this project and unrelated ones in another. The stack is checked like any DICOM
    upload (:func:`inspect_dicom`: pixel budget, decoding, ``media_meta``), and its report is
    :func:`merge_deid_reports` of the members'. Everything else is returned unchanged, in
    the archive's order (a stack where its first member was).

    The members' staging copies stay the caller's to discard; a stack's new staging copy
    belongs to the returned upload (discarded here on error). A series that cannot be
    combined refuses the archive (InvalidFile naming the series and its first member).
    """
    from labelproof.privacy.dicom import remap_uid

    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, upload in enumerate(uploads):
        if upload.info.media_type != DICOM_MEDIA_TYPE or upload.frames != 1:
            continue
        key = _stack_key(upload.staged.path)
        if key is not None:
            groups.setdefault(key, []).append(i)
    groups = {k: v for k, v in groups.items() if len(v) >= 2}
    if not groups:
        return list(uploads)
    secret = _secret_for(rt, policy)
    made: dict[int, CheckedUpload] = {}  # first member's index -> the stack
    members: set[int] = set()
    try:
        for key, indices in groups.items():
            stack = _make_stack(rt, [uploads[i] for i in indices], key, secret, archive, remap_uid)
            made[indices[0]] = stack
            members.update(indices)
    except BaseException:
        for stack in made.values():
            rt.blobs.discard(stack.staged)
        raise
    out: list[CheckedUpload] = []
    for i, upload in enumerate(uploads):
        if i in made:
            out.append(made[i])
        elif i not in members:
            out.append(upload)
    return out


def _make_stack(
    rt: Runtime,
    group: list[CheckedUpload],
    key: tuple[Any, ...],
    secret: bytes,
    archive: str,
    remap_uid: Any,
) -> CheckedUpload:
    import highdicom
    import pydicom

    from labelproof.services.assets import CheckedUpload

    series, modality = str(key[0]), str(key[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        datasets = [pydicom.dcmread(u.staged.path) for u in group]
    for ds in datasets:  # copied into a sequence item, it ends the file for some readers
        if _TRAILING_PADDING in ds:
            del ds[_TRAILING_PADDING]
        # implicit and explicit VR members mix: both are native pixels, the stack is explicit
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    order = _stack_order(datasets)
    datasets = [datasets[i] for i in order]
    group = [group[i] for i in order]
    first = group[0].info.filename
    new_series = remap_uid(secret, _STACK_SERIES + series)
    sops = ",".join(sorted(str(ds.SOPInstanceUID) for ds in datasets))
    new_sop = remap_uid(secret, _STACK_INSTANCE + series + "\x00" + sops)
    number = _first(datasets[0].get("SeriesNumber"))
    converter = getattr(highdicom.legacy, STACK_MODALITIES[modality][1])
    what = f"{archive}: the DICOM series {series} ({len(group)} instances, first {first})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stack = converter(
                datasets,
                series_instance_uid=new_series,
                series_number=int(number) if number is not None and number >= 0 else 1,
                sop_instance_uid=new_sop,
                instance_number=1,
                include_dimension_index=False,  # our order: along the slice normal
            )
            buf = io.BytesIO()
            stack.save_as(buf, enforce_file_format=True)
    except Exception as exc:  # the converter raises many kinds on inconsistent members
        raise InvalidFile(
            f"{what} could not be combined into one multi-frame image "
            f"({type(exc).__name__}: {exc})",
            field="file",
        ) from None
    data = buf.getvalue()
    name = f"{Path(first).stem}-stack{len(group)}.dcm"
    staged = rt.blobs.stage(
        io.BytesIO(data), max_bytes=max(rt.settings.max_upload_bytes, len(data))
    )
    try:
        facts = inspect_dicom(staged.path, filename=name, max_pixels=rt.settings.max_pixels)
    except InvalidFile as exc:
        rt.blobs.discard(staged)
        raise InvalidFile(f"{what}: the combined image: {exc.message}", field="file") from None
    except FileTooLarge as exc:
        rt.blobs.discard(staged)
        raise FileTooLarge(f"{what}: {exc.message}", field="file") from None
    except BaseException:
        rt.blobs.discard(staged)
        raise
    return CheckedUpload(
        staged=staged,
        info=facts.info,
        frames=facts.frames,
        deid=merge_deid_reports([u.deid for u in group]),
    )
