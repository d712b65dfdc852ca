"""Parsing one DICOM Segmentation file with pydicom: segments, frame references, pixels.

Reading needs pydicom only (highdicom is used to write). Functional group attributes are
looked up in the frame's Per-Frame Functional Groups item, then in the Shared Functional
Groups (writers put an attribute common to every frame there, e.g. the segment number of
a one-segment SEG).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.errors import InvalidDataset
from labelproof.formats._dicomseg_files import (
    LABELMAP_SEG_STORAGE,
    SEG_CLASSES,
    number_of_frames,
    sop_class_name,
)


@dataclass(frozen=True)
class SegFrame:
    """Frame ``number`` (1-based) of a SEG: its segment and the source frame it labels.

    ``segment`` is None in a label-map SEG (pixel value = segment number). ``frame`` is
    the source's 1-based frame number, None when the source is single-frame.
    """

    number: int
    segment: int | None
    sop_uid: str
    frame: int | None


@dataclass
class SegFile:
    """The parts of a SEG the reader uses."""

    path: Path
    dataset: Any
    rows: int
    columns: int
    kind: str
    """BINARY, FRACTIONAL or LABELMAP."""
    max_fractional: int = 1
    segments: dict[int, str] = field(default_factory=dict)
    """Segment number -> segment label."""
    referenced: dict[str, str] = field(default_factory=dict)
    """Referenced SOP Instance UID -> its Series Instance UID, in file order."""
    frames: list[SegFrame] = field(default_factory=list)


def _fail(path: Path, what: str) -> InvalidDataset:
    return InvalidDataset(f"{path}: {what}", field="input")


def _group_value(ds: Any, item: Any, keyword: str) -> Any:
    """``keyword``'s value in the per-frame item, else in the shared functional groups."""
    if item is not None and keyword in item:
        return item[keyword].value
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared and keyword in shared[0]:
        return shared[0][keyword].value
    return None


def _int(value: Any, path: Path, what: str) -> int:
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _fail(path, f"{what} is {value!r}, not an integer") from None


def parse_seg(path: Path) -> SegFile:
    """Parse the SEG at ``path``; InvalidDataset naming the file and what is wrong."""
    import pydicom

    try:
        ds = pydicom.dcmread(path)
        sop_class = str(ds.SOPClassUID)
    except Exception as exc:  # pydicom raises many kinds on damaged input
        raise _fail(path, f"not a readable DICOM file ({exc})") from None
    if sop_class not in SEG_CLASSES:
        raise _fail(
            path,
            f"not a DICOM Segmentation: SOP Class UID is {sop_class_name(sop_class)}, "
            f"expected {sop_class_name(sorted(SEG_CLASSES)[0])}",
        )
    if "TotalPixelMatrixRows" in ds:
        raise _fail(path, "tiled (whole-slide) segmentations are not supported")
    kind = "LABELMAP" if sop_class == LABELMAP_SEG_STORAGE else str(ds.get("SegmentationType", ""))
    if kind not in ("BINARY", "FRACTIONAL", "LABELMAP"):
        raise _fail(path, f"SegmentationType {kind!r} is not BINARY, FRACTIONAL or LABELMAP")
    seg = SegFile(
        path,
        ds,
        _int(ds.get("Rows"), path, "Rows"),
        _int(ds.get("Columns"), path, "Columns"),
        kind,
    )
    if kind == "FRACTIONAL":
        seg.max_fractional = _int(ds.get("MaximumFractionalValue"), path, "MaximumFractionalValue")
    for i, item in enumerate(ds.get("SegmentSequence") or []):
        number = _int(item.get("SegmentNumber"), path, f"SegmentSequence[{i}].SegmentNumber")
        if number in seg.segments:
            raise _fail(path, f"SegmentSequence[{i}]: segment number {number} appears twice")
        seg.segments[number] = str(item.get("SegmentLabel", "") or f"segment {number}")
    if not seg.segments:
        raise _fail(path, "SegmentSequence is empty: the segmentation has no segments")
    for s, series in enumerate(ds.get("ReferencedSeriesSequence") or []):
        series_uid = str(series.get("SeriesInstanceUID", ""))
        for j, inst in enumerate(series.get("ReferencedInstanceSequence") or []):
            uid = str(inst.get("ReferencedSOPInstanceUID", ""))
            if not uid:
                raise _fail(
                    path,
                    f"ReferencedSeriesSequence[{s}].ReferencedInstanceSequence[{j}] has no "
                    "ReferencedSOPInstanceUID",
                )
            seg.referenced[uid] = series_uid
    n = number_of_frames(ds) if "PixelData" in ds else 0
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    if len(per_frame) != n:
        raise _fail(
            path,
            f"NumberOfFrames is {n} but PerFrameFunctionalGroupsSequence has "
            f"{len(per_frame)} items",
        )
    for k in range(n):
        seg.frames.append(_frame(seg, per_frame[k], k + 1))
    return seg


def _frame(seg: SegFile, item: Any, number: int) -> SegFrame:
    path, ds = seg.path, seg.dataset
    segment: int | None = None
    if seg.kind != "LABELMAP":
        ident = _group_value(ds, item, "SegmentIdentificationSequence")
        if not ident:
            raise _fail(path, f"frame {number}: no SegmentIdentificationSequence")
        segment = _int(
            ident[0].get("ReferencedSegmentNumber"),
            path,
            f"frame {number}: ReferencedSegmentNumber",
        )
        if segment not in seg.segments:
            raise _fail(path, f"frame {number}: segment {segment} is not in SegmentSequence")
    derivation = _group_value(ds, item, "DerivationImageSequence")
    sources = derivation[0].get("SourceImageSequence") if derivation else None
    if not sources:
        raise _fail(
            path,
            f"frame {number}: no source image reference (DerivationImageSequence > "
            "SourceImageSequence); the frame cannot be placed on an image",
        )
    src = sources[0]
    uid = str(src.get("ReferencedSOPInstanceUID", ""))
    if not uid:
        raise _fail(path, f"frame {number}: source reference without ReferencedSOPInstanceUID")
    raw = src.get("ReferencedFrameNumber")
    frame = None if raw in (None, "") else _int(raw, path, f"frame {number}: ReferencedFrameNumber")
    return SegFrame(number, segment, uid, frame)


def frame_pixels(seg: SegFile) -> NDArray[Any]:
    """The SEG's frames as an (F, rows, columns) array of stored values (uint8/uint16)."""
    if not seg.frames:
        return np.zeros((0, seg.rows, seg.columns), np.uint8)
    try:
        arr = np.asarray(seg.dataset.pixel_array)
    except Exception as exc:  # damaged or truncated pixel data, unsupported compression
        raise _fail(seg.path, f"pixel data cannot be decoded ({exc})") from None
    arr = arr.reshape((-1, *arr.shape[-2:])) if arr.ndim == 2 else arr
    if arr.shape != (len(seg.frames), seg.rows, seg.columns):
        raise _fail(
            seg.path,
            f"pixel data has shape {arr.shape}, expected "
            f"{(len(seg.frames), seg.rows, seg.columns)}",
        )
    return arr
