"""Write CVAT for images 1.1 XML; plain boxes from the columnar store are vectorised."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from labelproof.formats import _numfmt as nf
from labelproof.formats._box_order import BoxesByImage
from labelproof.formats._cvat_rle import decode_coco, to_cvat
from labelproof.formats._media import place_image
from labelproof.formats.model import Annotation, Category, Dataset
from labelproof.formats.report import LossReport, where

_ATTR = {'"': "&quot;", "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"}


_NEEDS_ESCAPE = re.compile(r'[&<>"\n\t\r]')


def escape(text: str, entities: dict[str, str] | None = None) -> str:
    """``&``, ``<``, ``>`` (and the keys of ``entities``) as XML entities; the same as
    ``xml.sax.saxutils.escape``, without importing it (it pulls in ``urllib``)."""
    s = text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    for key, value in (entities or {}).items():
        s = s.replace(key, value)
    return s


def q(text: Any) -> str:
    """Text escaped for an XML attribute value."""
    s = str(text)
    return escape(s, _ATTR) if _NEEDS_ESCAPE.search(s) else s


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
    """Write ``out/annotations.xml``, streamed in batches of images (bounded memory)."""
    cats = ds.category_by_id()
    boxes = _BoxLines(ds, report)
    per_image: dict[int, list[Annotation]] = defaultdict(list)
    for a in ds.annotations:
        per_image[a.image_id].append(a)
    splits = ds.splits()
    named_subset = len(splits) > 1 or splits[0] != "default"
    with open(out / "annotations.xml", "wb", buffering=0) as f:
        head = b'<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n'
        _write_all(f.fileno(), [head, _meta(ds).encode()])
        names = [im.file_name for im in ds.images]
        if _NEEDS_ESCAPE.search("".join(names)):  # one search for all names
            names = [q(n) for n in names]
        subsets = {s: f' subset="{q(s)}"' if named_subset else "" for s in splits}
        close = b"  </image>\n"
        for lo, hi in boxes.batches():
            view, offsets = boxes.text(lo, hi)
            parts: list[bytes | memoryview] = []
            for k, im in enumerate(ds.images[lo:hi]):
                parts.append(
                    f'  <image id="{im.id}" name="{names[lo + k]}"{subsets[im.split]} '
                    f'width="{im.width}" height="{im.height}">\n'.encode()
                )
                if offsets[k + 1] > offsets[k]:
                    parts.append(view[offsets[k] : offsets[k + 1]])
                for a in per_image.get(im.id, ()):
                    shape = _shape(a, cats[a.label], im, report)
                    if shape is None:
                        continue
                    parts.append(shape.encode())
                    report.count(a.type, cats[a.label].name)
                    _props(a, report, where(im.id, im.file_name, a.id))
                parts.append(close)
                if im.path is not None:
                    place_image(im, out / "images")
            _write_all(f.fileno(), parts)  # the rows straight from the matrix, no join
            del parts, view
        _write_all(f.fileno(), [b"</annotations>\n"])
    report.images += len(ds.images)


_IOV_MAX = 1024


def _write_all(fd: int, parts: list[bytes | memoryview]) -> None:
    """Write ``parts`` in order with ``os.writev`` (no joined copy), however the kernel
    splits the writes."""
    for at in range(0, len(parts), _IOV_MAX):
        group = parts[at : at + _IOV_MAX]
        left = sum(len(p) for p in group) - os.writev(fd, group)
        while left:  # a short write: the rest of the group's bytes, from where it stopped
            tail = b"".join(group)[-left:]
            left -= os.write(fd, tail)


def _props(a: Annotation, report: LossReport, ex: str) -> None:
    if a.score is not None:
        report.drop("score: no place in CVAT for images", ex)
    if a.crowd:
        report.drop("crowd flag: no place in CVAT for images", ex)
    if a.track is not None:
        report.drop("track id: CVAT for images has no tracks", ex)


class _BoxLines:
    """The columnar boxes as fixed-width ``<box>`` rows, grouped by image, made per batch.

    Rows are formatted with vectorised code (``_numfmt``): the label and the four
    coordinates are columns padded with spaces *between* attributes, so every row of a
    batch has the same width and the batch is one block of bytes, written with the image
    elements by ``os.writev`` straight from the matrix, with no per-box object.
    """

    ROWS_PER_BATCH = 32_768

    def __init__(self, ds: Dataset, report: LossReport) -> None:
        b = ds.boxes
        self.ds = ds
        self.order = BoxesByImage(ds, report)
        self.rows = nf.Rows()
        cat_ids = np.array([c.id for c in ds.categories], np.int64)
        cat_order = np.argsort(cat_ids)
        self.label_row = cat_order[np.searchsorted(cat_ids[cat_order], b.label)]
        table = [q(c.name).encode() + b'"' for c in ds.categories]
        width = max((len(t) for t in table), default=1)
        self.labels = np.full((max(1, len(table)), width), ord(" "), np.uint8)
        for i, t in enumerate(table):  # label then '"', padded with spaces (no NUL pass)
            self.labels[i, : len(t)] = np.frombuffer(t, np.uint8)
        kept = self.order.kept
        rows = self.label_row if self.order.identity else self.label_row[kept]
        counts = np.bincount(rows, minlength=len(ds.categories)).tolist()
        for c, k in zip(ds.categories, counts, strict=True):
            report.count("box", c.name, k)
        crowd = int(b.crowd.sum() if self.order.identity else b.crowd[kept].sum())
        if crowd:
            report.drop("crowd flag: no place in CVAT for images", None, crowd)
        score = b.score if self.order.identity else b.score[kept]
        scored = int((~np.isnan(score)).sum())
        if scored:
            report.drop("score: no place in CVAT for images", None, scored)

    def batches(self) -> list[tuple[int, int]]:
        """[(first image, end image)) index ranges of about ROWS_PER_BATCH boxes each."""
        return self.order.batches(self.ROWS_PER_BATCH)

    def text(self, lo: int, hi: int) -> tuple[memoryview, list[int]]:
        """(bytes of the rows of the boxes of images ``lo..hi-1``, byte offset of each
        image's rows (+ end)); a view of the row matrix, not a copy."""
        r = self.order.select(lo, hi)
        xywh = self.ds.boxes.xywh[r]
        n = xywh.shape[0]
        if n == 0:
            return memoryview(b""), [0] * (hi - lo + 1)
        x, y = xywh[:, 0], xywh[:, 1]
        matrix = self.rows.fill(
            [
                b'    <box label="',
                self.labels[self.label_row[r]],
                b' source="manual" occluded="0" z_order="0" xtl="',
                nf.quoted_left(x, 2),
                b' ytl="',
                nf.quoted_left(y, 2),
                b' xbr="',
                nf.quoted_left(x + xywh[:, 2], 2),
                b' ybr="',
                nf.quoted_left(y + xywh[:, 3], 2),
                b">\n    </box>\n",
            ],
            n,
        )
        width = matrix.shape[1]
        ends = np.arange(1, n + 1, dtype=np.int64) * width
        flat = memoryview(matrix.data).cast("B")  # (matrix is C-contiguous: no copy)
        return flat, self.order.line_starts(lo, hi, ends)
