"""Ultralytics YOLO layout: ``data.yaml``, ``images/<split>/``, ``labels/<split>/*.txt``.

One task per dataset, chosen on write from the types present: ``pose`` (keypoints, with
``kpt_shape``), ``obb`` (rotated boxes as 4 corners), ``segment`` (polygons) or ``detect``
(boxes). Coordinates are normalised by the image size and written with 6 decimals.
Image sizes come from the image files, or from ``labelproof.images.json`` when the
dataset was written without pixels. ``data.yaml`` also records ``task``, ``kpt_names`` and
``skeleton`` (extra keys Ultralytics ignores).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from labelproof.annotypes import ImageSize, Skeleton, validate
from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.formats import _yaml
from labelproof.formats._io import decode_text, load_json, read_text
from labelproof.formats._media import IMAGE_EXTS, image_size_from_file
from labelproof.formats._yolo_write import SIDECAR, write_yolo
from labelproof.formats.model import Annotation, Category, Dataset, Image
from labelproof.formats.report import LossReport

NAME = "yolo"
TITLE = "Ultralytics YOLO (detect, segment, pose, OBB)"
READS = frozenset({"box", "rotated_box", "polygon", "keypoints"})
WRITES = frozenset({"box", "rotated_box", "polygon", "keypoints"})
CARRIES = frozenset({"splits"})
TOLERANCE = 1e-6 * 4096  # 6 decimals of a normalised coordinate, for images up to 4096 px
SLACK = 1e-6


def _yaml_file(path: Path) -> Path | None:
    for name in ("data.yaml", "dataset.yaml", "data.yml"):
        if (path / name).is_file():
            return path / name
    found = sorted(path.glob("*.yaml"))
    return found[0] if found else None


def detect(path: Path) -> float:
    if not path.is_dir():
        return 0.0
    has_labels = (path / "labels").is_dir()
    y = _yaml_file(path)
    if y is not None and has_labels:
        return 0.95
    if has_labels and any((path / "labels").rglob("*.txt")):
        return 0.6
    return 0.3 if y is not None and b"names" in y.read_bytes()[:4096] else 0.0


def _names(doc: dict[str, Any], path: Path) -> list[str]:
    names = doc.get("names")
    if isinstance(names, list):
        return [str(n) for n in names]
    if isinstance(names, dict):
        try:
            idx = sorted(int(k) for k in names)
        except (TypeError, ValueError):
            raise InvalidDataset(f"{path}: names: keys must be class indices") from None
        if idx != list(range(len(idx))):
            raise InvalidDataset(f"{path}: names: class indices must be 0..{len(idx) - 1}")
        return [str(names[k] if k in names else names[str(k)]) for k in idx]
    raise InvalidDataset(f"{path}: no 'names' list or mapping", field="names")


def read(path: Path) -> tuple[Dataset, LossReport]:
    y = _yaml_file(path)
    if y is None:
        raise InvalidDataset(f"{path}: no data.yaml", field="input")
    doc = _yaml.load(read_text(y), y)
    names = _names(doc, y)
    task = str(doc.get("task", ""))
    kpt_shape = doc.get("kpt_shape")
    skeleton = None
    if kpt_shape is not None:
        if not (isinstance(kpt_shape, list) and len(kpt_shape) == 2 and kpt_shape[1] in (2, 3)):
            raise InvalidDataset(f"{y}: kpt_shape must be [K, 2 or 3], got {kpt_shape!r}")
        k = int(kpt_shape[0])
        kp_names = doc.get("kpt_names")
        if isinstance(kp_names, dict):  # Ultralytics: {class: [names]}
            kp_names = next(iter(kp_names.values()), None)
        if not (isinstance(kp_names, list) and len(kp_names) == k):
            kp_names = [f"kp{i}" for i in range(k)]
        try:
            skeleton = Skeleton.from_json(
                {"keypoints": kp_names, "edges": doc.get("skeleton") or []}, field="skeleton"
            )
        except InvalidInput as exc:
            raise InvalidDataset(f"{y}: {exc.message}") from None
        task = task or "pose"
    cats = [Category(i + 1, n, skeleton) for i, n in enumerate(names)]
    ds = Dataset(name=path.name, categories=cats)
    report = LossReport(NAME, "read")
    sidecar: dict[str, Any] = {}
    if (path / SIDECAR).is_file():
        sidecar = load_json(path / SIDECAR)
    labels_root = path / "labels"
    splits = (
        sorted(p.name for p in labels_root.iterdir() if p.is_dir()) if labels_root.is_dir() else []
    )
    if not splits and labels_root.is_dir():
        splits = [""]
    next_id = 1
    for split in splits:
        lab_dir = labels_root / split if split else labels_root
        img_dir = path / "images" / split if split else path / "images"
        known = sidecar.get(split, {}) if isinstance(sidecar, dict) else {}
        stems: dict[str, tuple[str, Path | None]] = {}
        if img_dir.is_dir():
            for p in sorted(img_dir.rglob("*")):
                if p.suffix.lower() in IMAGE_EXTS and p.is_file():
                    rel = p.relative_to(img_dir).as_posix()
                    stems[str(Path(rel).with_suffix(""))] = (rel, p)
        for rel in known:
            stems.setdefault(str(Path(rel).with_suffix("")), (rel, None))
        for lab in sorted(lab_dir.rglob("*.txt")):
            stem = str(lab.relative_to(lab_dir).with_suffix(""))
            stems.setdefault(stem, (f"{stem}.jpg", None))
        for stem in sorted(stems):
            rel, img_path = stems[stem]
            size = None
            if rel in known:
                w, h = known[rel][0], known[rel][1]
                size = (int(w), int(h))
                iid = int(known[rel][2]) if len(known[rel]) > 2 else next_id
            else:
                iid = next_id
            if size is None and img_path is not None:
                size = image_size_from_file(img_path)
            lab = lab_dir / f"{stem}.txt"
            if size is None:
                raise InvalidDataset(
                    f"{lab}: image size unknown: no image file for {stem!r} and no {SIDECAR}"
                )
            next_id = max(next_id, iid) + 1
            im = Image(iid, rel, size[0], size[1], split or "default", img_path)
            ds.images.append(im)
            if lab.is_file():
                _read_labels(lab, im, ds, task, skeleton, report)
    report.images = len(ds.images)
    return ds, report


def _read_labels(
    lab: Path, im: Image, ds: Dataset, task: str, skeleton: Skeleton | None, report: LossReport
) -> None:
    text = decode_text(lab.read_bytes(), lab)
    W, H = im.width, im.height
    size = ImageSize(W, H)
    ncls = len(ds.categories)
    k = len(skeleton.keypoints) if skeleton is not None else 0
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        where = f"{lab}: line {n}"
        try:
            cls = int(parts[0])
            vals = [float(v) for v in parts[1:]]
        except ValueError:
            raise InvalidDataset(f"{where}: not numbers: {line.strip()[:80]!r}") from None
        if not 0 <= cls < ncls:
            raise InvalidDataset(f"{where}: class {cls} is not in names (0..{ncls - 1})")
        if any(not math.isfinite(v) for v in vals):
            raise InvalidDataset(f"{where}: NaN or infinity")
        cat = ds.categories[cls]
        m = len(vals)

        shape: tuple[str, dict[str, Any]]
        if task == "pose" and k:
            dims = (m - 4) // k if k else 0
            if m - 4 != dims * k or dims not in (2, 3):
                raise InvalidDataset(f"{where}: expected 4 + {k} x (2 or 3) values, got {m}")
            pts = []
            for j in range(k):
                base = 4 + j * dims
                v = int(vals[base + 2]) if dims == 3 else 2
                if v == 0:
                    pts.append([0.0, 0.0, 0])
                else:
                    pts.append(
                        [_px(vals[base], W, where), _px(vals[base + 1], H, where), min(v, 2)]
                    )
            shape = ("keypoints", {"points": pts})
        elif m == 4:
            cx, cy, bw, bh = (
                _px(vals[0], W, where),
                _px(vals[1], H, where),
                _px(vals[2], W, where),
                _px(vals[3], H, where),
            )
            box = {"x": max(cx - bw / 2, 0.0), "y": max(cy - bh / 2, 0.0), "w": bw, "h": bh}
            shape = ("box", box)
        elif m == 8 and task == "obb":
            xs = [_px(vals[2 * j], W, where) for j in range(4)]
            ys = [_px(vals[2 * j + 1], H, where) for j in range(4)]
            cx, cy = sum(xs) / 4, sum(ys) / 4
            w = math.hypot(xs[1] - xs[0], ys[1] - ys[0])
            h = math.hypot(xs[2] - xs[1], ys[2] - ys[1])
            ang = math.degrees(math.atan2(ys[1] - ys[0], xs[1] - xs[0]))
            shape = ("rotated_box", {"cx": cx, "cy": cy, "w": w, "h": h, "angle": ang})
        elif m >= 6 and m % 2 == 0:
            pts2 = [
                [_px(vals[2 * j], W, where), _px(vals[2 * j + 1], H, where)] for j in range(m // 2)
            ]
            shape = ("polygon", {"points": pts2})
        else:
            raise InvalidDataset(f"{where}: {m} coordinates is not a box, polygon or pose line")
        type_name, geometry = shape
        try:
            g = validate(type_name, geometry, image=size, skeleton=cat.skeleton)
        except InvalidInput as exc:
            raise InvalidDataset(f"{where}: {exc.message}") from None
        ds.annotations.append(Annotation(im.id, type_name, cat.id, g))
        report.count(type_name, cat.name)


def _px(v: float, scale: float, where: str) -> float:
    """Normalised ``v`` in px (clipped to [0, 1] within the slack); InvalidDataset beyond."""
    if v < -SLACK or v > 1 + SLACK:
        raise InvalidDataset(f"{where}: value {v} is outside [0, 1] (normalised)")
    return min(max(v, 0.0), 1.0) * scale


def write(dataset: Dataset, out_dir: Path) -> LossReport:
    report = LossReport(NAME, "write")
    write_yolo(dataset, out_dir, report)
    return report
