"""Write CVAT for images 1.1 XML; plain boxes from the columnar store are vectorised."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from labelproof.formats import _numfmt as nf
from labelproof.formats._cvat_rle import decode_coco, to_cvat
from labelproof.formats._media import place_image
from labelproof.formats.model import Annotation, Category, Dataset
from labelproof.formats.report import LossReport, where

_ATTR = {'"': "&quot;", "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"}


def q(text: Any) -> str:
    """Text escaped for an XML attribute value."""
    return escape(str(text), _ATTR)


def _c(v: float) -> str:
    return f"{v:.2f}"


def is_points_skeleton(cat: Category) -> bool:
    """A skeleton made from CVAT ``<points>`` (names p0..pn-1, no edges)."""
    s = cat.skeleton
    return (
        s is not None
        and not s.edges
        and s.keypoints == tuple(f"p{i}" for i in range(len(s.keypoints)))
    )


def _meta(ds: Dataset) -> str:
    out = ["  <meta>", "    <task>", f"      <name>{escape(ds.name or 'labelproof export')}</name>"]
    out += [
        f"      <size>{len(ds.images)}</size>",
        "      <mode>annotation</mode>",
        "      <labels>",
    ]
    for c in ds.categories:
        kind = "any"
        if c.skeleton is not None:
            kind = "points" if is_points_skeleton(c) else "skeleton"
        out += ["        <label>", f"          <name>{escape(c.name)}</name>"]
        if c.color is not None:
            out.append("          <color>#{:02x}{:02x}{:02x}</color>".format(*c.color))
        out.append(f"          <type>{kind}</type>")
        if c.attributes:
            out.append("          <attributes>")
            for a in c.attributes:
                out += [
                    "            <attribute>",
                    f"              <name>{escape(a.name)}</name>",
                    f"              <mutable>{'True' if a.mutable else 'False'}</mutable>",
                    f"              <input_type>{escape(a.kind)}</input_type>",
                    f"              <default_value>{escape(a.default)}</default_value>",
                    f"              <values>{escape(chr(10).join(a.values))}</values>",
                    "            </attribute>",
                ]
            out.append("          </attributes>")
        if kind == "skeleton" and c.skeleton is not None:
            lines = "".join(
                f'&lt;line data-type="edge" data-node-from="{i + 1}" data-node-to="{j + 1}"/&gt;'
                for i, j in c.skeleton.edges
            )
            out.append(f"          <svg>{lines}</svg>")
        out.append("        </label>")
        if kind == "skeleton" and c.skeleton is not None:
            for kp in c.skeleton.keypoints:
                out += [
                    "        <label>",
                    f"          <name>{escape(kp)}</name>",
                    "          <type>points</type>",
                    f"          <parent>{escape(c.name)}</parent>",
                    "        </label>",
                ]
    out += ["      </labels>", "    </task>", "  </meta>"]
    return "\n".join(out) + "\n"


def _common(a: Annotation, label: str) -> str:
    s = f'label="{q(label)}" source="{q(a.source)}" occluded="{int(a.occluded)}"'
    if a.type != "tag":
        s += f' z_order="{a.z_order}"'
    if a.group is not None:
        s += f' group_id="{a.group}"'
    return s


def _attrs(a: Annotation, indent: str) -> str:
    out = ""
    for k, v in a.attributes.items():
        text = ("true" if v else "false") if isinstance(v, bool) else str(v)
        out += f'{indent}<attribute name="{q(k)}">{escape(text)}</attribute>\n'
    return out


def _shape(a: Annotation, cat: Category, ds_im: Any, report: LossReport) -> str | None:
    g = a.geometry
    label = cat.name
    ex = where(ds_im.id, ds_im.file_name, a.id)
    head = _common(a, label)
    if a.type == "box":
        x1, y1 = g["x"] + g["w"], g["y"] + g["h"]
        body = f'xtl="{_c(g["x"])}" ytl="{_c(g["y"])}" xbr="{_c(x1)}" ybr="{_c(y1)}"'
        return f"    <box {head} {body}>\n{_attrs(a, '      ')}    </box>\n"
    if a.type == "rotated_box":
        x0, y0 = g["cx"] - g["w"] / 2, g["cy"] - g["h"] / 2
        body = f'xtl="{_c(x0)}" ytl="{_c(y0)}" xbr="{_c(x0 + g["w"])}" ybr="{_c(y0 + g["h"])}"'
        rot = g["angle"] % 360.0
        return f'    <box {head} {body} rotation="{_c(rot)}">\n{_attrs(a, "      ")}    </box>\n'
    if a.type in ("polygon", "polyline"):
        if a.type == "polygon" and g["holes"]:
            report.approx("polygon holes dropped (CVAT polygons have no holes)", ex)
        pts = ";".join(f"{_c(x)},{_c(y)}" for x, y in g["points"])
        return f'    <{a.type} {head} points="{pts}">\n{_attrs(a, "      ")}    </{a.type}>\n'
    if a.type == "mask":
        r = to_cvat(decode_coco(g["rle"]))
        if r is None:
            report.drop("empty mask (CVAT masks need a pixel)", ex)
            return None
        runs, left, top, w, h = r
        body = (
            f'rle="{", ".join(map(str, runs))}" left="{left}" top="{top}" width="{w}" height="{h}"'
        )
        return f"    <mask {head} {body}>\n{_attrs(a, '      ')}    </mask>\n"
    if a.type == "tag":
        if a.z_order:
            report.drop("z_order of a tag: CVAT tags have none", ex)
        return f"    <tag {head}>\n{_attrs(a, '      ')}    </tag>\n"
    if a.type == "keypoints" and cat.skeleton is not None:
        if is_points_skeleton(cat):
            lab = [p for p in g["points"] if p[2]]
            if len(lab) != len(g["points"]):
                report.approx("unlabelled points of a CVAT points shape dropped", ex)
            pts = ";".join(f"{_c(p[0])},{_c(p[1])}" for p in lab)
            return f'    <points {head} points="{pts}">\n{_attrs(a, "      ")}    </points>\n'
        if a.occluded:
            report.drop("occluded flag of a skeleton: CVAT keeps it per point", ex)
        out = f'    <skeleton label="{q(label)}" source="{q(a.source)}" z_order="{a.z_order}"'
        out += f' group_id="{a.group}">\n' if a.group is not None else ">\n"
        for name, p in zip(cat.skeleton.keypoints, g["points"], strict=True):
            out += (
                f'      <points label="{q(name)}" source="{q(a.source)}" '
                f'outside="{int(p[2] == 0)}" occluded="{int(p[2] == 1)}" '
                f'points="{_c(p[0])},{_c(p[1])}">\n      </points>\n'
            )
        return out + _attrs(a, "      ") + "    </skeleton>\n"
    report.drop(f"{a.type}: no place in CVAT for images", ex)
    return None


def write_cvat(ds: Dataset, out: Path, report: LossReport) -> None:
    cats = ds.category_by_id()
    box_text = _box_blocks(ds, report)
    per_image: dict[int, list[Annotation]] = defaultdict(list)
    for a in ds.annotations:
        per_image[a.image_id].append(a)
    images = ds.image_by_id()
    splits = ds.splits()
    with open(out / "annotations.xml", "wb") as f:
        f.write(
            b'<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n'
        )
        f.write(_meta(ds).encode())
        for im in ds.images:
            subset = f' subset="{q(im.split)}"' if len(splits) > 1 or im.split != "default" else ""
            f.write(
                f'  <image id="{im.id}" name="{q(im.file_name)}"{subset} '
                f'width="{im.width}" height="{im.height}">\n'.encode()
            )
            block = box_text.get(im.id)
            if block:
                f.write(block)
            for a in per_image.get(im.id, []):
                text = _shape(a, cats[a.label], images[a.image_id], report)
                if text is None:
                    continue
                f.write(text.encode())
                report.count(a.type, cats[a.label].name)
                _props(a, report, where(im.id, im.file_name, a.id))
            f.write(b"  </image>\n")
            place_image(im, out / "images")
        f.write(b"</annotations>\n")
    report.images += len(ds.images)


def _props(a: Annotation, report: LossReport, ex: str) -> None:
    if a.score is not None:
        report.drop("score: no place in CVAT for images", ex)
    if a.crowd:
        report.drop("crowd flag: no place in CVAT for images", ex)
    if a.track is not None:
        report.drop("track id: CVAT for images has no tracks", ex)


def _box_blocks(ds: Dataset, report: LossReport) -> dict[int, bytes]:
    b = ds.boxes
    out: dict[int, bytes] = {}
    if not len(b):
        return out
    cat_ids = np.array([c.id for c in ds.categories], np.int64)
    order = np.argsort(cat_ids)
    idx = order[np.searchsorted(cat_ids[order], b.label)]
    table = [q(c.name).encode() for c in ds.categories]
    rows = np.argsort(b.image_id, kind="stable")
    pieces: dict[int, list[bytes]] = defaultdict(list)
    step = 200_000
    for s in range(0, len(b), step):
        r = rows[s : s + step]
        n = len(r)
        x, y, w, h = (b.xywh[r, k] for k in range(4))
        parts: list[Any] = [
            b'    <box label="',
            nf.strings(table, idx[r]),
            b'" source="manual" occluded="0" z_order="0" xtl="',
            nf.fixed(x, 2),
            b'" ytl="',
            nf.fixed(y, 2),
            b'" xbr="',
            nf.fixed(x + w, 2),
            b'" ybr="',
            nf.fixed(y + h, 2),
            b'">\n    </box>\n',
        ]
        blob, ends = nf.join_lines(parts, n)
        img_r = b.image_id[r]
        cut = np.flatnonzero(np.diff(img_r)) + 1
        starts = np.concatenate([[0], cut]).tolist()
        stops = np.concatenate([cut, [n]]).tolist()
        offs = np.concatenate([[0], ends]).tolist()
        for a, z in zip(starts, stops, strict=True):
            pieces[int(img_r[a])].append(blob[offs[a] : offs[z]])
    for k, v in pieces.items():
        out[k] = b"".join(v)
    u, cnt = np.unique(b.label, return_counts=True)
    names = {c.id: c.name for c in ds.categories}
    for c, k in zip(u.tolist(), cnt.tolist(), strict=True):
        report.count("box", names[c], k)
    if b.crowd.any():
        report.drop("crowd flag: no place in CVAT for images", None, int(b.crowd.sum()))
    scored = int((~np.isnan(b.score)).sum())
    if scored:
        report.drop("score: no place in CVAT for images", None, scored)
    return out
