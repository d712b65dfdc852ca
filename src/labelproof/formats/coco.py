"""COCO instances and keypoints JSON (``annotations/instances_<split>.json``).

Reads boxes, polygons (multi-part polygons become parts sharing a group), RLE masks
(compressed and uncompressed, ``iscrowd``), keypoints with skeletons (1-based COCO skeleton
edges become 0-based), predictions (``score``) and CVAT-style ``attributes`` (with
``occluded`` and box ``rotation``). Input: one JSON file, or a folder holding
``annotations/*.json`` (the split is the file name after ``instances_``/``person_keypoints_``).
"""

from __future__ import annotations

import re
from pathlib import Path

from labelproof.errors import InvalidDataset
from labelproof.formats._coco_read import CocoReader
from labelproof.formats._coco_write import write_coco
from labelproof.formats._io import sniff
from labelproof.formats.model import DEFAULT_SPLIT, Dataset
from labelproof.formats.report import LossReport

NAME = "coco"
TITLE = "COCO instances + keypoints JSON"
READS = frozenset({"box", "rotated_box", "polygon", "mask", "keypoints"})
WRITES = frozenset({"box", "rotated_box", "polygon", "mask", "keypoints"})
CARRIES = frozenset({"attributes", "occluded", "crowd", "score", "splits"})
TOLERANCE = 0.0

_SPLIT = re.compile(r"^(?:instances|person_keypoints|annotations)_(.+)$")


def _json_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    folder = path / "annotations" if (path / "annotations").is_dir() else path
    return sorted(p for p in folder.glob("*.json") if not p.name.startswith("labelproof-"))


def _looks_coco(head: bytes) -> bool:
    """The head names ``images`` and ``annotations`` or ``categories``, or image records
    (``file_name``): a big file's ``images`` array can fill the whole head, as in
    ``instances_train2017.json``, whose other keys come after it."""
    return b'"images"' in head and (
        b'"annotations"' in head or b'"categories"' in head or b'"file_name"' in head
    )


def detect(path: Path) -> float:
    """0.95 for a JSON file or annotations folder whose head names images and annotations."""
    files = _json_files(path) if path.exists() else []
    if not files:
        return 0.0
    head = sniff(files[0], 1 << 16)
    if not _looks_coco(head):
        return 0.0
    return 0.95 if path.is_dir() or b'"file_name"' in head else 0.8


def _split_of(path: Path) -> str:
    m = _SPLIT.match(path.stem)
    return m.group(1) if m else DEFAULT_SPLIT


def read(path: Path) -> tuple[Dataset, LossReport]:
    """Read a COCO file or folder. InvalidDataset names the file and record on bad input."""
    files = _json_files(path)
    if not files:
        raise InvalidDataset(f"{path}: no COCO JSON file found", field="input")
    ds = Dataset(name=path.stem)
    report = LossReport(NAME, "read")
    reader = CocoReader(ds, report)
    root = path if path.is_dir() else path.parent
    for f in files:
        split = _split_of(f) if len(files) > 1 or path.is_dir() else DEFAULT_SPLIT
        if split in {im.split for im in ds.images} and f.stem.startswith("person_keypoints"):
            report.notes.append(f"{f.name}: images of split {split!r} already read")
        images = root / "images" / split
        reader.read_file(f, split, images if images.is_dir() else root / "images")
    reader.finish()
    return ds, report


def write(dataset: Dataset, out_dir: Path) -> LossReport:
    """Write ``annotations/instances_<split>.json`` (and ``images/<split>/`` when known)."""
    report = LossReport(NAME, "write")
    write_coco(dataset, out_dir, report)
    return report
