"""DICOM Segmentation (SEG) objects: masks per class over a DICOM series or multi-frame image.

Layout written: ``segmentation.dcm`` (``segmentation-<k>.dcm`` when the images come from
several sources), the source DICOM files hard-linked under their file names, and
``labelproof-dicomseg.json`` (image ids, file names, splits and sizes by SOP Instance UID
and frame, and the class of each segment label).

Writing (needs ``highdicom``): one BINARY SEG per source (a single-frame series, or a
multi-frame instance whose frames are images named ``<file>#<frame>``), one segment per
class, SegmentLabel = class name, segmented property category/type coded in SNOMED CT
(:mod:`labelproof.formats._dicomseg_codes`). Polygons, boxes and rotated boxes are
rasterised into masks; masks of one class on one image are merged (one segment per
class). Images that are not DICOM files are referenced through placeholder UIDs (see
:mod:`labelproof.formats._dicomseg_write`).

Reading (pydicom only): a SEG file, or every SEG in a folder, with the source images found
beside it; one ``mask`` per segment per referenced frame.
"""

from __future__ import annotations

from pathlib import Path

from labelproof.formats._dicomseg_files import (
    SEG_CLASSES,
    SIDECAR,
    has_dicm_magic,
    is_dicom_candidate,
    iter_dicom_files,
    read_header,
)
from labelproof.formats._dicomseg_read import read_path
from labelproof.formats._dicomseg_write import write_dataset
from labelproof.formats.model import Dataset
from labelproof.formats.report import LossReport

NAME = "dicomseg"
TITLE = "DICOM Segmentation (SEG) objects over a DICOM series or multi-frame image"
READS = frozenset({"mask"})
WRITES = frozenset({"mask"})
CARRIES = frozenset({"splits"})
TOLERANCE = 0.0
SEG_CONFIDENCE = 0.95
IMAGE_CONFIDENCE = 0.1
DETECT_ENTRIES = 5000
"""Folder entries a detection looks at before giving up."""


def _file_score(path: Path) -> float:
    if not (is_dicom_candidate(path) or has_dicm_magic(path)):
        return 0.0
    header = read_header(path, strict=False)
    if header is None:
        return 0.0
    return SEG_CONFIDENCE if str(header.SOPClassUID) in SEG_CLASSES else IMAGE_CONFIDENCE


def detect(path: Path) -> float:
    """0.95 for a SEG file or a folder holding one (or our sidecar); 0.1 for DICOM images."""
    if path.is_file():
        return _file_score(path)
    if not path.is_dir():
        return 0.0
    if (path / SIDECAR).is_file():
        return SEG_CONFIDENCE
    best = 0.0
    for p in iter_dicom_files(path, DETECT_ENTRIES):
        best = max(best, _file_score(p))
        if best >= SEG_CONFIDENCE:
            break
    return best


def read(path: Path) -> tuple[Dataset, LossReport]:
    """Read a SEG file or a folder of SEGs; InvalidDataset naming the file on bad input."""
    return read_path(path, NAME)


def write(dataset: Dataset, out_dir: Path) -> LossReport:
    """Write ``dataset`` into the folder ``out_dir`` as DICOM SEG (see the module docstring)."""
    return write_dataset(dataset, out_dir, NAME)
