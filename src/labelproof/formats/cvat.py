"""CVAT for images 1.1 XML (``annotations.xml``).

Boxes (``rotation`` makes a rotated box), polygons, polylines, points (as keypoints of a
skeleton ``p0..pn-1`` per label), skeletons (keypoints; ``outside`` is v=0, ``occluded`` v=1),
masks (CVAT's row-major RLE over the mask's box), tags, attributes, ``z_order``,
``occluded``, ``group_id``, ``source`` and the image ``subset`` (split). Coordinates are
written with 2 decimals, as CVAT does. CVAT's 2D pseudo-cuboids hold no 3D geometry: they
are read as the convex hull polygon of their 8 points; 3D cuboids are not written.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from labelproof.annotypes import ImageSize, Skeleton, validate
from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.formats._cvat_rle import encode_coco, from_cvat
from labelproof.formats._cvat_write import write_cvat
from labelproof.formats._io import parse_xml, sniff
from labelproof.formats.model import Annotation, AttributeSpec, Category, Dataset, Image
from labelproof.formats.report import LossReport, where
from labelproof.geometry import convex_hull

NAME = "cvat"
TITLE = "CVAT for images 1.1 XML"
READS = frozenset({"box", "rotated_box", "polygon", "polyline", "mask", "keypoints", "tag"})
WRITES = READS
CARRIES = frozenset({"attributes", "z_order", "occluded", "group", "source", "splits"})
TOLERANCE = 0.01

_EDGE = re.compile(r'data-node-from="(\d+)"[^>]*?data-node-to="(\d+)"')
_SHAPES = ("box", "polygon", "polyline", "points", "mask", "cuboid", "tag", "skeleton")


def _xml_file(path: Path) -> Path | None:
    if path.is_file():
        return path if path.suffix.lower() == ".xml" else None
    for cand in (path / "annotations.xml", path / "default.xml"):
        if cand.is_file():
            return cand
    found = sorted(path.glob("*.xml"))
    return found[0] if len(found) == 1 else None


def detect(path: Path) -> float:
    f = _xml_file(path) if path.exists() else None
    if f is None:
        return 0.0
    head = sniff(f, 8192)
    if b"<annotations" in head and (b"<version>1.1" in head or b"<meta>" in head):
        return 0.95
    return 0.4 if b"<annotations" in head else 0.0


def _float(el: Any, key: str, where_: str) -> float:
    raw = el.get(key)
    try:
        v = float(raw)
    except (TypeError, ValueError):
        raise InvalidDataset(f"{where_}: attribute {key}={raw!r} is not a number") from None
    if not math.isfinite(v):
        raise InvalidDataset(f"{where_}: attribute {key}={raw!r} is not finite")
    return v


def _points(text: str | None, where_: str) -> list[list[float]]:
    try:
        pts = [[float(v) for v in p.split(",")] for p in (text or "").split(";") if p.strip()]
    except ValueError:
        raise InvalidDataset(f"{where_}: bad points {text!r}") from None
    if any(len(p) != 2 or not all(math.isfinite(v) for v in p) for p in pts):
        raise InvalidDataset(f"{where_}: points must be 'x,y;x,y;...', got {text!r}")
    return pts


def _labels(root: Any, ds: Dataset) -> None:
    labels = root.findall("./meta/task/labels/label") or root.findall("./meta/project/labels/label")
    parents: dict[str, list[str]] = {}
    svgs: dict[str, str] = {}
    for lab in labels:
        name = (lab.findtext("name") or "").strip()
        if not name:
            continue
        parent = (lab.findtext("parent") or "").strip()
        if parent:
            parents.setdefault(parent, []).append(name)
            continue
        specs = []
        for at in lab.findall("./attributes/attribute"):
            values = tuple(v for v in (at.findtext("values") or "").split("\n") if v)
            specs.append(
                AttributeSpec(
                    name=(at.findtext("name") or "").strip(),
                    kind=(at.findtext("input_type") or "text").strip(),
                    values=values,
                    default=at.findtext("default_value") or "",
                    mutable=(at.findtext("mutable") or "").strip().lower() == "true",
                )
            )
        color = None
        c = (lab.findtext("color") or "").strip()
        if re.fullmatch(r"#[0-9a-fA-F]{6}", c):
            color = (int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16))
        cat = Category(ds.next_category_id(), name, None, tuple(specs), color=color)
        ds.categories.append(cat)
        if (lab.findtext("type") or "") == "skeleton":
            svgs[name] = lab.findtext("svg") or ""
    for cat in ds.categories:
        if cat.name in parents:
            edges = [[int(a) - 1, int(b) - 1] for a, b in _EDGE.findall(svgs.get(cat.name, ""))]
            cat.skeleton = Skeleton.from_json(
                {"keypoints": parents[cat.name], "edges": edges, "name": cat.name}
            )


def read(path: Path) -> tuple[Dataset, LossReport]:
    f = _xml_file(path)
    if f is None:
        raise InvalidDataset(f"{path}: no CVAT annotations.xml found", field="input")
    root = parse_xml(f)
    if root.tag != "annotations":
        raise InvalidDataset(f"{f}: root element is <{root.tag}>, not <annotations>")
    ds = Dataset(name=f.parent.name)
    report = LossReport(NAME, "read")
    _labels(root, ds)
    by_name = {c.name: c for c in ds.categories}
    images_dir = f.parent / "images"
    for n, im_el in enumerate(root.iter("image")):
        w_ = f"{f}: <image> #{n + 1}"
        try:
            iid = int(im_el.get("id", n))
            W, H = int(im_el.get("width")), int(im_el.get("height"))
        except (TypeError, ValueError):
            raise InvalidDataset(f"{w_}: id, width and height must be integers") from None
        name = im_el.get("name") or ""
        if not name or W <= 0 or H <= 0:
            raise InvalidDataset(f"{w_}: needs a name and a positive width and height")
        p = images_dir / name
        im = Image(iid, name, W, H, im_el.get("subset") or "default", p if p.is_file() else None)
        ds.images.append(im)
        for el in im_el:
            if el.tag not in _SHAPES:
                continue
            _shape(el, im, ds, by_name, report, f"{w_} ({name}), <{el.tag}>")
    report.images = len(ds.images)
    if len({im.id for im in ds.images}) != len(ds.images):
        raise InvalidDataset(f"{f}: image ids repeat")
    return ds, report


def _attributes(el: Any, cat: Category) -> dict[str, Any]:
    kinds = {a.name: a.kind for a in cat.attributes}
    out: dict[str, Any] = {}
    for at in el.findall("attribute"):
        key, text = at.get("name") or "", at.text or ""
        kind = kinds.get(key)
        if kind == "checkbox":
            out[key] = text.strip().lower() == "true"
        elif kind == "number":
            try:
                out[key] = float(text)
            except ValueError:
                out[key] = text
        else:
            out[key] = text
    return out


def _shape(
    el: Any, im: Image, ds: Dataset, by_name: dict[str, Category], report: LossReport, w_: str
) -> None:
    label = el.get("label") or ""
    cat = by_name.get(label)
    if cat is None:
        raise InvalidDataset(f"{w_}: label {label!r} is not declared in <meta>")
    size = ImageSize(im.width, im.height)
    group = el.get("group_id")
    common: dict[str, Any] = {
        "attributes": _attributes(el, cat),
        "z_order": int(el.get("z_order") or 0),
        "occluded": el.get("occluded") == "1",
        "group": int(group) if group not in (None, "", "0") else None,
        "source": el.get("source") or "manual",
    }

    def add(type_name: str, geometry: dict[str, Any]) -> None:
        try:
            g = validate(type_name, geometry, image=size, skeleton=cat.skeleton)
        except InvalidInput as exc:
            raise InvalidDataset(f"{w_}: {exc.message}") from None
        ds.annotations.append(Annotation(im.id, type_name, cat.id, g, **common))
        report.count(type_name, cat.name)

    tag = el.tag
    if tag == "box":
        x0, y0 = _float(el, "xtl", w_), _float(el, "ytl", w_)
        x1, y1 = _float(el, "xbr", w_), _float(el, "ybr", w_)
        rot = float(el.get("rotation") or 0.0)
        if rot:
            ang = ((rot + 180.0) % 360.0) - 180.0
            add(
                "rotated_box",
                {
                    "cx": (x0 + x1) / 2,
                    "cy": (y0 + y1) / 2,
                    "w": x1 - x0,
                    "h": y1 - y0,
                    "angle": ang,
                },
            )
        else:
            add("box", {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0})
    elif tag in ("polygon", "polyline"):
        add(tag, {"points": _points(el.get("points"), w_)})
    elif tag == "tag":
        add("tag", {})
    elif tag == "mask":
        try:
            counts = [int(v) for v in (el.get("rle") or "").split(",") if v.strip()]
            left, top, width, height = (
                int(float(el.get(k) or "x")) for k in ("left", "top", "width", "height")
            )
            bits = from_cvat(counts, left, top, width, height, im.width, im.height)
        except ValueError as exc:
            raise InvalidDataset(f"{w_}: bad mask rle ({exc})") from None
        add("mask", {"rle": encode_coco(bits)})
    elif tag == "points":
        pts = _points(el.get("points"), w_)
        if cat.skeleton is None:
            cat.skeleton = Skeleton(tuple(f"p{i}" for i in range(len(pts))), (), cat.name)
        if len(cat.skeleton.keypoints) != len(pts):
            report.drop(
                "points shape whose point count differs from its label's",
                where(im.id, im.file_name),
            )
            return
        add("keypoints", {"points": [[x, y, 2] for x, y in pts]})
    elif tag == "skeleton":
        if cat.skeleton is None:
            raise InvalidDataset(f"{w_}: label {label!r} is not a skeleton in <meta>")
        found = {p.get("label"): p for p in el.findall("points")}
        pts3: list[list[float | int]] = []
        for kp in cat.skeleton.keypoints:
            p = found.get(kp)
            if p is None or p.get("outside") == "1":
                pts3.append([0.0, 0.0, 0])
                continue
            xy = _points(p.get("points"), w_)
            if len(xy) != 1:
                raise InvalidDataset(f"{w_}: keypoint {kp!r} needs exactly one point")
            pts3.append([xy[0][0], xy[0][1], 1 if p.get("occluded") == "1" else 2])
        add("keypoints", {"points": pts3})
    elif tag == "cuboid":
        pts8 = []
        for n in (1, 2):
            for c in ("tl", "bl", "tr", "br"):
                pts8.append([_float(el, f"x{c}{n}", w_), _float(el, f"y{c}{n}", w_)])
        hull = convex_hull(np.asarray(pts8))
        add("polygon", {"points": np.asarray(hull).tolist()})
        report.approx("CVAT 2D cuboid read as its convex hull polygon", where(im.id, im.file_name))


def write(dataset: Dataset, out_dir: Path) -> LossReport:
    report = LossReport(NAME, "write")
    write_cvat(dataset, out_dir, report)
    return report
