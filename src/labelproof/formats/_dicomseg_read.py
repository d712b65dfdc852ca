"""Reading DICOM SEG files (and their source images, when present) into a Dataset.

Images: one per source instance (single-frame) or per source frame (multi-frame, file
name ``<file>#<frame>``). Their file names, ids and splits come from the sidecar
``labelproof-dicomseg.json`` when present, else from the source files found in the
folder, else from the SOP Instance UID (``<uid>.dcm``). Sizes are the SEG's Rows/Columns
(checked against the source files). Annotations: one ``mask`` per segment per referenced
frame, labelled with the segment label; empty frames give no annotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import validate
from labelproof.errors import InvalidDataset
from labelproof.formats._cvat_rle import encode_coco
from labelproof.formats._dicomseg_files import (
    SEG_CLASSES,
    SIDECAR,
    SourceFile,
    dicom_files,
    frame_name,
    number_of_frames,
    read_header,
)
from labelproof.formats._dicomseg_parse import SegFile, SegFrame, frame_pixels, parse_seg
from labelproof.formats._io import load_json
from labelproof.formats.model import Annotation, Category, Dataset, Image
from labelproof.formats.report import LossReport

Key = tuple[str, int | None]
"""(SOP Instance UID, 1-based frame number or None for a single-frame instance)."""


@dataclass
class _State:
    root: Path
    report: LossReport
    sources: dict[str, SourceFile]
    ds: Dataset = field(default_factory=Dataset)
    images: dict[Key, Image] = field(default_factory=dict)
    from_sidecar: bool = False
    labels: dict[str, Category] = field(default_factory=dict)
    masks: dict[tuple[int, int], NDArray[np.bool_]] = field(default_factory=dict)


def scan(path: Path) -> tuple[Path, list[Path], dict[str, SourceFile]]:
    """(folder, SEG files, source images by SOP Instance UID) for a file or folder path.

    A file path is read on its own (it must be a SEG); DICOM images beside it are its
    possible sources. In a folder every ``.dcm`` must parse; other files without the
    ``DICM`` magic are ignored.
    """
    root = path.parent if path.is_file() else path
    segs: list[Path] = [path] if path.is_file() else []
    sources: dict[str, SourceFile] = {}
    for p in dicom_files(root):
        if p == path:
            continue
        strict = path.is_dir() and p.suffix.lower() in (".dcm", ".dicom")
        header = read_header(p, strict=strict)
        if header is None:
            continue
        if str(header.SOPClassUID) in SEG_CLASSES:
            if path.is_dir():
                segs.append(p)
            continue
        if "Rows" not in header or "Columns" not in header:
            continue
        uid = str(header.get("SOPInstanceUID", ""))
        if uid and uid not in sources:
            sources[uid] = SourceFile(
                p,
                p.relative_to(root).as_posix(),
                uid,
                str(header.get("SeriesInstanceUID", "")),
                int(header.Rows),
                int(header.Columns),
                number_of_frames(header),
            )
    return root, segs, sources


def read_path(path: Path, codec_name: str) -> tuple[Dataset, LossReport]:
    """Read a SEG file or a folder of SEGs (with their sources and sidecar)."""
    root, seg_paths, sources = scan(path)
    st = _State(root, LossReport(codec_name, "read"), sources, Dataset(name=root.name))
    sidecar = root / SIDECAR
    if sidecar.is_file():
        _load_sidecar(st, sidecar)
    if not seg_paths and not st.from_sidecar:
        found = f" ({len(sources)} other DICOM images found)" if sources else ""
        raise InvalidDataset(
            f"{path}: no DICOM Segmentation file (SOP Class UID 1.2.840.10008.5.1.4.1.1.66.4)"
            f"{found}",
            field="input",
        )
    for p in seg_paths:
        seg = parse_seg(p)
        _add_seg(st, seg)
    order = {im.id: i for i, im in enumerate(st.ds.images)}
    by_id = st.ds.image_by_id()
    names = {c.id: c.name for c in st.ds.categories}
    for image_id, label in sorted(st.masks, key=lambda k: (order[k[0]], k[1])):
        im = by_id[image_id]
        g = validate("mask", {"rle": encode_coco(st.masks[image_id, label])}, image=im.size)
        st.ds.annotations.append(Annotation(image_id, "mask", label, g))
        st.report.count("mask", names[label])
    st.report.images = len(st.ds.images)
    st.report.notes.append(f"read {len(seg_paths)} segmentation file(s)")
    return st.ds, st.report


def _load_sidecar(st: _State, path: Path) -> None:
    doc = load_json(path)
    if not isinstance(doc, dict):
        raise InvalidDataset(f"{path}: must be a JSON object", field="input")
    for i, c in enumerate(doc.get("categories") or []):
        try:
            cat = Category(int(c["id"]), str(c["name"]))
            label = str(c.get("segment_label", cat.name))
        except (KeyError, TypeError, ValueError):
            raise InvalidDataset(f"{path}: categories[{i}] needs id and name") from None
        st.ds.categories.append(cat)
        st.labels[label] = cat
    for i, e in enumerate(doc.get("images") or []):
        try:
            frame = e.get("frame")
            key: Key = (str(e["sop_instance_uid"]), None if frame is None else int(frame))
            im = Image(
                int(e["id"]),
                str(e["file_name"]),
                int(e["width"]),
                int(e["height"]),
                str(e.get("split", "default")),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InvalidDataset(
                f"{path}: images[{i}] needs id, file_name, width, height and sop_instance_uid"
            ) from None
        if key in st.images:
            raise InvalidDataset(f"{path}: images[{i}]: source {key[0]} frame {key[1]} twice")
        src = st.sources.get(key[0])
        im.path = src.path if src else None
        st.images[key] = im
        st.ds.images.append(im)
    st.from_sidecar = True


def _check_frame(st: _State, seg: SegFile, f: SegFrame) -> Key:
    """The image key of frame ``f``; InvalidDataset when it points outside the sources."""
    where = f"{seg.path}: frame {f.number}"
    series = seg.referenced.get(f.sop_uid)
    if series is None:
        raise InvalidDataset(
            f"{where} references SOP Instance UID {f.sop_uid}, which the segmentation's "
            "ReferencedSeriesSequence does not list",
            field="input",
        )
    src = st.sources.get(f.sop_uid)
    if src is None:
        if any(s.series_uid == series for s in st.sources.values()):
            raise InvalidDataset(
                f"{where} references SOP Instance UID {f.sop_uid}, which is not in series "
                f"{series} in {st.root}",
                field="input",
            )
        if f.frame == 1 and (f.sop_uid, None) in st.images:
            return (f.sop_uid, None)
        return (f.sop_uid, f.frame)
    if (src.rows, src.columns) != (seg.rows, seg.columns):
        raise InvalidDataset(
            f"{where}: source {src.name} is {src.columns}x{src.rows} px, the segmentation "
            f"{seg.columns}x{seg.rows} (tiled or resampled segmentations are not supported)",
            field="input",
        )
    if src.frames == 1:
        if f.frame not in (None, 1):
            raise InvalidDataset(
                f"{where} references frame {f.frame} of {src.name}, a single-frame image",
                field="input",
            )
        return (f.sop_uid, None)
    if f.frame is None or not 1 <= f.frame <= src.frames:
        raise InvalidDataset(
            f"{where} references frame {f.frame} of {src.name}, which has {src.frames} frames",
            field="input",
        )
    return (f.sop_uid, f.frame)


def _new_image(st: _State, key: Key, seg: SegFile) -> Image:
    src = st.sources.get(key[0])
    name = frame_name(src.name if src else f"{key[0]}.dcm", key[1])
    im = Image(
        max((i.id for i in st.ds.images), default=0) + 1,
        name,
        seg.columns,
        seg.rows,
        path=src.path if src else None,
    )
    st.images[key] = im
    st.ds.images.append(im)
    return im


def _add_seg(st: _State, seg: SegFile) -> None:
    keys = [_check_frame(st, seg, f) for f in seg.frames]
    if not st.from_sidecar:
        framed = {k[0] for k in keys if k[1] is not None}
        for uid in seg.referenced:
            src = st.sources.get(uid)
            if src is not None and src.frames > 1:
                wanted: list[Key] = [(uid, n) for n in range(1, src.frames + 1)]
            elif src is None and uid in framed:
                wanted = sorted((k for k in set(keys) if k[0] == uid), key=lambda k: k[1] or 0)
            else:
                wanted = [(uid, None)]
            for k in wanted:
                if k not in st.images:
                    _new_image(st, k, seg)
    for k in keys:
        im = st.images.get(k) or _new_image(st, k, seg)
        if (im.width, im.height) != (seg.columns, seg.rows):
            raise InvalidDataset(
                f"{seg.path}: {im.file_name} is {im.width}x{im.height} px but the "
                f"segmentation's frames are {seg.columns}x{seg.rows}",
                field="input",
            )
    # in a label map, pixel value 0 (and a segment numbered 0, highdicom's "Background")
    # is background
    cats = {
        n: _category(st, label)
        for n, label in seg.segments.items()
        if n != 0 or seg.kind != "LABELMAP"
    }
    pixels = frame_pixels(seg)
    fractional = False
    for f, k, arr in zip(seg.frames, keys, pixels, strict=True):
        if not arr.any():
            continue
        im = st.images[k]
        if f.segment is None:
            for v in np.unique(arr).tolist():
                if v == 0:
                    continue
                if v not in cats:
                    raise InvalidDataset(
                        f"{seg.path}: frame {f.number}: pixel value {v} is not a segment number",
                        field="input",
                    )
                _put(st, im, cats[v].id, arr == v, seg, f)
            continue
        if seg.kind == "FRACTIONAL":
            bits = arr.astype(np.int64) * 2 >= seg.max_fractional
            fractional = fractional or bool(((arr > 0) & (arr < seg.max_fractional)).any())
        else:
            bits = arr != 0
        if bits.any():
            _put(st, im, cats[f.segment].id, bits, seg, f)
    if fractional:
        st.report.approx(
            "FRACTIONAL segmentation thresholded at half the maximum value", str(seg.path)
        )


def _category(st: _State, label: str) -> Category:
    cat = st.labels.get(label)
    if cat is None:
        cat = st.ds.ensure_category(label)
        st.labels[label] = cat
    return cat


def _put(st: _State, im: Image, label: int, bits: Any, seg: SegFile, f: SegFrame) -> None:
    prev = st.masks.get((im.id, label))
    if prev is not None:
        st.report.approx(
            "two frames label the same segment on one image: merged",
            f"{seg.path.name} frame {f.number} ({im.file_name})",
        )
        bits = prev | bits
    st.masks[(im.id, label)] = np.asarray(bits, dtype=bool)
