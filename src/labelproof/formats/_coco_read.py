"""Read COCO instances/keypoints JSON into a :class:`Dataset`.

Plain boxes (no segmentation, keypoints or attributes) go to the columnar box store without
a Python object per annotation; everything else becomes :class:`Annotation` objects. Big
files are parsed in chunks (``_json_stream``) so peak memory stays near the file size.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelproof.annotypes import Skeleton
from labelproof.errors import InvalidDataset, InvalidInput
from labelproof.formats import _json_stream
from labelproof.formats._coco_fast import box_rows
from labelproof.formats._io import load_json
from labelproof.formats.model import BoxColumns, Category, Dataset, Image
from labelproof.formats.report import LossReport, where

BOX_KEYS = frozenset({"id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation"})
KNOWN_KEYS = BOX_KEYS | {"keypoints", "num_keypoints", "score", "attributes"}
EDGE_SLACK = 1.0
"""Shapes may stick out of the image by up to this many px (tool rounding); they are
clipped and reported. Further out is an error."""
CHUNKED_ABOVE = 4 << 20
"""Files above this size (bytes) are read in chunks (faster and smaller than one parse)."""


def _bad(path: Path, record: str, message: str) -> InvalidDataset:
    return InvalidDataset(f"{path}: {record}: {message}", field=record)


def _int(value: Any, path: Path, record: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(path, record, f"must be an integer, got {value!r}")
    return value


class _ImageFiles:
    """Which image files exist under ``root``: one directory listing, not a stat per image."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.names: set[str] = set()
        if root is not None:
            try:
                with os.scandir(root) as it:
                    self.names = {e.name for e in it if e.is_file()}
            except OSError:
                self.root = None

    def path(self, name: str) -> Path | None:
        """``root/name`` when that file exists (names with folders are checked one by one)."""
        if self.root is None:
            return None
        if "/" in name or "\\" in name or name in (".", ".."):
            p = self.root / name
            return p if p.is_file() else None
        return self.root / name if name in self.names else None


class CocoReader:
    """Reads one COCO JSON file (one split) into ``dataset``, appending."""

    def __init__(self, dataset: Dataset, report: LossReport) -> None:
        self.ds = dataset
        self.report = report
        self.cat_ids: dict[int, Category] = {c.id: c for c in dataset.categories}
        self.box_parts: list[BoxColumns] = []

    # -- top level ---------------------------------------------------------------------
    def read_file(self, path: Path, split: str, image_root: Path | None) -> None:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InvalidDataset(f"{path}: cannot read ({exc.strerror})", field=str(path)) from None
        if size > CHUNKED_ABOVE and self._read_chunked(path, split, image_root):
            return
        raw = path.read_bytes()
        doc = load_json(path, raw)
        del raw
        if not isinstance(doc, dict):
            raise InvalidDataset(f"{path}: a COCO file is a JSON object", field=str(path))
        anns = doc.get("annotations", [])
        self._header(doc, path, split, image_root)
        if not isinstance(anns, list):
            raise _bad(path, "annotations", "must be a JSON array")
        self._annotations(anns, path)

    def _read_chunked(self, path: Path, split: str, image_root: Path | None) -> bool:
        """Read ``path`` chunk by chunk from a memory map; False (nothing added) when the
        file does not have the expected shape, so the caller parses it whole."""
        mark = (len(self.box_parts), len(self.ds.annotations), len(self.ds.images))
        report_mark = copy.deepcopy(self.report)
        try:
            with _json_stream.MappedFile(path) as mapped:
                doc, spans = _json_stream.split_array(
                    mapped.raw, "annotations", release=mapped.release
                )
                self._header(doc, path, split, image_root)
                offset = 0
                for a, b in spans:
                    offset += self._chunk(mapped.raw[a:b], path, offset)
                    mapped.release(a, b)
            return True
        except _json_stream.NotChunkable:  # undo a partial read
            del self.box_parts[mark[0] :]
            del self.ds.annotations[mark[1] :]
            del self.ds.images[mark[2] :]
            self.report.__dict__.update(report_mark.__dict__)
            return False

    def _chunk(self, chunk: bytes, path: Path, offset: int) -> int:
        """Read one chunk of records (fast path first); returns how many it held."""
        cols = box_rows(chunk)
        if cols is not None:
            n = int(cols["x"].shape[0])
            ints: dict[str, NDArray[np.int64]] = {}
            for key in ("id", "image_id", "category_id", "iscrowd"):
                col = cols.get(key)
                if col is None:
                    ints[key] = np.full(n, -1 if key == "id" else 0, np.int64)
                    continue
                bad = col != np.floor(col)
                if bad.any():
                    k = int(np.argmax(bad))
                    raise _bad(
                        path,
                        f"annotations[{offset + k}].{key}",
                        f"must be an integer, got {col[k]}",
                    )
                ints[key] = col.astype(np.int64)
            xywh = np.stack([cols["x"], cols["y"], cols["w"], cols["h"]], axis=1)
            self._add_boxes(
                ints["image_id"],
                ints["category_id"],
                xywh,
                ints["id"],
                ints["iscrowd"],
                np.arange(offset, offset + n),
                path,
            )
            return n
        anns = _json_stream.parse_chunk(chunk)
        self._annotations(anns, path, offset)
        return len(anns)

    def _header(self, doc: Any, path: Path, split: str, image_root: Path | None) -> None:
        if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
            raise InvalidDataset(f"{path}: not a COCO file (no 'images' array)", field=str(path))
        for i, c in enumerate(doc.get("categories") or []):
            self._category(c, path, f"categories[{i}]")
        self.img_size: dict[int, tuple[int, int, str]] = {
            im.id: (im.width, im.height, im.file_name) for im in self.ds.images
        }
        files = _ImageFiles(image_root)
        for i, im in enumerate(doc["images"]):
            rec = f"images[{i}]"
            if not isinstance(im, dict):
                raise _bad(path, rec, "must be a JSON object")
            iid = _int(im.get("id"), path, f"{rec}.id")
            name = im.get("file_name")
            if not isinstance(name, str) or not name:
                raise _bad(path, f"{rec}.file_name", f"must be a non-empty string, got {name!r}")
            w = _int(im.get("width"), path, f"{rec}.width")
            h = _int(im.get("height"), path, f"{rec}.height")
            if w <= 0 or h <= 0:
                raise _bad(path, rec, f"width and height must be > 0, got {w}x{h}")
            if iid in self.img_size:
                raise _bad(path, f"{rec}.id", f"image id {iid} appears twice")
            self.img_size[iid] = (w, h, name)
            self.ds.images.append(Image(iid, name, w, h, split, files.path(name)))
        self.report.images += len(doc["images"])
        order = np.array(sorted(self.img_size), dtype=np.int64)
        self.img_order = order
        self.img_wh = np.array([self.img_size[i][:2] for i in order], np.float64).reshape(-1, 2)

    def _category(self, c: Any, path: Path, rec: str) -> None:
        if not isinstance(c, dict):
            raise _bad(path, rec, "must be a JSON object")
        cid = _int(c.get("id"), path, f"{rec}.id")
        name = c.get("name")
        if not isinstance(name, str) or not name:
            raise _bad(path, f"{rec}.name", f"must be a non-empty string, got {name!r}")
        skeleton = None
        if c.get("keypoints"):
            edges = [[a - 1, b - 1] for a, b in c.get("skeleton") or []]
            try:
                skeleton = Skeleton.from_json(
                    {"keypoints": c["keypoints"], "edges": edges, "name": name}, field=rec
                )
            except (InvalidInput, TypeError, ValueError) as exc:
                raise _bad(path, rec, f"bad skeleton: {exc}") from None
        current = self.cat_ids.get(cid)
        if current is not None:
            if current.name != name:
                raise _bad(path, f"{rec}.id", f"category id {cid} is {current.name!r} elsewhere")
            if skeleton is not None and current.skeleton is None:
                current.skeleton = skeleton
            return
        if any(x.name == name for x in self.ds.categories):
            raise _bad(path, f"{rec}.name", f"category name {name!r} appears twice")
        cat = Category(cid, name, skeleton, supercategory=str(c.get("supercategory") or ""))
        self.ds.categories.append(cat)
        self.cat_ids[cid] = cat

    # -- annotations -------------------------------------------------------------------
    def _annotations(self, anns: list[Any], path: Path, offset: int = 0) -> None:
        simple: list[int] = []
        for i, a in enumerate(anns):
            if (
                type(a) is dict
                and a.keys() <= BOX_KEYS
                and not a.get("segmentation")
                and "bbox" in a
            ):
                simple.append(i)
            else:
                self._general(a, path, offset + i)
        if simple:
            self._boxes([anns[i] for i in simple], [offset + i for i in simple], path)

    def _boxes(self, anns: list[dict[str, Any]], rows: list[int], path: Path) -> None:
        n = len(anns)
        try:
            xywh = np.array([a["bbox"] for a in anns], dtype=np.float64)
            img = np.array([a["image_id"] for a in anns], dtype=np.int64)
            cat = np.array([a["category_id"] for a in anns], dtype=np.int64)
            ids = np.array([a.get("id", -1) for a in anns], dtype=np.int64)
            crowd = np.array([a.get("iscrowd", 0) for a in anns], dtype=np.int64)
        except (KeyError, TypeError, ValueError, OverflowError):
            for i, a in zip(rows, anns, strict=True):  # find the record to name
                self._check_box_record(a, path, i)
            raise
        if xywh.shape != (n, 4):
            for i, a in zip(rows, anns, strict=True):
                self._check_box_record(a, path, i)
        self._add_boxes(img, cat, xywh, ids, crowd, np.asarray(rows), path)

    def _add_boxes(
        self,
        img: NDArray[np.int64],
        cat: NDArray[np.int64],
        xywh: NDArray[np.float64],
        ids: NDArray[np.int64],
        crowd: NDArray[np.int64],
        rows: NDArray[np.int64],
        path: Path,
    ) -> None:
        """Validate box columns (one row per record ``rows[i]``) and add them."""
        n = img.shape[0]
        pos = np.searchsorted(self.img_order, img)
        pos = np.minimum(pos, max(0, len(self.img_order) - 1))
        bad = (self.img_order[pos] != img) if len(self.img_order) else np.ones(n, bool)
        if bad.any():
            k = int(np.argmax(bad))
            raise _bad(path, f"annotations[{rows[k]}].image_id", f"unknown image id {img[k]}")
        cat_ok = np.isin(cat, np.array(list(self.cat_ids), np.int64))
        if not cat_ok.all():
            k = int(np.argmax(~cat_ok))
            raise _bad(path, f"annotations[{rows[k]}].category_id", f"unknown category {cat[k]}")
        wh = self.img_wh[pos]
        finite = np.isfinite(xywh).all(axis=1)
        pos_size = (xywh[:, 2] > 0) & (xywh[:, 3] > 0)
        if not (finite & pos_size).all():
            k = int(np.argmax(~(finite & pos_size)))
            raise _bad(
                path, f"annotations[{rows[k]}].bbox", f"w and h must be > 0, got {xywh[k].tolist()}"
            )
        x0, y0 = xywh[:, 0], xywh[:, 1]
        x1, y1 = x0 + xywh[:, 2], y0 + xywh[:, 3]
        out = (x0 < 0) | (y0 < 0) | (x1 > wh[:, 0]) | (y1 > wh[:, 1])
        if out.any():
            far = (
                (x0 < -EDGE_SLACK)
                | (y0 < -EDGE_SLACK)
                | (x1 > wh[:, 0] + EDGE_SLACK)
                | (y1 > wh[:, 1] + EDGE_SLACK)
            )
            if far.any():
                k = int(np.argmax(far))
                iw, ih = wh[k]
                raise _bad(
                    path,
                    f"annotations[{rows[k]}].bbox",
                    f"{xywh[k].tolist()} lies outside the image {int(iw)}x{int(ih)}",
                )
            nx0, ny0 = np.clip(x0, 0, wh[:, 0]), np.clip(y0, 0, wh[:, 1])
            nx1, ny1 = np.clip(x1, 0, wh[:, 0]), np.clip(y1, 0, wh[:, 1])
            xywh = np.stack([nx0, ny0, nx1 - nx0, ny1 - ny0], axis=1)
            for k in np.flatnonzero(out)[:5]:
                self.report.approx("shape clipped to the image", self._where(img[k], ids[k]))
            self.report.approx(
                "shape clipped to the image", None, int(out.sum()) - min(5, int(out.sum()))
            )
            degenerate = (xywh[:, 2] <= 0) | (xywh[:, 3] <= 0)
            if degenerate.any():
                k = int(np.argmax(degenerate))
                raise _bad(path, f"annotations[{rows[k]}].bbox", "has no area inside the image")
        self.box_parts.append(
            BoxColumns(img, cat, xywh, ids, np.full(n, np.nan), crowd.astype(bool))
        )
        names = {c.id: c.name for c in self.ds.categories}
        u, cnt = np.unique(cat, return_counts=True)
        self.report.count_many(
            "box", Counter({names[int(c)]: int(k) for c, k in zip(u, cnt, strict=True)})
        )

    def _where(self, image_id: Any, ann_id: Any) -> str:
        return where(int(image_id), self.img_size[int(image_id)][2], int(ann_id))

    def _check_box_record(self, a: dict[str, Any], path: Path, i: int) -> None:
        rec = f"annotations[{i}]"
        for key in ("image_id", "category_id"):
            _int(a.get(key), path, f"{rec}.{key}")
        b = a.get("bbox")
        if not (
            isinstance(b, list)
            and len(b) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in b)
        ):
            raise _bad(path, f"{rec}.bbox", f"must be [x, y, w, h] numbers, got {b!r}")
        _int(a.get("iscrowd", 0), path, f"{rec}.iscrowd")
        if "id" in a:
            _int(a["id"], path, f"{rec}.id")

    def _general(self, a: Any, path: Path, i: int) -> None:
        from labelproof.formats._coco_shapes import read_general

        read_general(self, a, path, i)

    def finish(self) -> None:
        self.ds.boxes = BoxColumns.concat([self.ds.boxes, *self.box_parts])
        self.box_parts = []
