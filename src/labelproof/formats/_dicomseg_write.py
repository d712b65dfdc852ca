"""Writing a Dataset as DICOM Segmentation objects with highdicom.

Images are grouped by their source: the single-frame DICOM instances of one series, one
multi-frame DICOM instance (images ``<file>#<frame>``), or, for images that are not DICOM
files, one *placeholder* group per image size. Each group becomes one BINARY SEG with one
segment per class (segment number = position in ``dataset.categories`` + 1). Placeholder
sources are in-memory Secondary Capture headers in pixel space (origin (0, 0, i), 1 mm
pixels, identity orientation) that are never written: the SEG references their generated
UIDs, and ``labelproof-dicomseg.json`` maps those UIDs back to the images.
"""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from labelproof.annotypes import get_type
from labelproof.errors import ConfigurationError, InvalidDataset
from labelproof.formats._cvat_rle import decode_coco
from labelproof.formats._dicomseg_codes import property_codes
from labelproof.formats._dicomseg_files import (
    SEG_CLASSES,
    SIDECAR,
    is_dicom_candidate,
    number_of_frames,
    read_header,
    split_frame,
)
from labelproof.formats._media import safe_relpath
from labelproof.formats.model import Annotation, Dataset, Image
from labelproof.formats.report import LossReport, where

MAX_LABEL = 64
"""SegmentLabel is a DICOM LO: at most 64 characters, no backslash or control characters."""
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
RASTERISED = ("polygon", "box", "rotated_box")


@dataclass
class _Target:
    """Where one image's masks go: a source instance, and its frame when multi-frame."""

    image: Image
    file: str
    """The source file's name in the output folder (the image name without ``#frame``)."""
    header: Any = None
    """The source's pydicom header; None for a placeholder."""
    frame: int | None = None
    placeholder: bool = False

    @property
    def sop_uid(self) -> str:
        return str(self.header.SOPInstanceUID)


def _target(im: Image) -> _Target:
    if im.path is None or not im.path.is_file() or not is_dicom_candidate(im.path):
        return _Target(im, im.file_name)
    hdr = read_header(im.path)
    what = f"image {im.id} ({im.file_name}): {im.path}"
    if str(hdr.SOPClassUID) in SEG_CLASSES:
        raise InvalidDataset(f"{what} is itself a segmentation, not a source image")
    if "Rows" not in hdr or "Columns" not in hdr or "SOPInstanceUID" not in hdr:
        raise InvalidDataset(f"{what} is a DICOM file without an image (no Rows/Columns)")
    if (int(hdr.Columns), int(hdr.Rows)) != (im.width, im.height):
        raise InvalidDataset(
            f"{what} is {hdr.Columns}x{hdr.Rows} px but the image says {im.width}x{im.height}"
        )
    frames = number_of_frames(hdr)
    base, frame = split_frame(im.file_name)
    if frames > 1:
        if frame is None or frame > frames:
            raise InvalidDataset(
                f"{what} has {frames} frames: name the frame as '<file>#<1..{frames}>' "
                f"(got {im.file_name!r})"
            )
        return _Target(im, base, hdr, frame)
    if frame not in (None, 1):
        raise InvalidDataset(f"{what} is single-frame; {im.file_name!r} names frame {frame}")
    return _Target(im, base if frame else im.file_name, hdr, None)


def _group_key(t: _Target) -> tuple[Any, ...]:
    if t.header is None:
        return ("placeholder", t.image.height, t.image.width)
    if t.frame is not None:
        return ("instance", t.sop_uid)
    return ("series", str(t.header.get("SeriesInstanceUID", "")))


def _placeholders(targets: list[_Target]) -> None:
    """Give each placeholder target an in-memory single-frame SC header of its own."""
    from pydicom.dataset import Dataset as DicomDataset
    from pydicom.uid import generate_uid

    study, series, frame_of_ref = generate_uid(), generate_uid(), generate_uid()
    for i, t in enumerate(targets):
        d = DicomDataset()
        d.SOPClassUID = SECONDARY_CAPTURE
        d.SOPInstanceUID = generate_uid()
        d.StudyInstanceUID, d.SeriesInstanceUID = study, series
        d.FrameOfReferenceUID = frame_of_ref
        d.Modality = "OT"
        for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex"):
            setattr(d, kw, "")
        for kw in ("StudyDate", "StudyTime", "StudyID", "AccessionNumber"):
            setattr(d, kw, "")
        d.ReferringPhysicianName = ""
        d.SeriesNumber, d.InstanceNumber = 1, i + 1
        d.Rows, d.Columns = t.image.height, t.image.width
        d.SamplesPerPixel, d.PhotometricInterpretation = 1, "MONOCHROME2"
        d.BitsAllocated, d.BitsStored, d.HighBit, d.PixelRepresentation = 8, 8, 7, 0
        d.PixelSpacing = [1.0, 1.0]
        d.SliceThickness = 1.0
        d.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        d.ImagePositionPatient = [0.0, 0.0, float(i)]
        t.header = d
        t.placeholder = True


def _bits(a: Annotation, im: Image, report: LossReport, ex: str) -> NDArray[np.bool_] | None:
    if a.type == "mask":
        return decode_coco(a.geometry["rle"])
    if a.type in RASTERISED:
        m = get_type(a.type).to_mask(a.geometry, im.size)
        if m is None:
            report.drop(f"{a.type}: cannot be rasterised", ex)
            return None
        report.approx(f"{a.type} rasterised into a mask", ex)
        return decode_coco(m["rle"])
    report.drop(f"{a.type}: no place in a DICOM SEG", ex)
    return None


def _segment_labels(dataset: Dataset, report: LossReport) -> list[str]:
    labels: list[str] = []
    for k, c in enumerate(dataset.categories):
        label = "".join(" " if ch == "\\" or ord(ch) < 32 else ch for ch in c.name)[:MAX_LABEL]
        if label in labels or not label.strip():
            label = f"{label[: MAX_LABEL - 8]}~{k + 1}"
        if label != c.name:
            report.approx("class name changed to fit SegmentLabel (sidecar keeps it)", c.name)
        labels.append(label)
    return labels


def write_dataset(dataset: Dataset, out_dir: Path, codec_name: str) -> LossReport:
    """Write ``dataset`` into ``out_dir``: SEG files, linked sources and the sidecar."""
    report = LossReport(codec_name, "write")
    targets = [_target(im) for im in dataset.images]
    groups: dict[tuple[Any, ...], list[_Target]] = defaultdict(list)
    for t in targets:
        groups[_group_key(t)].append(t)
    by_image = {t.image.id: t for t in targets}
    per: dict[int, list[Annotation]] = defaultdict(list)
    for a in dataset.iter_annotations():
        if a.image_id not in by_image:
            raise InvalidDataset(f"annotation {a.id}: unknown image id {a.image_id}")
        per[a.image_id].append(a)
    labels = _segment_labels(dataset, report)
    seg_of: dict[int, str] = {}
    names = ["segmentation.dcm"] if len(groups) == 1 else []
    names += [f"segmentation-{k + 1}.dcm" for k in range(len(groups))] if len(groups) > 1 else []
    for (key, members), name in zip(groups.items(), names, strict=True):
        if key[0] == "placeholder":
            _placeholders(members)
        if not dataset.categories:
            report.notes.append(f"no classes: no segmentation written for {len(members)} images")
            continue
        _write_group(dataset, members, per, labels, out_dir / name, report, len(seg_of) + 1)
        for t in members:
            seg_of[t.image.id] = name
    _place_sources(targets, out_dir, set(names))
    sidecar = {
        "version": 1,
        "categories": [
            {"id": c.id, "name": c.name, "segment_label": lab}
            for c, lab in zip(dataset.categories, labels, strict=True)
        ],
        "images": [
            {
                "id": t.image.id,
                "file_name": t.image.file_name,
                "width": t.image.width,
                "height": t.image.height,
                "split": t.image.split,
                "sop_instance_uid": t.sop_uid,
                "frame": t.frame,
                "segmentation": seg_of.get(t.image.id),
            }
            for t in targets
        ],
    }
    (out_dir / SIDECAR).write_bytes(orjson.dumps(sidecar, option=orjson.OPT_INDENT_2))
    report.images = len(dataset.images)
    return report


def _write_group(
    dataset: Dataset,
    members: list[_Target],
    per: dict[int, list[Annotation]],
    labels: list[str],
    path: Path,
    report: LossReport,
    series_number: int,
) -> None:
    try:
        import highdicom as hd
        from pydicom.uid import generate_uid
    except ImportError as exc:
        raise ConfigurationError(
            f"writing DICOM SEG needs highdicom ({exc}); pip install highdicom"
        ) from None
    first = members[0]
    multi = first.frame is not None
    if multi:
        sources = [first.header]
        n_frames = number_of_frames(first.header)
    else:
        sources = [t.header for t in members]
        uids = [t.sop_uid for t in members]
        if len(set(uids)) != len(uids):
            raise InvalidDataset(f"{first.image.path}: the same DICOM instance is two images")
        n_frames = len(members)
    h, w = first.image.height, first.image.width
    for t in members:
        if (t.image.height, t.image.width) != (h, w):
            raise InvalidDataset(
                f"image {t.image.id} ({t.image.file_name}) is {t.image.width}x{t.image.height} "
                f"px but image {first.image.id} of the same series is {w}x{h}: one SEG needs "
                "one frame size"
            )
    index = {c.id: k for k, c in enumerate(dataset.categories)}
    pixels = np.zeros((n_frames, h, w, len(labels)), dtype=bool)
    filled = np.zeros((n_frames, len(labels)), dtype=bool)
    for i, t in enumerate(members):
        frame = (t.frame - 1) if t.frame is not None else i
        for a in per.get(t.image.id, []):
            ex = where(t.image.id, t.image.file_name, a.id)
            name = labels[index[a.label]] if a.label in index else None
            if name is None:
                raise InvalidDataset(f"{ex}: unknown category id {a.label}")
            bits = _bits(a, t.image, report, ex)
            if bits is None:
                continue
            if bits.shape != (h, w):
                raise InvalidDataset(
                    f"{ex}: mask is {bits.shape[1]}x{bits.shape[0]} px, the image {w}x{h}"
                )
            if not bits.any():
                report.drop("empty mask: a SEG has no frame for it", ex)
                continue
            k = index[a.label]
            if filled[frame, k]:
                report.approx("merged with a mask of the same class on the same image", ex)
            else:
                report.count(a.type, dataset.categories[k].name)
            filled[frame, k] = True
            pixels[frame, :, :, k] |= bits
            _report_properties(a, report, ex)
    descriptions = []
    for k, label in enumerate(labels):
        category, kind = property_codes(dataset.categories[k].name)
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=k + 1,
                segment_label=label,
                segmented_property_category=hd.sr.CodedConcept(category[0], "SCT", category[1]),
                segmented_property_type=hd.sr.CodedConcept(kind[0], "SCT", kind[1]),
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            )
        )
    from labelproof import __version__

    try:
        seg = hd.seg.Segmentation(
            source_images=sources,
            pixel_array=pixels,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions,
            series_instance_uid=generate_uid(),
            series_number=series_number,
            sop_instance_uid=generate_uid(),
            instance_number=1,
            manufacturer="labelproof",
            manufacturer_model_name="labelproof",
            software_versions=__version__,
            device_serial_number="0",
            content_label="LABELPROOF",
            content_description=(dataset.name or None) and dataset.name[:64],
        )
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        where_ = first.image.path or first.image.file_name
        raise InvalidDataset(f"{where_}: highdicom refused these source images ({exc})") from None
    if h * w < 8:
        _repack_tiny_frames(seg, pixels, members, multi)
    seg.save_as(path)


def _repack_tiny_frames(
    seg: Any, pixels: NDArray[np.bool_], members: list[_Target], multi: bool
) -> None:
    """Re-pack the 1-bit PixelData of frames under 8 pixels contiguously, as DICOM requires.

    highdicom 0.28 pads each such frame to a whole byte (it tests ``rows * columns // 8``
    where ``% 8`` was meant), which both its own reader and pydicom then misread. The
    frames are rebuilt from the SEG's own frame references and ``pixels`` (F, h, w, K).
    """
    from pydicom.pixels.utils import pack_bits

    row = {t.sop_uid: i for i, t in enumerate(members)}
    planes = []
    for item in seg.PerFrameFunctionalGroupsSequence:
        ident = item.get("SegmentIdentificationSequence") or (
            seg.SharedFunctionalGroupsSequence[0].SegmentIdentificationSequence
        )
        k = int(ident[0].ReferencedSegmentNumber) - 1
        src = item.DerivationImageSequence[0].SourceImageSequence[0]
        frame = (
            int(src.ReferencedFrameNumber) - 1 if multi else row[str(src.ReferencedSOPInstanceUID)]
        )
        planes.append(pixels[frame, :, :, k].ravel())
    seg.PixelData = pack_bits(np.concatenate(planes).astype(np.uint8), pad=True)


def _report_properties(a: Annotation, report: LossReport, ex: str) -> None:
    for prop, set_ in (
        ("attributes", bool(a.attributes)),
        ("score", a.score is not None),
        ("occluded", a.occluded),
        ("z_order", a.z_order != 0),
        ("crowd", a.crowd),
        ("group", a.group is not None),
        ("track", a.track is not None),
    ):
        if set_:
            report.drop(f"{prop}: no place in a DICOM SEG", ex)


def _place_sources(targets: list[_Target], out_dir: Path, reserved: set[str]) -> None:
    """Hard-link (or copy) each DICOM source file into ``out_dir`` under its name, once."""
    done: set[str] = set()
    for t in targets:
        path = t.image.path
        if path is None or t.placeholder or t.file in done:
            continue
        rel = safe_relpath(t.file, f"image {t.image.id}")
        if rel.as_posix() in reserved or rel.as_posix() == SIDECAR:
            raise InvalidDataset(
                f"image {t.image.id}: file name {t.file!r} collides with the output's "
                f"{rel.as_posix()}"
            )
        dst = out_dir.joinpath(*rel.parts)
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dst)
        except OSError:
            shutil.copyfile(path, dst)
        done.add(t.file)
