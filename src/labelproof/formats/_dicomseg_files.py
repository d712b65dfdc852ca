"""DICOM files for the ``dicomseg`` codec: recognising, scanning and naming them.

Frames of a multi-frame source image are images of their own in the model; their file
name is the source file's name with ``#<frame>`` appended (1-based frame number, e.g.
``enhanced_ct.dcm#3``). Single-frame instances keep the plain file name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelproof.errors import InvalidDataset

SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
"""Segmentation Storage SOP Class UID."""
LABELMAP_SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.7"
"""Label Map Segmentation Storage SOP Class UID (pixel value = segment number)."""
SEG_CLASSES = frozenset({SEG_STORAGE, LABELMAP_SEG_STORAGE})
SIDECAR = "labelproof-dicomseg.json"
DICOM_SUFFIXES = frozenset({".dcm", ".dicom", ".dic", ""})
MAX_SCAN = 100_000
"""Files looked at in one folder; more is refused rather than scanned for minutes."""

_FRAME = re.compile(r"^(.*)#([1-9][0-9]{0,8})$")


def has_dicm_magic(path: Path) -> bool:
    """True when ``path`` is a DICOM Part 10 file (``DICM`` after the 128-byte preamble)."""
    try:
        with path.open("rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def is_dicom_candidate(path: Path) -> bool:
    """Files worth parsing as DICOM: a DICOM suffix, or the ``DICM`` magic."""
    return path.suffix.lower() in (".dcm", ".dicom") or (
        path.suffix.lower() in DICOM_SUFFIXES and has_dicm_magic(path)
    )


def read_header(path: Path, *, strict: bool = True) -> Any:
    """The pydicom dataset of ``path`` without its pixel data.

    Raises InvalidDataset naming the file when it cannot be parsed (``strict``), or returns
    None (not ``strict``).
    """
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        sop_class = str(ds.SOPClassUID)
    except Exception as exc:  # pydicom raises many kinds on damaged input
        if not strict:
            return None
        raise InvalidDataset(f"{path}: not a readable DICOM file ({exc})", field="input") from None
    if not sop_class:
        if not strict:
            return None
        raise InvalidDataset(f"{path}: DICOM file without a SOP Class UID", field="input")
    return ds


def sop_class_name(uid: str) -> str:
    """``uid`` with its registered name where pydicom knows it (``CT Image Storage``)."""
    from pydicom.uid import UID

    name = UID(uid).name
    return f"{uid} ({name})" if name and name != uid else uid


def iter_dicom_files(root: Path, limit: int) -> Iterator[Path]:
    """DICOM candidate files under ``root``, unsorted, looking at no more than ``limit`` entries."""
    for i, p in enumerate(root.rglob("*")):
        if i >= limit:
            return
        if p.is_file() and not p.is_symlink() and is_dicom_candidate(p):
            yield p


def dicom_files(root: Path) -> list[Path]:
    """DICOM candidate files under ``root`` (recursively), sorted; InvalidDataset past MAX_SCAN."""
    out: list[Path] = []
    for i, p in enumerate(sorted(root.rglob("*"))):
        if i >= MAX_SCAN:
            raise InvalidDataset(f"{root}: more than {MAX_SCAN} files to scan", field="input")
        if p.is_file() and not p.is_symlink() and is_dicom_candidate(p):
            out.append(p)
    return out


def split_frame(file_name: str) -> tuple[str, int | None]:
    """(``file``, frame) from ``file#frame``; (file_name, None) without a frame suffix."""
    m = _FRAME.match(file_name)
    return (m.group(1), int(m.group(2))) if m else (file_name, None)


def frame_name(file_name: str, frame: int | None) -> str:
    """The model's file name of a frame (``file#3``) or of a single-frame instance."""
    return file_name if frame is None else f"{file_name}#{frame}"


@dataclass(frozen=True)
class SourceFile:
    """A DICOM image in the folder a segmentation was found in."""

    path: Path
    name: str
    """POSIX path relative to the folder."""
    sop_uid: str
    series_uid: str
    rows: int
    columns: int
    frames: int
    """NumberOfFrames (1 for single-frame instances)."""


def number_of_frames(ds: Any) -> int:
    """NumberOfFrames as an int (1 when absent or empty)."""
    value = ds.get("NumberOfFrames")
    try:
        return max(1, int(value)) if value not in (None, "") else 1
    except (TypeError, ValueError):
        return 1
