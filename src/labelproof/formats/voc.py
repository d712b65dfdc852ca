"""Pascal VOC detection: ``Annotations/<stem>.xml``, ``ImageSets/Main/<split>.txt``,
``JPEGImages/``.

Objects carry ``name``, ``bndbox`` (``xmin ymin xmax ymax`` in px, no offset, as Datumaro
reads them), ``difficult``, ``truncated``, ``occluded``, ``pose`` and other attributes in an
``<attributes>`` list (Datumaro's extension). Only boxes: everything else is dropped.
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import escape

from labelproof.annotypes import validate
from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.formats._io import parse_xml, read_text
from labelproof.formats._media import place_image, safe_relpath
from labelproof.formats.model import Annotation, Category, Dataset, Image
from labelproof.formats.report import LossReport, where

NAME = "voc"
TITLE = "Pascal VOC detection XML"
READS = frozenset({"box"})
WRITES = frozenset({"box"})
CARRIES = frozenset({"attributes", "occluded", "splits"})
TOLERANCE = 0.0
_FLAGS = ("difficult", "truncated")


def detect(path: Path) -> float:
    if not path.is_dir() or not (path / "Annotations").is_dir():
        return 0.0
    return 0.9 if (path / "ImageSets").is_dir() else 0.7


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def read(path: Path) -> tuple[Dataset, LossReport]:
    ann_dir = path / "Annotations"
    if not ann_dir.is_dir():
        raise InvalidDataset(f"{path}: no Annotations folder", field="input")
    ds = Dataset(name=path.name)
    report = LossReport(NAME, "read")
    split_of: dict[str, str] = {}
    main = path / "ImageSets" / "Main"
    if main.is_dir():
        for lst in sorted(main.glob("*.txt")):
            if "_" in lst.stem:
                continue  # per-class lists
            for line in read_text(lst).splitlines():
                if line.strip():
                    split_of.setdefault(line.split()[0], lst.stem)
    cats: dict[str, Category] = {}
    for n, xml in enumerate(sorted(ann_dir.rglob("*.xml")), start=1):
        root = parse_xml(xml)
        stem = str(xml.relative_to(ann_dir).with_suffix(""))
        try:
            W = int(float(root.findtext("size/width") or "x"))
            H = int(float(root.findtext("size/height") or "x"))
        except ValueError:
            raise InvalidDataset(f"{xml}: size/width and size/height must be numbers") from None
        if W <= 0 or H <= 0:
            raise InvalidDataset(f"{xml}: image size {W}x{H} must be positive")
        fname = root.findtext("filename") or f"{stem}.jpg"
        img_path = path / "JPEGImages" / fname
        im = Image(
            n, fname, W, H, split_of.get(stem, "default"), img_path if img_path.is_file() else None
        )
        ds.images.append(im)
        for k, obj in enumerate(root.findall("object")):
            w_ = f"{xml}: <object> #{k + 1}"
            name = (obj.findtext("name") or "").strip()
            if not name:
                raise InvalidDataset(f"{w_}: no <name>")
            cat = cats.get(name) or ds.ensure_category(name)
            cats[name] = cat
            try:
                vals = [
                    float(obj.findtext(f"bndbox/{t}") or "x")
                    for t in ("xmin", "ymin", "xmax", "ymax")
                ]
            except ValueError:
                raise InvalidDataset(f"{w_}: bndbox needs numeric xmin, ymin, xmax, ymax") from None
            if not all(math.isfinite(v) for v in vals):
                raise InvalidDataset(f"{w_}: bndbox is not finite")
            x0, y0, x1, y1 = vals
            try:
                g = validate("box", {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}, image=im.size)
            except InvalidInput as exc:
                raise InvalidDataset(f"{w_}: {exc.message}") from None
            attrs: dict[str, object] = {}
            for flag in _FLAGS:
                t = obj.findtext(flag)
                if t is not None and t.strip() not in ("", "0"):
                    attrs[flag] = True
            pose = obj.findtext("pose")
            if pose and pose.strip() != "Unspecified":
                attrs["pose"] = pose.strip()
            for at in obj.findall("attributes/attribute"):
                key = at.findtext("name") or ""
                val = at.findtext("value") or ""
                attrs[key] = {"true": True, "false": False}.get(val, val)
            occluded = (obj.findtext("occluded") or "0").strip() not in ("", "0")
            ds.annotations.append(
                Annotation(im.id, "box", cat.id, g, attributes=attrs, occluded=occluded)
            )
            report.count("box", name)
    report.images = len(ds.images)
    return ds, report


def write(dataset: Dataset, out_dir: Path) -> LossReport:
    report = LossReport(NAME, "write")
    names = {c.id: c.name for c in dataset.categories}
    per: dict[int, list[Annotation]] = {}
    for a in dataset.iter_annotations():
        per.setdefault(a.image_id, []).append(a)
    (out_dir / "Annotations").mkdir(parents=True)
    (out_dir / "ImageSets" / "Main").mkdir(parents=True)
    lists: dict[str, list[str]] = {}
    for im in dataset.images:
        stem = str(safe_relpath(im.file_name, f"image {im.id}").with_suffix(""))
        lists.setdefault(im.split, []).append(stem)
        objs = []
        for a in per.get(im.id, []):
            ex = where(im.id, im.file_name, a.id)
            if a.type != "box":
                report.drop(f"{a.type}: no place in VOC detection", ex)
                continue
            g = a.geometry
            attrs = dict(a.attributes)
            flags = "".join(f"<{f}>{int(bool(attrs.pop(f, False)))}</{f}>" for f in _FLAGS)
            pose = attrs.pop("pose", "Unspecified")
            extra = "".join(
                f"<attribute><name>{escape(str(k))}</name>"
                f"<value>{escape(_text(v))}</value></attribute>"
                for k, v in attrs.items()
            )
            objs.append(
                f"  <object>\n    <name>{escape(names[a.label])}</name>\n"
                f"    <pose>{escape(str(pose))}</pose>\n"
                f"    {flags}<occluded>{int(a.occluded)}</occluded>\n"
                f"    <bndbox><xmin>{_num(g['x'])}</xmin><ymin>{_num(g['y'])}</ymin>"
                f"<xmax>{_num(g['x'] + g['w'])}</xmax>"
                f"<ymax>{_num(g['y'] + g['h'])}</ymax></bndbox>\n"
                + (f"    <attributes>{extra}</attributes>\n" if extra else "")
                + "  </object>\n"
            )
            report.count("box", names[a.label])
            for prop, bad in (
                ("score", a.score is not None),
                ("z_order", a.z_order),
                ("crowd flag", a.crowd),
            ):
                if bad:
                    report.drop(f"{prop}: no place in VOC", ex)
        xml = (
            "<annotation>\n  <folder>JPEGImages</folder>\n"
            f"  <filename>{escape(im.file_name)}</filename>\n"
            f"  <size><width>{im.width}</width><height>{im.height}</height>"
            "<depth>3</depth></size>\n"
            f"  <segmented>0</segmented>\n{''.join(objs)}</annotation>\n"
        )
        dst = out_dir / "Annotations" / f"{stem}.xml"
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(xml, encoding="utf-8")
        place_image(im, out_dir / "JPEGImages")
    for split, stems in lists.items():
        (out_dir / "ImageSets" / "Main" / f"{split}.txt").write_text(
            "\n".join(stems) + "\n", encoding="utf-8"
        )
    # Datumaro's label map: name:r,g,b:parts:actions, background first
    rows = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    for i, c in enumerate(dataset.categories, start=1):
        red, green, blue = c.color or ((i * 67) % 256, (i * 131) % 256, (i * 29) % 256)
        rows.append(f"{c.name}:{red},{green},{blue}::")
    (out_dir / "labelmap.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    report.images = len(dataset.images)
    return report


def _text(v: object) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)
