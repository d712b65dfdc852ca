"""Mask PNG folders with a palette legend.

Layout: ``labelproof-palette.json`` (class index -> name and RGB colour; index 0 is the
background), ``semantic/<split>/<stem>.png`` (palette PNG, pixel = class index) and
``instance/<split>/<stem>.png`` (16-bit PNG, pixel = instance number, 0 = none) with
``instance/<split>/<stem>.json`` mapping each instance number to its class name.

Reading takes the instance folder when present (one mask per instance), else the semantic
one (one mask per class present in an image). Writing rasterises masks, polygons, boxes
and rotated boxes in ``z_order`` order: a later shape paints over an earlier one, and the
pixels lost that way are reported.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from labelproof.annotypes import get_type, validate
from labelproof.errors import InvalidDataset
from labelproof.formats._cvat_rle import decode_coco, encode_coco
from labelproof.formats._io import load_json
from labelproof.formats._media import safe_relpath
from labelproof.formats._palette import voc_color
from labelproof.formats.model import Annotation, Category, Dataset, Image
from labelproof.formats.report import LossReport, where

NAME = "masks"
TITLE = "Semantic / instance mask PNG folders with a palette legend"
READS = frozenset({"mask"})
WRITES = frozenset({"mask"})
CARRIES = frozenset({"splits"})
TOLERANCE = 0.0
PALETTE = "labelproof-palette.json"
MAX_INSTANCES = 65535


def detect(path: Path) -> float:
    if not path.is_dir():
        return 0.0
    if (path / PALETTE).is_file():
        return 0.95
    return 0.3 if (path / "semantic").is_dir() or (path / "instance").is_dir() else 0.0


def _color(i: int) -> list[int]:
    """A distinct colour per class index (Pascal VOC's bit-interleaved palette)."""
    return list(voc_color(i))


def read(path: Path) -> tuple[Dataset, LossReport]:
    from PIL import Image as PILImage

    legend = load_json(path / PALETTE) if (path / PALETTE).is_file() else None
    if not isinstance(legend, dict) or not isinstance(legend.get("classes"), list):
        raise InvalidDataset(f"{path / PALETTE}: missing or not an object with 'classes'")
    ds = Dataset(name=path.name)
    report = LossReport(NAME, "read")
    by_index: dict[int, Category] = {}
    for i, c in enumerate(legend["classes"]):
        try:
            idx, name = int(c["index"]), str(c["name"])
        except (KeyError, TypeError, ValueError):
            raise InvalidDataset(f"{path / PALETTE}: classes[{i}] needs index and name") from None
        if idx == 0:
            continue
        color = _rgb(c.get("color") or _color(idx), f"{path / PALETTE}: classes[{i}].color")
        cat = Category(idx, name, color=color)
        ds.categories.append(cat)
        by_index[idx] = cat
    by_name = {c.name: c for c in ds.categories}
    images_meta: dict[str, Any] = legend.get("images") or {}
    kind = "instance" if (path / "instance").is_dir() else "semantic"
    root = path / kind
    next_id = 1
    for png in sorted(root.rglob("*.png")):
        rel = png.relative_to(root)
        split = rel.parts[0] if len(rel.parts) > 1 else "default"
        stem = str(Path(*rel.parts[1:]).with_suffix("")) if len(rel.parts) > 1 else rel.stem
        meta = images_meta.get(f"{split}/{stem}") or {}
        try:
            with PILImage.open(png) as pim:
                arr = np.asarray(pim)
        except (OSError, ValueError) as exc:
            raise InvalidDataset(f"{png}: not a readable PNG ({exc})") from None
        if arr.ndim != 2:
            raise InvalidDataset(f"{png}: must be a single-channel (palette or 16-bit) PNG")
        h, w = arr.shape
        iid = int(meta.get("id", next_id))
        next_id = max(next_id, iid) + 1
        im = Image(iid, str(meta.get("file_name", f"{stem}.png")), w, h, split)
        ds.images.append(im)
        if kind == "instance":
            side = png.with_suffix(".json")
            owners = load_json(side) if side.is_file() else {}
            if not isinstance(owners, dict):
                raise InvalidDataset(f"{side}: must be an object of instance number -> class")
            for v in np.unique(arr).tolist():
                if v == 0:
                    continue
                owner = owners.get(str(v))
                inst_cat = by_name.get(owner) if isinstance(owner, str) else None
                if inst_cat is None:
                    raise InvalidDataset(f"{side}: instance {v} has no class in the legend")
                _add(ds, report, im, inst_cat, arr == v)
        else:
            for v in np.unique(arr).tolist():
                if v == 0:
                    continue
                sem_cat = by_index.get(v)
                if sem_cat is None:
                    raise InvalidDataset(f"{png}: pixel value {v} is not a class in {PALETTE}")
                _add(ds, report, im, sem_cat, arr == v)
    report.images = len(ds.images)
    report.notes.append(f"read the {kind} masks")
    return ds, report


def _rgb(value: Any, field: str) -> tuple[int, int, int]:
    """``value`` as an (r, g, b) triple of ints in [0, 255]; InvalidDataset otherwise."""
    if (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value)
    ):
        return (value[0], value[1], value[2])
    raise InvalidDataset(f"{field}: {value!r} is not [r, g, b] with 0..255 ints", field=field)


def _add(ds: Dataset, report: LossReport, im: Image, cat: Category, bits: Any) -> None:
    g = validate("mask", {"rle": encode_coco(bits)}, image=im.size)
    ds.annotations.append(Annotation(im.id, "mask", cat.id, g))
    report.count("mask", cat.name)


def write(dataset: Dataset, out_dir: Path) -> LossReport:
    from PIL import Image as PILImage

    report = LossReport(NAME, "write")
    index = {c.id: i + 1 for i, c in enumerate(dataset.categories)}
    names = {c.id: c.name for c in dataset.categories}
    per: dict[int, list[Annotation]] = defaultdict(list)
    for a in dataset.iter_annotations():
        per[a.image_id].append(a)
    meta: dict[str, Any] = {}
    for im in dataset.images:
        stem = str(safe_relpath(im.file_name, f"image {im.id}").with_suffix(""))
        meta[f"{im.split}/{stem}"] = {"id": im.id, "file_name": im.file_name}
        sem = np.zeros((im.height, im.width), np.uint8)
        inst = np.zeros((im.height, im.width), np.uint16)
        owners: dict[str, str] = {}
        anns = sorted(per.get(im.id, []), key=lambda a: a.z_order)
        k = 0
        for a in anns:
            ex = where(im.id, im.file_name, a.id)
            if a.type == "mask":
                bits = decode_coco(a.geometry["rle"])
            elif a.type in ("polygon", "box", "rotated_box"):
                m = get_type(a.type).to_mask(a.geometry, im.size)
                if m is None:
                    report.drop(f"{a.type}: cannot be rasterised", ex)
                    continue
                bits = decode_coco(m["rle"])
                report.approx(f"{a.type} rasterised into a mask", ex)
            else:
                report.drop(f"{a.type}: no place in mask PNGs", ex)
                continue
            k += 1
            if k > MAX_INSTANCES:
                report.drop("instance beyond 65535 in one image", ex)
                continue
            if (inst[bits] != 0).any():
                report.approx("overlapping shape: pixels painted over by a later one", ex)
            sem[bits] = index[a.label]
            inst[bits] = k
            owners[str(k)] = names[a.label]
            report.count(a.type, names[a.label])
            for prop, bad in (("attributes", a.attributes), ("score", a.score is not None)):
                if bad:
                    report.drop(f"{prop}: no place in mask PNGs", ex)
        for kind in ("semantic", "instance"):
            (out_dir / kind / im.split / stem).parent.mkdir(parents=True, exist_ok=True)
        pal = PILImage.fromarray(sem, mode="P")
        flat = [0, 0, 0] + [
            v
            for c in dataset.categories
            for v in (list(c.color) if c.color else _color(index[c.id]))
        ]
        pal.putpalette(flat + [0] * (768 - len(flat)))
        pal.save(out_dir / "semantic" / im.split / f"{stem}.png")
        PILImage.fromarray(inst).save(out_dir / "instance" / im.split / f"{stem}.png")
        (out_dir / "instance" / im.split / f"{stem}.json").write_bytes(orjson.dumps(owners))
    classes = [{"index": 0, "name": "background", "color": [0, 0, 0]}] + [
        {
            "index": index[c.id],
            "name": c.name,
            "color": list(c.color) if c.color else _color(index[c.id]),
        }
        for c in dataset.categories
    ]
    (out_dir / PALETTE).write_bytes(
        orjson.dumps({"classes": classes, "images": meta}, option=orjson.OPT_INDENT_2)
    )
    report.images = len(dataset.images)
    return report
