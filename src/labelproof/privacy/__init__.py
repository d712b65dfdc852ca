"""Privacy: de-identification of DICOM (PS3.15 basic profile) and photos (metadata, faces).

Infrastructure layer: no web, no database. Each function returns the cleaned bytes and a
report of what it removed, replaced, kept and flagged, which the asset keeps. pydicom,
Pillow and OpenCV are imported by the functions that need them.
"""

from labelproof.privacy.batch import DeidOptions, deidentify_bytes, deidentify_path
from labelproof.privacy.dicom import (
    DicomDeidReport,
    deidentify_dataset,
    deidentify_dicom,
    remap_uid,
)
from labelproof.privacy.photo import PhotoDeidReport, Region, deidentify_photo

__all__ = [
    "DeidOptions",
    "DicomDeidReport",
    "PhotoDeidReport",
    "Region",
    "deidentify_bytes",
    "deidentify_dataset",
    "deidentify_dicom",
    "deidentify_path",
    "deidentify_photo",
    "remap_uid",
]
